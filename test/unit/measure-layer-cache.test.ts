import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  readLayerRecords,
  writeLayerRecord,
  type LayerRecord,
} from '../../src/measure/layer-cache.js';

const hex = 'ab'.repeat(32);
const diffId = `sha256:${hex}`;

const indexed: LayerRecord = {
  diffId,
  tarBytes: 4096,
  compressed: 300,
  index: {
    files: [
      { path: '/app', size: 0, type: 'dir', mode: 0o755 },
      { path: '/app/lib.so', size: 70_000, type: 'file', mode: 0o644 },
      { path: '/app/link', size: 0, type: 'symlink', mode: 0o777, linkTarget: 'lib.so' },
      { path: '/app/same', size: 0, type: 'hardlink', mode: 0o644, linkTarget: '/app/lib.so' },
      { path: '/app/empty-link', size: 0, type: 'symlink', mode: 0o777, linkTarget: '' },
    ],
    whiteouts: ['/app/old.txt'],
    opaqueDirs: ['/cache'],
    hashes: new Map([['/app/lib.so', 'cd'.repeat(32)]]),
  },
};

describe('layer cache', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'slimpy-layer-cache-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('returns what was written, as <hex>.json, leaving no temporary files', async () => {
    const record = { diffId, tarBytes: 2048, compressed: 300 };
    await writeLayerRecord(path.join(dir, 'nested'), record);
    expect(await readdir(path.join(dir, 'nested'))).toEqual([`${hex}.json`]);
    const records = await readLayerRecords(path.join(dir, 'nested'), [diffId, diffId]);
    expect([...records.values()]).toEqual([record]);
  });

  it('keeps a layer’s index: files, links, whiteouts, opaque directories and content hashes', async () => {
    await writeLayerRecord(dir, indexed);
    expect((await readLayerRecords(dir, [diffId])).get(diffId)).toEqual(indexed);
  });

  it('reads the records of the first cache format (sizes only), and they read ours', async () => {
    const first = { diffId, tarBytes: 2048, compressed: 300, level: 6 };
    await writeFile(path.join(dir, `${hex}.json`), JSON.stringify(first));
    const records = await readLayerRecords(dir, [diffId]);
    expect(records.get(diffId)).toEqual({ diffId, tarBytes: 2048, compressed: 300 });
    await writeLayerRecord(dir, indexed);
    // What the first format's reader checks: these four fields, unchanged.
    const text = JSON.parse(await readFileText(path.join(dir, `${hex}.json`))) as object;
    expect(text).toMatchObject({ diffId, tarBytes: 4096, compressed: 300, level: 6 });
  });

  it.each([
    ['not JSON', '{'],
    [
      'another layer’s record',
      JSON.stringify({ diffId: `sha256:${'cd'.repeat(32)}`, tarBytes: 1, compressed: 1, level: 6 }),
    ],
    ['a missing tar size', JSON.stringify({ diffId, compressed: 1, level: 6 })],
  ])('ignores a record with %s', async (_why, text) => {
    await writeFile(path.join(dir, `${hex}.json`), text);
    expect((await readLayerRecords(dir, [diffId])).size).toBe(0);
  });

  it.each([
    ['another gzip level', { level: 9 }, { index: true, compressed: false }],
    ['a missing compressed size', { compressed: undefined }, { index: true, compressed: false }],
    ['an index of another format', { format: 2 }, { index: false, compressed: true }],
    [
      'a file row that does not fit',
      { row: ['/x', -1, 'f', 420] },
      { index: false, compressed: true },
    ],
    ['a hash that is not sha256', { hash: 'xyz' }, { index: false, compressed: true }],
  ])('keeps only what fits of a record with %s', async (_why, change, kept) => {
    await writeLayerRecord(dir, indexed);
    const file = path.join(dir, `${hex}.json`);
    const stored = JSON.parse(await readFileText(file)) as Record<string, unknown> & {
      index: { format: number; files: unknown[]; hashes: Record<string, string> };
    };
    if ('level' in change) stored.level = change.level;
    if ('compressed' in change) delete stored.compressed;
    if ('format' in change) stored.index.format = change.format;
    if ('row' in change) stored.index.files.push(change.row);
    if ('hash' in change) stored.index.hashes['/app/lib.so'] = change.hash;
    await writeFile(file, JSON.stringify(stored));
    const record = (await readLayerRecords(dir, [diffId])).get(diffId);
    expect(record?.tarBytes).toBe(4096);
    expect(record?.index !== undefined).toBe(kept.index);
    expect(record?.compressed !== undefined).toBe(kept.compressed);
  });

  it('treats a missing directory as empty', async () => {
    expect((await readLayerRecords(path.join(dir, 'none'), [diffId, 'not-a-digest'])).size).toBe(0);
  });
});

function readFileText(file: string): Promise<string> {
  return readFile(file, 'utf8');
}
