/**
 * sha256 of chosen files of an image's layers, for finding duplicates. The layer index
 * (`readImageLayers`) has names and sizes only; contents need a second pass over the image export,
 * taken only when there are candidates (equal-sized files, see duplicates.ts). That pass streams:
 * memory is one hash state per file being read, and time is the export's read plus hashing the
 * candidates' bytes, which `duplicateCandidates` caps.
 *
 * Layers are recognised like layers.ts does: legacy `<id>/layer.tar` entries (whose digest is
 * known only once read), OCI blobs named by their digest, and gzip-compressed OCI blobs.
 */
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { absoluteLayerPath } from '../layer-tar.js';

export interface HashRequest {
  /** Layer holding the file (diff id, `sha256:…`). */
  diffId: string;
  path: string;
  size: number;
}

/** Key of a file's hash in the map `hashLayerFiles` returns. */
export function hashKey(diffId: string, path: string): string {
  return `${diffId}\n${path}`;
}

type TarEntry = tar.ExtractEvents['entry'][1];
const LEGACY_LAYER = /^(?:\.\/)?[0-9a-f]{64}\/layer\.tar$/;
const OCI_BLOB = /^(?:\.\/)?blobs\/sha256\/([0-9a-f]{64})$/;

/** What the export's layers are known to be (from `readImageLayers`): lets whole layers be skipped. */
export interface KnownLayer {
  diffId: string;
  tarBytes: number;
}

interface Wanted {
  /** `path\0size` of every requested file, whatever its layer. */
  shapes: Set<string>;
  /** Layers holding requested files. */
  diffIds: Set<string>;
  /** Every layer of the image, by diff id. */
  known: Set<string>;
  /** Diff id by tar size, for sizes only one layer has (a legacy entry's digest is known only once read). */
  bySize: Map<number, string>;
}

/**
 * Hashes the requested files; a file the export does not hold is simply absent from the result.
 * Layers known to hold no requested file are skipped unread.
 */
export async function hashLayerFiles(
  docker: Docker,
  image: string,
  requests: readonly HashRequest[],
  layers: readonly KnownLayer[] = [],
): Promise<Map<string, string>> {
  const keys = new Set(requests.map((request) => hashKey(request.diffId, request.path)));
  const wanted: Wanted = {
    shapes: new Set(requests.map((request) => `${request.path}\0${request.size}`)),
    diffIds: new Set(requests.map((request) => request.diffId)),
    known: new Set(layers.map((layer) => layer.diffId)),
    bySize: uniqueSizes(layers),
  };
  const hashes = new Map<string, string>();
  const source = await docker.getImage(image).get();
  const extract = tar.extract();
  source.on('error', (error: Error) => extract.destroy(error));
  source.pipe(extract as unknown as NodeJS.WritableStream);
  try {
    for await (const entry of extract) {
      const layer = await readLayerEntry(entry, wanted);
      for (const [path, hash] of layer?.hashes ?? []) {
        const key = hashKey(layer?.diffId ?? '', path);
        if (keys.has(key)) hashes.set(key, hash);
      }
    }
  } finally {
    (source as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
  return hashes;
}

function uniqueSizes(layers: readonly KnownLayer[]): Map<number, string> {
  const bySize = new Map<number, string | undefined>();
  for (const layer of layers) {
    const seen = bySize.get(layer.tarBytes);
    // Two different layers of one size: neither can be told by size.
    bySize.set(
      layer.tarBytes,
      bySize.has(layer.tarBytes) && seen !== layer.diffId ? undefined : layer.diffId,
    );
  }
  return new Map([...bySize].filter((entry): entry is [number, string] => entry[1] !== undefined));
}

interface LayerHashes {
  diffId: string;
  hashes: Map<string, string>;
}

async function readLayerEntry(entry: TarEntry, wanted: Wanted): Promise<LayerHashes | undefined> {
  const { name, type } = entry.header;
  const body = entry as AsyncIterable<Buffer>;
  const diffId = entryDiffId(entry.header, wanted);
  if (diffId !== undefined && wanted.diffIds.has(diffId))
    return scanLayer(body, wanted.shapes, diffId);
  if (diffId !== undefined && wanted.known.has(diffId)) {
    entry.resume(); // a layer with nothing to hash
    return undefined;
  }
  if (type === 'file' && LEGACY_LAYER.test(name)) return scanLayer(body, wanted.shapes);
  if (type === 'file' && OCI_BLOB.test(name)) return scanMaybeGzip(body, wanted.shapes);
  entry.resume();
  return undefined;
}

/** The layer an export entry is, when its name (OCI) or its size (legacy, when unique) says so. */
function entryDiffId(header: TarEntry['header'], wanted: Wanted): string | undefined {
  if (header.type !== 'file') return undefined;
  const blob = OCI_BLOB.exec(header.name)?.[1];
  if (blob !== undefined) return `sha256:${blob}`;
  return LEGACY_LAYER.test(header.name) ? wanted.bySize.get(header.size ?? -1) : undefined;
}

/** An OCI blob that is not named by a wanted diff id: a gzip layer, or config/manifest to skip. */
async function scanMaybeGzip(
  body: AsyncIterable<Buffer>,
  shapes: ReadonlySet<string>,
): Promise<LayerHashes | undefined> {
  const iterator = body[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return undefined;
  const rest = (async function* () {
    yield first.value;
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      yield next.value;
  })();
  if (!(first.value[0] === 0x1f && first.value[1] === 0x8b)) {
    for await (const chunk of rest) void chunk;
    return undefined;
  }
  const gunzip = createGunzip();
  // A failure reaches the reader through `gunzip`, which the pipeline destroys with the error.
  pipeline(rest, gunzip).catch(() => undefined);
  return scanLayer(gunzip, shapes);
}

/** Reads one layer tar: its digest (unless known) and the sha256 of each wanted (path, size). */
async function scanLayer(
  body: AsyncIterable<Buffer>,
  shapes: ReadonlySet<string>,
  knownDiffId?: string,
): Promise<LayerHashes> {
  const digest = knownDiffId === undefined ? createHash('sha256') : undefined;
  const extract = tar.extract();
  const feeding = feed(body, extract, digest);
  feeding.catch(() => undefined);
  const hashes = new Map<string, string>();
  for await (const entry of extract) {
    const { name, type, size } = entry.header;
    const path = absoluteLayerPath(name);
    if ((type === 'file' || type === 'contiguous-file') && shapes.has(`${path}\0${size ?? 0}`)) {
      const hash = createHash('sha256');
      for await (const chunk of entry as AsyncIterable<Buffer>) hash.update(chunk);
      hashes.set(path, hash.digest('hex'));
    } else {
      entry.resume();
    }
  }
  await feeding;
  return { diffId: knownDiffId ?? `sha256:${digest?.digest('hex') ?? ''}`, hashes };
}

async function feed(
  body: AsyncIterable<Buffer>,
  extract: tar.Extract,
  digest: ReturnType<typeof createHash> | undefined,
): Promise<void> {
  try {
    for await (const chunk of body) {
      digest?.update(chunk);
      if (!extract.write(chunk)) await drained(extract);
    }
    extract.end(undefined);
  } catch (error) {
    extract.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

/** Waits for `drain`; rejects when the parser closes first (a bad tar), so the feeder never hangs. */
function drained(stream: tar.Extract): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      stream.off('drain', onDrain);
      reject(new Error('a layer of the image export could not be parsed'));
    };
    stream.once('drain', onDrain);
    stream.once('close', onClose);
  });
}
