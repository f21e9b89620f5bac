/**
 * Reads one layer tar (an image layer diff) as it streams past: the files it adds or changes, the
 * paths it deletes (`.wh.<name>` whiteouts), the directories it makes opaque (`.wh..wh..opq`), and
 * the sha256 of every regular file of {@link HASHED_MIN_BYTES} or more (what duplicate findings
 * compare; hashing them here spares a second read of the export). Bodies are never kept.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import tar from 'tar-stream';

/** One entry of a layer tar, as the index keeps it. */
export interface FileEntry {
  /** Absolute POSIX path, no trailing slash. */
  path: string;
  /** Bytes of a regular file; 0 for everything else, hardlinks included (counted at the target). */
  size: number;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  mode: number;
  /** Symlink target as written; for a hardlink the absolute path of the file it shares. */
  linkTarget?: string;
}

/** Regular files this big or bigger get a content hash (smaller duplicates are not worth a finding). */
export const HASHED_MIN_BYTES = 64 * 1024;

export interface LayerIndex {
  files: FileEntry[];
  whiteouts: string[];
  opaqueDirs: string[];
  /** sha256 (hex) of the content of each regular file of HASHED_MIN_BYTES or more, by path. */
  hashes: Map<string, string>;
}

export type LayerEntryMeaning =
  | { kind: 'entry'; entry: FileEntry }
  | { kind: 'whiteout'; path: string }
  | { kind: 'opaque'; path: string }
  | { kind: 'skip' };

type HeaderFields = Pick<tar.Header, 'name' | 'type' | 'size' | 'mode'> & {
  linkname?: string | null;
};

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
/** Top-level `.wh..wh.` entries are aufs bookkeeping (the plink dir), not image content. */
const AUFS_META_PREFIX = '/.wh..wh.';

/** `usr/bin/`, `./usr/bin` -> `/usr/bin`; the root itself -> `/`. */
export function absoluteLayerPath(name: string): string {
  const normal = path.posix.normalize(`/${name}`);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

export function describeLayerEntry(header: HeaderFields): LayerEntryMeaning {
  const absolute = absoluteLayerPath(header.name);
  if (absolute === '/') return { kind: 'skip' };
  const base = path.posix.basename(absolute);
  const dir = path.posix.dirname(absolute);
  if (base === OPAQUE_MARKER) return { kind: 'opaque', path: dir };
  if (absolute.startsWith(AUFS_META_PREFIX)) return { kind: 'skip' };
  if (base.startsWith(WHITEOUT_PREFIX)) {
    return { kind: 'whiteout', path: path.posix.join(dir, base.slice(WHITEOUT_PREFIX.length)) };
  }
  const mode = header.mode & 0o7777;
  switch (header.type) {
    case 'file':
    case 'contiguous-file':
      return { kind: 'entry', entry: { path: absolute, size: header.size, type: 'file', mode } };
    case 'directory':
      return { kind: 'entry', entry: { path: absolute, size: 0, type: 'dir', mode } };
    case 'symlink':
      return {
        kind: 'entry',
        entry: {
          path: absolute,
          size: 0,
          type: 'symlink',
          mode,
          linkTarget: header.linkname ?? '',
        },
      };
    case 'link': {
      // A hardlink names another entry of the same archive; its data is counted there.
      const linkTarget = absoluteLayerPath(header.linkname ?? '');
      return {
        kind: 'entry',
        entry: { path: absolute, size: 0, type: 'hardlink', mode, linkTarget },
      };
    }
    default:
      return { kind: 'entry', entry: { path: absolute, size: 0, type: 'other', mode } };
  }
}

/** Push a layer tar's bytes in with `write`, then `end` gives its index. */
export class LayerIndexer {
  private readonly extract = tar.extract();
  private readonly index: LayerIndex = {
    files: [],
    whiteouts: [],
    opaqueDirs: [],
    hashes: new Map(),
  };
  private readonly consumed: Promise<void>;

  constructor() {
    this.consumed = this.consume();
    // Parse errors surface from `end`; until then keep Node from calling them unhandled.
    this.consumed.catch(() => undefined);
  }

  async write(chunk: Buffer): Promise<void> {
    if (!this.extract.write(chunk)) await writable(this.extract);
  }

  async end(): Promise<LayerIndex> {
    this.extract.end(undefined);
    await this.consumed;
    return this.index;
  }

  /** Stops parsing (the layer stream failed); `end` is not called then. */
  destroy(error: Error): void {
    this.extract.destroy(error);
  }

  private async consume(): Promise<void> {
    for await (const entry of this.extract) {
      const meaning = describeLayerEntry(entry.header);
      this.record(meaning);
      if (meaning.kind === 'entry' && isHashed(meaning.entry)) {
        const hash = createHash('sha256');
        // A tar entry yields the Buffers of its body (streamx types them as unknown).
        for await (const chunk of entry as AsyncIterable<Buffer>) hash.update(chunk);
        this.index.hashes.set(meaning.entry.path, hash.digest('hex'));
      } else {
        entry.resume();
      }
    }
  }

  private record(meaning: LayerEntryMeaning): void {
    if (meaning.kind === 'entry') this.index.files.push(meaning.entry);
    else if (meaning.kind === 'whiteout') this.index.whiteouts.push(meaning.path);
    else if (meaning.kind === 'opaque') this.index.opaqueDirs.push(meaning.path);
  }
}

function isHashed(entry: FileEntry): boolean {
  return entry.type === 'file' && entry.size >= HASHED_MIN_BYTES;
}

/** Waits for `drain`; rejects if the parser closes first (bad tar), so writers never hang. */
function writable(stream: tar.Extract): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      stream.off('drain', onDrain);
      reject(new Error('the layer tar could not be parsed'));
    };
    stream.once('drain', onDrain);
    stream.once('close', onClose);
  });
}
