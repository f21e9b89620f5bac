/**
 * Export layouts the local engine cannot produce (OCI from Docker >= 25, gzip blobs from a
 * containerd image store) and corner cases of the legacy one, served by a real HTTP server on
 * loopback that answers the two Engine API calls readImageLayers makes.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import Docker from 'dockerode';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageExportError, readImageLayers } from '../../src/measure/layers.js';

type TarItem = {
  name: string;
  body?: Buffer | string;
  type?: 'file' | 'directory' | 'symlink';
  linkname?: string;
};

async function makeTar(items: TarItem[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { name, body = '', type = 'file', linkname } of items) {
    if (type === 'file') pack.entry({ name, type }, body);
    else pack.entry({ name, type, ...(linkname ? { linkname } : {}) });
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

interface Fixture {
  layerA: Buffer;
  layerB: Buffer;
  diffIds: string[];
  configHex: string;
}

async function layers(): Promise<Fixture> {
  const layerA = await makeTar([
    { name: 'app/', type: 'directory' },
    { name: 'app/main.py', body: 'print("hello")\n'.repeat(500) },
    { name: 'app/old.txt', body: 'to be deleted' },
  ]);
  const layerB = await makeTar([
    { name: 'app/.wh.old.txt' },
    { name: 'cache/.wh..wh..opq' },
    { name: 'cache/', type: 'directory' },
  ]);
  const diffIds = [`sha256:${sha(layerA)}`, `sha256:${sha(layerB)}`, `sha256:${sha(layerA)}`];
  const configHex = sha(Buffer.from(JSON.stringify({ rootfs: { diff_ids: diffIds } })));
  return { layerA, layerB, diffIds, configHex };
}

/** Docker 20.10 `docker save`: one dir per layer, a repeated layer symlinked to the first. */
function legacyExport(f: Fixture): Promise<Buffer> {
  const ids = ['1', '2', '3'].map((n) => n.repeat(64));
  return makeTar([
    { name: `${ids[1]}/`, type: 'directory' },
    { name: `${ids[1]}/layer.tar`, body: f.layerB },
    { name: `${ids[2]}/layer.tar`, type: 'symlink', linkname: `../${ids[0]}/layer.tar` },
    { name: `${ids[0]}/json`, body: '{}' },
    { name: `${ids[0]}/layer.tar`, body: f.layerA },
    { name: `${f.configHex}.json`, body: JSON.stringify({ rootfs: { diff_ids: f.diffIds } }) },
    {
      name: 'manifest.json',
      body: JSON.stringify([{ Layers: ids.map((id) => `${id}/layer.tar`) }]),
    },
  ]);
}

/** Docker >= 25 `docker save`: OCI blobs named by digest, manifest.json last. */
function ociExport(f: Fixture, blobs: Buffer[]): Promise<Buffer> {
  const config = Buffer.from(JSON.stringify({ rootfs: { diff_ids: f.diffIds } }));
  return makeTar([
    { name: 'blobs/', type: 'directory' },
    { name: 'blobs/sha256/', type: 'directory' },
    { name: `blobs/sha256/${sha(config)}`, body: config },
    ...blobs.map((blob) => ({ name: `blobs/sha256/${sha(blob)}`, body: blob })),
    { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', body: '{}' },
    {
      name: 'manifest.json',
      body: JSON.stringify([{ Layers: blobs.map((b) => `blobs/sha256/${sha(b)}`) }]),
    },
  ]);
}

describe('readImageLayers on each export layout', () => {
  let fixture: Fixture;
  let server: Server;
  let docker: Docker;
  let work: string;
  /** What /images/{name}/get returns for the image named like the key. */
  const exports = new Map<string, Buffer>();
  /** The images exported so far, one entry per export request. */
  const exportRequests: string[] = [];

  beforeAll(async () => {
    fixture = await layers();
    const gzA = gzipSync(fixture.layerA, { level: 9 });
    const gzB = gzipSync(fixture.layerB, { level: 1 });
    const foreign = gzipSync(await makeTar([{ name: 'other-platform.bin', body: 'x' }]));
    exports.set('legacy', await legacyExport(fixture));
    exports.set('oci', await ociExport(fixture, [fixture.layerB, fixture.layerA]));
    exports.set('oci-gzip', await ociExport(fixture, [gzB, foreign, gzA]));
    exports.set('missing-layer', await ociExport(fixture, [fixture.layerA]));
    server = createServer((request, response) => {
      const match = /^\/images\/([^/]+)\/(json|get)$/.exec(request.url ?? '');
      const name = decodeURIComponent(match?.[1] ?? '');
      const exported = exports.get(name.replace(/^id-/, ''));
      if (!match || !exported)
        return void response.writeHead(404).end('{"message":"no such image"}');
      if (match[2] === 'json') {
        response.setHeader('content-type', 'application/json');
        return void response.end(
          JSON.stringify({ Id: `id-${name}`, RootFS: { Type: 'layers', Layers: fixture.diffIds } }),
        );
      }
      exportRequests.push(name);
      response.setHeader('content-type', 'application/x-tar');
      // Small writes, so the reader sees entries split across many chunks.
      for (let offset = 0; offset < exported.length; offset += 1000) {
        response.write(exported.subarray(offset, offset + 1000));
      }
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    docker = new Docker({
      protocol: 'http',
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
    });
    work = await mkdtemp(path.join(tmpdir(), 'slimpy-layers-unit-'));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(work, { recursive: true, force: true });
  });

  it.each(['legacy', 'oci', 'oci-gzip'])('reads the %s layout in RootFS order', async (layout) => {
    const read = await readImageLayers(docker, layout, { compressed: false });
    expect(read.map((layer) => layer.diffId)).toEqual(fixture.diffIds);
    expect(read.map((layer) => layer.tarBytes)).toEqual([
      fixture.layerA.length,
      fixture.layerB.length,
      fixture.layerA.length,
    ]);
    expect(read[0]!.files.map((file) => file.path)).toEqual([
      '/app',
      '/app/main.py',
      '/app/old.txt',
    ]);
    expect(read[1]).toMatchObject({ whiteouts: ['/app/old.txt'], opaqueDirs: ['/cache'] });
    expect(read.every((layer) => layer.compressed === undefined && !layer.fromCache)).toBe(true);
  });

  it.each(['legacy', 'oci'])(
    'sizes %s layers as gzip -6 and caches them by diffId',
    async (layout) => {
      const cacheDir = path.join(work, `cache-${layout}`);
      const cold = await readImageLayers(docker, layout, { compressed: true, cacheDir });
      const expected = [fixture.layerA, fixture.layerB, fixture.layerA].map(
        (layer) => gzipSync(layer, { level: 6 }).length,
      );
      expect(cold.map((layer) => layer.compressed)).toEqual(expected);
      expect(cold.map((layer) => layer.fromCache)).toEqual([false, false, false]);
      const warm = await readImageLayers(docker, layout, { compressed: true, cacheDir });
      expect(warm.map((layer) => layer.compressed)).toEqual(expected);
      expect(warm.map((layer) => layer.fromCache)).toEqual([true, true, true]);
    },
  );

  it.each(['legacy', 'oci', 'oci-gzip'])(
    'serves a %s layer read once from the cache: the image is not exported again',
    async (layout) => {
      const cacheDir = path.join(work, `known-${layout}`);
      const first = await readImageLayers(docker, layout, { compressed: true, cacheDir });
      expect(first.map((layer) => layer.exported)).toEqual([true, true, true]);
      exportRequests.length = 0;
      const second = await readImageLayers(docker, layout, { compressed: true, cacheDir });
      expect(exportRequests).toEqual([]);
      expect(second.map((layer) => layer.exported)).toEqual([false, false, false]);
      expect(second).toEqual(
        first.map((layer) => ({ ...layer, exported: false, fromCache: true })),
      );
    },
  );

  it('reads only the layer the cache does not know', async () => {
    const cacheDir = path.join(work, 'one-unknown');
    await readImageLayers(docker, 'oci', { compressed: true, cacheDir });
    await rm(path.join(cacheDir, `${fixture.diffIds[1]!.slice(7)}.json`));
    exportRequests.length = 0;
    const read = await readImageLayers(docker, 'oci', { compressed: true, cacheDir });
    expect(exportRequests).toEqual(['id-oci']);
    expect(read.map((layer) => [layer.exported, layer.fromCache])).toEqual([
      [false, true],
      [true, false],
      [false, true],
    ]);
    expect(read[1]).toMatchObject({ whiteouts: ['/app/old.txt'], opaqueDirs: ['/cache'] });
  });

  it('leaves big layers uncompressed when asked, for a later read to compress alone', async () => {
    const cacheDir = path.join(work, 'later');
    const small = fixture.layerB.length;
    const first = await readImageLayers(docker, 'oci', {
      compressed: true,
      cacheDir,
      compressUpTo: small,
    });
    expect(first.map((layer) => [layer.compressed === undefined, layer.fromCache])).toEqual([
      [true, false],
      [false, false],
      [true, false],
    ]);
    expect(first[0]!.files.map((file) => file.path)).toContain('/app/main.py');
    exportRequests.length = 0;
    const full = await readImageLayers(docker, 'oci', { compressed: true, cacheDir });
    expect(exportRequests).toEqual(['id-oci']);
    expect(full.map((layer) => [layer.exported, layer.fromCache])).toEqual([
      [true, false],
      [false, true],
      [true, false],
    ]);
    expect(full.map((layer) => layer.compressed)).toEqual(
      [fixture.layerA, fixture.layerB, fixture.layerA].map(
        (layer) => gzipSync(layer, { level: 6 }).length,
      ),
    );
  });

  it('stops when its signal aborts: a cancelled run does not wait for the export', async () => {
    const signal = AbortSignal.abort(new Error('the run was cancelled'));
    await expect(readImageLayers(docker, 'oci', { compressed: true, signal })).rejects.toThrow(
      'the run was cancelled',
    );
  });

  it('keeps the content hash of every file of 64 KiB or more', async () => {
    const read = await readImageLayers(docker, 'oci', { compressed: false });
    // main.py is 7.5 kB: too small to be worth a duplicate finding, so not hashed.
    expect([...read[0]!.hashes.keys()]).toEqual([]);
  });

  it('takes gzip blobs’ own size as their compressed size', async () => {
    const read = await readImageLayers(docker, 'oci-gzip', { compressed: true, cacheDir: work });
    const gzA = gzipSync(fixture.layerA, { level: 9 }).length;
    const gzB = gzipSync(fixture.layerB, { level: 1 }).length;
    expect(read.map((layer) => layer.compressed)).toEqual([gzA, gzB, gzA]);
  });

  it('says which layer the export lacks', async () => {
    await expect(readImageLayers(docker, 'missing-layer', { compressed: false })).rejects.toThrow(
      ImageExportError,
    );
    await expect(readImageLayers(docker, 'missing-layer', { compressed: false })).rejects.toThrow(
      fixture.diffIds[1]!,
    );
  });
});
