/**
 * What slimpy knows about a layer, by diffId, one small JSON file per layer (`<cacheDir>/<hex>.json`):
 * its tar size, its gzip -6 size, and its index (files, whiteouts, opaque directories, content
 * hashes of the larger files). A layer read once is never read again: not by the next measurement
 * of this run, nor by a later run, nor (through the Actions cache) by a later workflow run.
 *
 * A diffId names the layer's exact bytes, so a record never goes stale. A record whose fields do
 * not fit is ignored, an index that does not fit is ignored alone (the layer is read again), and
 * writes are atomic so concurrent runs never read half a file. The size fields are the ones the
 * first version of this cache wrote (sizes only): those records still give their sizes, and
 * records written now still give sizes to that version.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GZIP_LEVEL } from './compress.js';
import type { FileEntry, LayerIndex } from './layer-tar.js';

export interface LayerRecord {
  diffId: string;
  tarBytes: number;
  /** gzip -6 size of the layer tar; undefined when it was read without compressing. */
  compressed?: number;
  /** Digest (`sha256:…`) of the gzip blob the layer came as in an export, when it came as one. */
  blob?: string;
  index?: LayerIndex;
}

/** Version of the stored index: a record with another one is read as having no index. */
const INDEX_FORMAT = 1;
const DIGEST = /^sha256:([0-9a-f]{64})$/;
const TYPE_CODES: Record<FileEntry['type'], string> = {
  file: 'f',
  dir: 'd',
  symlink: 'l',
  hardlink: 'h',
  other: 'o',
};
const TYPES_BY_CODE = new Map(
  Object.entries(TYPE_CODES).map(([type, code]) => [code, type as FileEntry['type']]),
);

/** On disk: the files as `[path, size, type code, mode, link target?]`, about half the JSON. */
type StoredFile = [string, number, string, number] | [string, number, string, number, string];

interface StoredIndex {
  format: number;
  files: StoredFile[];
  whiteouts: string[];
  opaqueDirs: string[];
  hashes: Record<string, string>;
}

interface StoredRecord {
  diffId: string;
  tarBytes: number;
  compressed?: number;
  level?: number;
  blob?: string;
  index?: StoredIndex;
}

function recordPath(cacheDir: string, diffId: string): string | undefined {
  const hex = DIGEST.exec(diffId)?.[1];
  return hex === undefined ? undefined : path.join(cacheDir, `${hex}.json`);
}

/** The records the cache holds for these layers (missing and unreadable ones are left out). */
export async function readLayerRecords(
  cacheDir: string,
  diffIds: Iterable<string>,
): Promise<Map<string, LayerRecord>> {
  const records = new Map<string, LayerRecord>();
  for (const diffId of new Set(diffIds)) {
    const file = recordPath(cacheDir, diffId);
    if (file === undefined) continue;
    const record = parseRecord(await readFile(file, 'utf8').catch(() => ''), diffId);
    if (record) records.set(diffId, record);
  }
  return records;
}

export async function writeLayerRecord(cacheDir: string, record: LayerRecord): Promise<void> {
  const file = recordPath(cacheDir, record.diffId);
  if (file === undefined) return;
  await mkdir(cacheDir, { recursive: true });
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, `${JSON.stringify(storedRecord(record))}\n`);
  await rename(temporary, file);
}

function storedRecord(record: LayerRecord): StoredRecord {
  const stored: StoredRecord = { diffId: record.diffId, tarBytes: record.tarBytes };
  if (record.compressed !== undefined) {
    stored.compressed = record.compressed;
    stored.level = GZIP_LEVEL;
  }
  if (record.blob !== undefined) stored.blob = record.blob;
  if (record.index) stored.index = storedIndex(record.index);
  return stored;
}

function storedIndex(index: LayerIndex): StoredIndex {
  return {
    format: INDEX_FORMAT,
    files: index.files.map((file): StoredFile => {
      const row: StoredFile = [file.path, file.size, TYPE_CODES[file.type], file.mode];
      return file.linkTarget === undefined ? row : [...row, file.linkTarget];
    }),
    whiteouts: index.whiteouts,
    opaqueDirs: index.opaqueDirs,
    hashes: Object.fromEntries(index.hashes),
  };
}

function parseRecord(text: string, diffId: string): LayerRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  const stored = value as Partial<StoredRecord>;
  if (stored.diffId !== diffId || !isCount(stored.tarBytes) || stored.tarBytes === 0)
    return undefined;
  const record: LayerRecord = { diffId, tarBytes: stored.tarBytes };
  if (stored.level === GZIP_LEVEL && isCount(stored.compressed) && stored.compressed > 0)
    record.compressed = stored.compressed;
  if (typeof stored.blob === 'string' && DIGEST.test(stored.blob)) record.blob = stored.blob;
  const index = parseIndex(stored.index);
  if (index) record.index = index;
  return record;
}

function parseIndex(value: unknown): LayerIndex | undefined {
  if (!isObject(value)) return undefined;
  const stored = value as Partial<StoredIndex>;
  if (stored.format !== INDEX_FORMAT) return undefined;
  if (!Array.isArray(stored.files) || !isStringList(stored.whiteouts)) return undefined;
  if (!isStringList(stored.opaqueDirs) || !isObject(stored.hashes)) return undefined;
  const files: FileEntry[] = [];
  for (const row of stored.files as unknown[]) {
    const file = parseFile(row);
    if (!file) return undefined;
    files.push(file);
  }
  const hashes = new Map<string, string>();
  for (const [file, hash] of Object.entries(stored.hashes)) {
    if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) return undefined;
    hashes.set(file, hash);
  }
  return { files, whiteouts: stored.whiteouts, opaqueDirs: stored.opaqueDirs, hashes };
}

function parseFile(row: unknown): FileEntry | undefined {
  if (!Array.isArray(row) || row.length < 4 || row.length > 5) return undefined;
  const [file, size, code, mode, linkTarget] = row as unknown[];
  const type = typeof code === 'string' ? TYPES_BY_CODE.get(code) : undefined;
  if (typeof file !== 'string' || !isCount(size) || !isCount(mode) || type === undefined)
    return undefined;
  if (linkTarget !== undefined && typeof linkTarget !== 'string') return undefined;
  const entry: FileEntry = { path: file, size, type, mode };
  if (linkTarget !== undefined) entry.linkTarget = linkTarget;
  return entry;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
