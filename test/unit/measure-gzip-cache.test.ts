import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCachedSizes, writeCachedSize } from '../../src/measure/gzip-cache.js';

const hex = 'ab'.repeat(32);
const diffId = `sha256:${hex}`;

describe('compressed size cache', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'slimpy-gzcache-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('returns what was written, as <hex>.json, leaving no temporary files', async () => {
    const record = { diffId, tarBytes: 2048, compressed: 300, level: 6 };
    await writeCachedSize(path.join(dir, 'nested'), record);
    expect(await readdir(path.join(dir, 'nested'))).toEqual([`${hex}.json`]);
    const records = await readCachedSizes(path.join(dir, 'nested'), [diffId, diffId]);
    expect([...records.values()]).toEqual([record]);
  });

  it.each([
    ['not JSON', '{'],
    [
      'another layer’s record',
      JSON.stringify({ diffId: `sha256:${'cd'.repeat(32)}`, tarBytes: 1, compressed: 1, level: 6 }),
    ],
    ['another gzip level', JSON.stringify({ diffId, tarBytes: 1, compressed: 1, level: 9 })],
    ['a missing size', JSON.stringify({ diffId, tarBytes: 1, level: 6 })],
  ])('ignores a record with %s', async (_why, text) => {
    await writeFile(path.join(dir, `${hex}.json`), text);
    expect((await readCachedSizes(dir, [diffId])).size).toBe(0);
  });

  it('treats a missing directory as empty', async () => {
    expect((await readCachedSizes(path.join(dir, 'none'), [diffId, 'not-a-digest'])).size).toBe(0);
  });
});
