import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import {
  hashKey,
  requestedHashes,
  type HashRequest,
} from '../../src/measure/findings/content-hash.js';
import { readImageLayers } from '../../src/measure/layers.js';

/** A tar of the given entries (a layer, or a whole image export). */
async function tarOf(
  entries: Array<{ name: string; body?: Buffer; type?: 'file' | 'symlink'; linkname?: string }>,
): Promise<Buffer> {
  const pack = tar.pack();
  for (const entry of entries) {
    if (entry.type === 'symlink')
      pack.entry({ name: entry.name, type: 'symlink', linkname: entry.linkname });
    else pack.entry({ name: entry.name }, entry.body ?? Buffer.alloc(0));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** An engine whose image has these layers and whose export is `exported`. */
function engineExporting(exported: Buffer, diffIds: string[]): Docker {
  const image = {
    inspect: async () => ({ Id: 'img', RootFS: { Type: 'layers', Layers: diffIds } }),
    get: async () => Readable.from([exported]),
  };
  return { getImage: () => image } as unknown as Docker;
}

/** The hashes the layers' index gives for the requests, as the findings take them. */
async function hashesOf(
  exported: Buffer,
  diffIds: string[],
  wanted: HashRequest[],
): Promise<Map<string, string>> {
  const layers = await readImageLayers(engineExporting(exported, diffIds), 'img', {
    compressed: false,
  });
  return requestedHashes(layers, wanted);
}

const big = Buffer.alloc(100_000, 7);
const other = Buffer.alloc(100_000, 9);

async function layers() {
  const a = await tarOf([
    { name: 'opt/a.bin', body: big },
    { name: 'opt/small', body: Buffer.from('x') },
  ]);
  const b = await tarOf([
    { name: 'srv/b.bin', body: big },
    { name: 'srv/c.bin', body: other },
  ]);
  const none = await tarOf([{ name: 'etc/hosts', body: Buffer.from('127.0.0.1 localhost\n') }]);
  return {
    a,
    b,
    none,
    ids: { a: `sha256:${sha(a)}`, b: `sha256:${sha(b)}`, none: `sha256:${sha(none)}` },
  };
}

function requests(ids: { a: string; b: string }): HashRequest[] {
  return [
    { diffId: ids.a, path: '/opt/a.bin', size: big.length },
    { diffId: ids.b, path: '/srv/b.bin', size: big.length },
    { diffId: ids.b, path: '/srv/c.bin', size: other.length },
  ];
}

describe('content hashes from the layer index', () => {
  it('reads a legacy export (`<id>/layer.tar`, repeated layers as symlinks)', async () => {
    const { a, b, none, ids } = await layers();
    const exported = await tarOf([
      { name: `${'1'.repeat(64)}/layer.tar`, body: a },
      { name: `${'2'.repeat(64)}/layer.tar`, body: none },
      { name: `${'3'.repeat(64)}/layer.tar`, body: b },
      {
        name: `${'4'.repeat(64)}/layer.tar`,
        type: 'symlink',
        linkname: `../${'1'.repeat(64)}/layer.tar`,
      },
      { name: 'manifest.json', body: Buffer.from('[]') },
    ]);
    const hashes = await hashesOf(exported, [ids.a, ids.none, ids.b, ids.a], requests(ids));
    expect(hashes).toEqual(
      new Map([
        [hashKey(ids.a, '/opt/a.bin'), sha(big)],
        [hashKey(ids.b, '/srv/b.bin'), sha(big)],
        [hashKey(ids.b, '/srv/c.bin'), sha(other)],
      ]),
    );
  });

  it('reads an OCI export: uncompressed blobs named by diff id, gzip blobs, and skips JSON blobs', async () => {
    const { a, b, ids } = await layers();
    const gzipped = gzipSync(b);
    const exported = await tarOf([
      { name: 'oci-layout', body: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
      { name: `blobs/sha256/${sha(Buffer.from('{}'))}`, body: Buffer.from('{}') },
      { name: `blobs/sha256/${ids.a.slice(7)}`, body: a },
      { name: `blobs/sha256/${sha(gzipped)}`, body: gzipped },
      { name: 'index.json', body: Buffer.from('{}') },
    ]);
    const hashes = await hashesOf(exported, [ids.a, ids.b], requests(ids));
    expect([...hashes.keys()].sort()).toEqual(
      [
        hashKey(ids.a, '/opt/a.bin'),
        hashKey(ids.b, '/srv/b.bin'),
        hashKey(ids.b, '/srv/c.bin'),
      ].sort(),
    );
    expect(hashes.get(hashKey(ids.b, '/srv/b.bin'))).toBe(sha(big));
  });

  it('hashes only what was asked, in the layer it was asked for', async () => {
    const { a, b, ids } = await layers();
    const exported = await tarOf([
      { name: `${'1'.repeat(64)}/layer.tar`, body: a },
      { name: `${'3'.repeat(64)}/layer.tar`, body: b },
    ]);
    const hashes = await hashesOf(
      exported,
      [ids.a, ids.b],
      [
        { diffId: ids.b, path: '/opt/a.bin', size: big.length },
        { diffId: ids.a, path: '/opt/small', size: 1 },
      ],
    );
    // Not in that layer; too small to be hashed (no duplicate finding is that small).
    expect(hashes.size).toBe(0);
  });
});
