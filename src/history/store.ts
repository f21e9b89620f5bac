/**
 * Where the size history lives: a key-value store of directories with the Actions cache's
 * semantics (immutable entries; lookup by the key exactly, then as a prefix, newest first, then by
 * each restore key the same way). The action uses the Actions cache (`actions-cache.ts`), the CLI a
 * local directory (this file).
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

export interface CacheStore {
  /** Names the store in log lines: `the Actions cache`, `history directory .slimpy/history`. */
  readonly name: string;
  /** Why the store cannot be used at all (no service configured), or undefined when it can. */
  whyUnavailable(): string | undefined;
  /**
   * Restores the first matching entry into `paths` (merged into what is there). Returns the
   * matched key, or undefined when nothing matched. Throws when the store cannot be read.
   */
  restore(paths: string[], key: string, restoreKeys: string[]): Promise<string | undefined>;
  /**
   * Saves `paths` under `key`: `exists` when the key is taken (entries are immutable: the first
   * save wins). Throws when the entry could not be saved.
   */
  save(paths: string[], key: string): Promise<SaveOutcome>;
}

export type SaveOutcome = 'saved' | 'exists';

/** An entry's key, its paths and when it was saved, as a lookup sees it. */
export interface StoredKey {
  key: string;
  /** Milliseconds; newer entries win among prefix matches. */
  createdAt: number;
}

/** The Actions cache's lookup order over the entries saved for the same paths. */
export function matchKey(
  entries: StoredKey[],
  key: string,
  restoreKeys: string[],
): string | undefined {
  for (const wanted of [key, ...restoreKeys]) {
    if (entries.some((entry) => entry.key === wanted)) return wanted;
    const newest = entries
      .filter((entry) => entry.key.startsWith(wanted))
      .sort((a, b) => b.createdAt - a.createdAt)[0];
    if (newest) return newest.key;
  }
  return undefined;
}

interface LocalManifest extends StoredKey {
  paths: string[];
}

const MANIFEST = 'manifest.json';

/**
 * A history directory for the CLI: `<dir>/<key>/manifest.json` and `<dir>/<key>/files/<n>`, a copy
 * of the n-th saved path. An entry is only found for the same list of paths (as the Actions cache
 * ties an entry to its paths), and is written under a temporary name and renamed into place.
 */
export class LocalDirectoryStore implements CacheStore {
  readonly name: string;

  constructor(readonly dir: string) {
    this.name = `history directory ${dir}`;
  }

  whyUnavailable(): string | undefined {
    return undefined;
  }

  async restore(paths: string[], key: string, restoreKeys: string[]): Promise<string | undefined> {
    const manifests = (await this.manifests()).filter((m) => samePaths(m.paths, paths));
    const matched = matchKey(manifests, key, restoreKeys);
    if (matched === undefined) return undefined;
    const files = path.join(this.entryDir(matched), 'files');
    for (const [index, target] of paths.entries()) {
      const source = path.join(files, String(index));
      if (!(await exists(source))) continue;
      await mkdir(path.dirname(target), { recursive: true });
      await cp(source, target, { recursive: true, force: true });
    }
    return matched;
  }

  async save(paths: string[], key: string): Promise<SaveOutcome> {
    if (await exists(this.entryDir(key))) return 'exists';
    const present = await Promise.all(paths.map(exists));
    if (!present.some(Boolean)) {
      throw new Error(`none of ${paths.join(', ')} exists; nothing to save under ${key}`);
    }
    await mkdir(this.dir, { recursive: true });
    const temporary = path.join(this.dir, `.tmp-${randomBytes(6).toString('hex')}`);
    try {
      for (const [index, source] of paths.entries()) {
        if (present[index])
          await cp(source, path.join(temporary, 'files', String(index)), { recursive: true });
      }
      const manifest: LocalManifest = {
        key,
        paths,
        createdAt: performance.timeOrigin + performance.now(),
      };
      await writeFile(path.join(temporary, MANIFEST), `${JSON.stringify(manifest)}\n`);
      await rename(temporary, this.entryDir(key));
      return 'saved';
    } catch (error) {
      // Another run saved the same key first: entries are immutable, theirs stays.
      if (isCode(error, 'EEXIST') || isCode(error, 'ENOTEMPTY')) return 'exists';
      throw error;
    } finally {
      await rm(temporary, { recursive: true, force: true });
    }
  }

  private entryDir(key: string): string {
    return path.join(this.dir, encodeURIComponent(key));
  }

  private async manifests(): Promise<LocalManifest[]> {
    const names = await readdir(this.dir).catch((error: unknown) => {
      if (isCode(error, 'ENOENT')) return [] as string[];
      throw error;
    });
    const manifests: LocalManifest[] = [];
    for (const name of names.filter((n) => !n.startsWith('.'))) {
      const text = await readFile(path.join(this.dir, name, MANIFEST), 'utf8').catch(() => '');
      const manifest = parseManifest(text);
      if (manifest) manifests.push(manifest);
    }
    return manifests;
  }
}

function parseManifest(text: string): LocalManifest | undefined {
  try {
    const value = JSON.parse(text) as Partial<LocalManifest>;
    const fits =
      typeof value.key === 'string' &&
      typeof value.createdAt === 'number' &&
      Array.isArray(value.paths) &&
      value.paths.every((p) => typeof p === 'string');
    return fits ? (value as LocalManifest) : undefined;
  } catch {
    return undefined;
  }
}

function samePaths(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((p, i) => path.resolve(p) === path.resolve(b[i] ?? ''));
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
