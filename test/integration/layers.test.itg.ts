/**
 * Layers read from the real engine's export agree with `docker save`, `docker image inspect` and
 * `gzip -6`, and the layer cache spares a second measurement every export and all gzip work.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { largestFiles, mergeLayers } from '../../src/measure/filesystem.js';
import Docker from 'dockerode';
import { readImageLayers, type LayerContent } from '../../src/measure/layers.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';

/** The real engine, counting the image exports asked of it. */
class CountingDocker extends Docker {
  exports = 0;

  override getImage(name: string): Docker.Image {
    const image = super.getImage(name);
    const get = image.get.bind(image);
    image.get = ((...args: Parameters<typeof get>) => {
      this.exports += 1;
      return get(...args);
    }) as typeof image.get;
    return image;
  }
}

const LABEL = 'dev.slimpy.test';
const OWNER = `layers-${process.pid}`;
const TAG = `slimpy-test-layers:${process.pid}`;
/** Over the 16 MiB a layer may be held in memory for, so the cache-guess path is reachable. */
const RANDOM_BYTES = 20_000_000;

/** Random and compressible data, a deletion (whiteout), a recreated dir (opaque), a hardlink. */
const dockerfile = (base: string): string => `FROM ${base}
RUN head -c ${RANDOM_BYTES} /dev/urandom > /random.bin && mkdir -p /data/old \\
 && seq 1 300000 > /data/text.txt && echo bye > /data/old/gone.txt
RUN rm /data/text.txt
RUN rm -rf /data/old && mkdir /data/old && echo new > /data/old/fresh.txt
RUN ln /random.bin /random-link.bin
RUN printf a > /same-size.txt
RUN printf b > /same-size.txt
`;

/** GNU `gzip -6` of a file read from stdin, so no file name goes into the header (as in a push). */
function gnuGzipSize(file: string): number {
  const script = 'gzip -6 -c < "$1" | wc -c';
  return Number(execFileSync('sh', ['-c', script, 'sh', file], { encoding: 'utf8' }));
}

/** One zlib gzip -6 stream over the whole file, single-threaded. */
async function zlibGzipSize(file: string): Promise<number> {
  let bytes = 0;
  const count = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done();
    },
  });
  await pipeline(createReadStream(file), createGzip({ level: 6 }), count);
  return bytes;
}

function hexOf(diffId: string): string {
  return diffId.replace(/^sha256:/, '');
}

describe.skipIf(engineMissing())('readImageLayers on the real engine', () => {
  const docker = testDocker();
  let work: string;
  let cacheDir: string;
  let diffIds: string[];
  let first: LayerContent[];
  /** `docker save`'s layer tars, in RootFS order. */
  let saved: string[];

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'slimpy-layers-'));
    cacheDir = path.join(work, 'cache');
    execFileSync(
      'docker',
      ['build', '-q', '--network', 'none', '--label', `${LABEL}=${OWNER}`, '-t', TAG, '-'],
      { input: dockerfile(baseImage()), env: { ...process.env, DOCKER_BUILDKIT: '0' } },
    );
    diffIds = (await docker.getImage(TAG).inspect()).RootFS.Layers ?? [];
    const savedDir = path.join(work, 'saved');
    execFileSync('sh', [
      '-c',
      'mkdir -p "$2" && docker save "$1" | tar -x -C "$2"',
      'sh',
      TAG,
      savedDir,
    ]);
    const manifest = JSON.parse(
      await readFile(path.join(savedDir, 'manifest.json'), 'utf8'),
    ) as Array<{
      Layers: string[];
    }>;
    saved = (manifest[0]?.Layers ?? []).map((layer) => path.join(savedDir, layer));
    first = await readImageLayers(docker, TAG, { compressed: true, cacheDir });
  });

  afterAll(async () => {
    await docker
      .getImage(TAG)
      .remove({ force: true })
      .catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  });

  it('reads every layer in RootFS order with its diffId and tar size', async () => {
    expect(first.map((layer) => layer.diffId)).toEqual(diffIds);
    expect(saved).toHaveLength(diffIds.length);
    for (const [index, layer] of first.entries()) {
      expect(layer.tarBytes).toBe((await stat(saved[index]!)).size);
    }
  });

  it('gives compressed sizes that agree with one-stream gzip -6 of the same layers', async () => {
    for (const [index, layer] of first.entries()) {
      const zlib = await zlibGzipSize(saved[index]!);
      const gnu = gnuGzipSize(saved[index]!);
      console.log(
        `layer ${index}: tar ${layer.tarBytes}, ours ${layer.compressed}, zlib ${zlib}, gzip ${gnu}`,
      );
      expect(layer.fromCache).toBe(false);
      // Chunking costs under 0.1% against a single stream of the same zlib (Node's).
      expect(Math.abs(layer.compressed! - zlib)).toBeLessThanOrEqual(Math.max(0.001 * zlib, 8));
      // GNU gzip finds 3-byte matches that Node's zlib (Chromium's) and Go's (docker push)
      // skip: it comes out about 1.6% smaller on a Debian base layer.
      expect(Math.abs(layer.compressed! - gnu)).toBeLessThanOrEqual(Math.max(0.025 * gnu, 8));
    }
    const records = await readdir(cacheDir);
    expect(records.sort()).toEqual([...new Set(diffIds)].map((id) => `${hexOf(id)}.json`).sort());
  });

  it('serves every layer from the cache the second time: no export at all', async () => {
    const counting = new CountingDocker();
    const second = await readImageLayers(counting, TAG, { compressed: true, cacheDir });
    expect(counting.exports).toBe(0);
    expect(second.map((layer) => [layer.exported, layer.fromCache])).toEqual(
      diffIds.map(() => [false, true]),
    );
    expect(second.map((layer) => layer.compressed)).toEqual(first.map((layer) => layer.compressed));
    expect(second.map((layer) => layer.files)).toEqual(first.map((layer) => layer.files));
    expect(second.map((layer) => layer.hashes)).toEqual(first.map((layer) => layer.hashes));
    // The files of 64 KiB or more: the random file and the 2 MB text file; the rest is smaller.
    expect([...first[1]!.hashes.keys()].sort()).toEqual(['/data/text.txt', '/random.bin']);
  });

  it('reads only the layer the cache lacks, even when a cached layer has its size', async () => {
    const last = first.at(-1)!;
    const previous = first.at(-2)!;
    // Two one-byte files at the same path: two layer tars of the same size, told apart by digest.
    expect(last.tarBytes).toBe(previous.tarBytes);
    await unlink(path.join(cacheDir, `${hexOf(last.diffId)}.json`));
    const counting = new CountingDocker();
    const third = await readImageLayers(counting, TAG, { compressed: true, cacheDir });
    expect(counting.exports).toBe(1);
    expect(third.map((layer) => layer.exported)).toEqual(
      diffIds.map((_, i) => i === diffIds.length - 1),
    );
    expect(third.map((layer) => layer.fromCache)).toEqual(
      diffIds.map((_, i) => i < diffIds.length - 1),
    );
    expect(third.map((layer) => layer.compressed)).toEqual(first.map((layer) => layer.compressed));
    expect(third.map((layer) => layer.files)).toEqual(first.map((layer) => layer.files));
  });

  it('recovers when a cache record misleads it about a large layer', async () => {
    const large = first[1]!;
    const small = first.at(-1)!;
    expect(large.tarBytes).toBeGreaterThan(16 * 1024 * 1024);
    // The large layer's record is gone and a small layer's record claims the large one's size.
    await unlink(path.join(cacheDir, `${hexOf(large.diffId)}.json`));
    const lie = { diffId: small.diffId, tarBytes: large.tarBytes, compressed: 1, level: 6 };
    await writeFile(path.join(cacheDir, `${hexOf(small.diffId)}.json`), JSON.stringify(lie));
    const fourth = await readImageLayers(docker, TAG, { compressed: true, cacheDir });
    expect(fourth.map((layer) => layer.compressed)).toEqual(first.map((layer) => layer.compressed));
    expect(fourth.map((layer) => layer.fromCache)).toEqual(
      diffIds.map((_, i) => i !== 1 && i !== diffIds.length - 1),
    );
    const fifth = await readImageLayers(docker, TAG, { compressed: true, cacheDir });
    expect(fifth.every((layer) => layer.fromCache)).toBe(true);
  });

  it('reads layers without compressing when not asked to', async () => {
    const plain = await readImageLayers(docker, TAG, { compressed: false });
    expect(plain.map((layer) => [layer.compressed, layer.fromCache])).toEqual(
      diffIds.map(() => [undefined, false]),
    );
    expect(plain.map((layer) => layer.tarBytes)).toEqual(first.map((layer) => layer.tarBytes));
  });

  it('sees deletions, opaque directories and hardlinks in the merged filesystem', () => {
    const [, , deletion, recreation] = first;
    expect(deletion?.whiteouts).toEqual(['/data/text.txt']);
    expect(recreation?.opaqueDirs).toEqual(['/data/old']);
    const merged = mergeLayers(first);
    expect(merged.has('/data/text.txt')).toBe(false);
    expect(merged.has('/data/old/gone.txt')).toBe(false);
    expect(merged.get('/data/old/fresh.txt')?.layerIndex).toBe(3);
    // Linking copied the file up into the link's layer: one of the pair carries the data.
    const pair = ['/random.bin', '/random-link.bin'].map((p) => merged.get(p));
    expect(pair.map((entry) => entry?.type).sort()).toEqual(['file', 'hardlink']);
    expect(pair.map((entry) => entry?.layerIndex)).toEqual([4, 4]);
    const own = largestFiles(first, { fromLayer: 1, limit: 3 });
    expect(own[0]?.size).toBe(RANDOM_BYTES);
    expect(own.filter((file) => file.size === RANDOM_BYTES)).toHaveLength(1);
  });
});
