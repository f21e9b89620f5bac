/**
 * Compressed layer sizes by diffId, one small JSON file per layer (`<cacheDir>/<hex>.json`), so
 * a layer is gzipped once across measurements, runs and (via the Actions cache) workflow runs.
 * A diffId names the layer's exact bytes, so a record never goes stale; a record whose fields do
 * not fit is ignored, and writes are atomic so concurrent runs never read half a file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GZIP_LEVEL } from './compress.js';

export interface CompressedSizeRecord {
  diffId: string;
  tarBytes: number;
  compressed: number;
  level: number;
}

const DIGEST = /^sha256:([0-9a-f]{64})$/;

function recordPath(cacheDir: string, diffId: string): string | undefined {
  const hex = DIGEST.exec(diffId)?.[1];
  return hex === undefined ? undefined : path.join(cacheDir, `${hex}.json`);
}

export async function readCachedSizes(
  cacheDir: string,
  diffIds: Iterable<string>,
): Promise<Map<string, CompressedSizeRecord>> {
  const records = new Map<string, CompressedSizeRecord>();
  for (const diffId of new Set(diffIds)) {
    const file = recordPath(cacheDir, diffId);
    if (file === undefined) continue;
    const record = parseRecord(await readFile(file, 'utf8').catch(() => ''), diffId);
    if (record) records.set(diffId, record);
  }
  return records;
}

function parseRecord(text: string, diffId: string): CompressedSizeRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Partial<CompressedSizeRecord>;
  const sizes = [record.tarBytes, record.compressed];
  const fits =
    record.diffId === diffId &&
    record.level === GZIP_LEVEL &&
    sizes.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n > 0);
  return fits ? (record as CompressedSizeRecord) : undefined;
}

export async function writeCachedSize(
  cacheDir: string,
  record: CompressedSizeRecord,
): Promise<void> {
  const file = recordPath(cacheDir, record.diffId);
  if (file === undefined) return;
  await mkdir(cacheDir, { recursive: true });
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, `${JSON.stringify(record)}\n`);
  await rename(temporary, file);
}
