import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import {
  absoluteLayerPath,
  describeLayerEntry,
  LayerIndexer,
} from '../../src/measure/layer-tar.js';

const header = { size: 0, mode: 0o644, type: 'file' as const };

describe('describeLayerEntry', () => {
  it.each([
    ['usr/bin/', '/usr/bin'],
    ['./usr/bin', '/usr/bin'],
    ['/etc/passwd', '/etc/passwd'],
    ['./', '/'],
  ])('reads %j as %j', (name, absolute) => {
    expect(absoluteLayerPath(name)).toBe(absolute);
  });

  it.each([
    ['app/.wh.old.txt', { kind: 'whiteout', path: '/app/old.txt' }],
    ['.wh.tmp', { kind: 'whiteout', path: '/tmp' }],
    ['app/cache/.wh..wh..opq', { kind: 'opaque', path: '/app/cache' }],
    ['.wh..wh.plnk/1234.5', { kind: 'skip' }],
    ['.wh..wh.plnk', { kind: 'skip' }],
    ['./', { kind: 'skip' }],
  ])('reads %j as a %j', (name, meaning) => {
    expect(describeLayerEntry({ ...header, name })).toEqual(meaning);
  });

  it('keeps sizes of files only and makes hardlink targets absolute', () => {
    expect(describeLayerEntry({ name: 'a/f', type: 'file', size: 12, mode: 0o100755 })).toEqual({
      kind: 'entry',
      entry: { path: '/a/f', size: 12, type: 'file', mode: 0o755 },
    });
    expect(
      describeLayerEntry({ name: 'a/h', type: 'link', size: 0, mode: 0o644, linkname: 'a/f' }),
    ).toEqual({
      kind: 'entry',
      entry: { path: '/a/h', size: 0, type: 'hardlink', mode: 0o644, linkTarget: '/a/f' },
    });
    expect(
      describeLayerEntry({ name: 'a/s', type: 'symlink', size: 0, mode: 0o777, linkname: '../f' }),
    ).toMatchObject({ entry: { type: 'symlink', linkTarget: '../f' } });
    expect(
      describeLayerEntry({ name: 'dev/null', type: 'character-device', size: 0, mode: 0o666 }),
    ).toMatchObject({ entry: { type: 'other', size: 0 } });
  });
});

async function layerTar(
  entries: Array<{ name: string; type?: 'directory' | 'file'; body?: string }>,
): Promise<Buffer> {
  const pack = tar.pack();
  for (const { name, type = 'file', body = '' } of entries) {
    if (type === 'directory') pack.entry({ name, type });
    else pack.entry({ name, type }, body);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('LayerIndexer', () => {
  it('indexes a layer tar fed in odd-sized pieces, skipping bodies', async () => {
    const bytes = await layerTar([
      { name: 'app/', type: 'directory' },
      { name: 'app/big.bin', body: 'x'.repeat(100_000) },
      { name: 'app/.wh.gone.py' },
      { name: 'var/cache/.wh..wh..opq' },
      { name: `deep/${'n'.repeat(150)}/file.txt`, body: 'long names use pax headers' },
    ]);
    const indexer = new LayerIndexer();
    for (let offset = 0; offset < bytes.length; offset += 777) {
      await indexer.write(bytes.subarray(offset, offset + 777));
    }
    const index = await indexer.end();
    expect(index.files.map((f) => [f.path, f.type, f.size])).toEqual([
      ['/app', 'dir', 0],
      ['/app/big.bin', 'file', 100_000],
      [`/deep/${'n'.repeat(150)}/file.txt`, 'file', 26],
    ]);
    expect(index.whiteouts).toEqual(['/app/gone.py']);
    expect(index.opaqueDirs).toEqual(['/var/cache']);
  });

  it('fails on bytes that are not a tar', async () => {
    const indexer = new LayerIndexer();
    const run = async (): Promise<unknown> => {
      await indexer.write(Buffer.alloc(4096, 0x41));
      return indexer.end();
    };
    await expect(run()).rejects.toThrow();
  });
});
