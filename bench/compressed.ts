/**
 * Compressed size: slimpy's measurement (readImageLayers with `compressed: true`: the export read
 * once, each layer deflated in parallel chunks, sizes cached by layer digest) with an empty and
 * with a warm cache directory, against GNU gzip -6 of the same layers one after another, from a
 * `docker save` unpacked into a temporary directory (the save is timed apart).
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import { readImageLayers, type LayerContent } from '../src/measure/layers.js';
import type { BenchEngine } from './engine.js';
import type { CompressedResults } from './results.js';

const run = promisify(execFile);
/** `-n`: no name or time stamp in the header, as a pushed layer has none. */
export const GZIP_COMMAND = 'gzip -6 -n -c LAYER | wc -c';
/** Layers smaller than this are left out of the worst per-layer difference (headers dominate). */
const WORST_LAYER_MIN_BYTES = 1024 * 1024;

export async function measureCompressed(
  engine: BenchEngine,
  image: string,
  progress: (line: string) => void,
): Promise<CompressedResults> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'slimpy-bench-gzip-'));
  try {
    const cacheDir = path.join(scratch, 'size-cache');
    progress('slimpy measurement, empty size cache');
    const cold = await timed(() =>
      readImageLayers(engine.docker, image, { compressed: true, cacheDir }),
    );
    progress(`  ${cold.seconds.toFixed(1)} s`);
    progress('slimpy measurement, warm size cache');
    const warm = await timed(() =>
      readImageLayers(engine.docker, image, { compressed: true, cacheDir }),
    );
    progress(`  ${warm.seconds.toFixed(1)} s`);
    progress("docker save, then gzip -6 and Node's zlib over each layer in turn");
    const gzip = await gzipLayers(image, path.join(scratch, 'export'));
    progress(
      `  gzip ${gzip.seconds.toFixed(1)} s, Node's zlib ${gzip.zlib.seconds.toFixed(1)} s ` +
        `(save + unpack ${gzip.exportSeconds.toFixed(1)} s)`,
    );
    const slimpyBytes = sumCompressed(cold.value);
    const worst = cold.value.reduce((most, layer, index) => {
      const reference = gzip.perLayer[index] ?? 0;
      if (layer.tarBytes < WORST_LAYER_MIN_BYTES || reference === 0) return most;
      const difference = (((layer.compressed ?? 0) - reference) / reference) * 100;
      return Math.abs(difference) > Math.abs(most) ? difference : most;
    }, 0);
    return {
      image,
      layers: cold.value.length,
      tarBytes: cold.value.reduce((sum, layer) => sum + layer.tarBytes, 0),
      slimpyCold: {
        seconds: cold.seconds,
        bytes: slimpyBytes,
        fromCache: cold.value.filter((layer) => layer.fromCache).length,
      },
      slimpyWarm: {
        seconds: warm.seconds,
        bytes: sumCompressed(warm.value),
        fromCache: warm.value.filter((layer) => layer.fromCache).length,
      },
      gzip: {
        seconds: gzip.seconds,
        bytes: gzip.bytes,
        exportSeconds: gzip.exportSeconds,
        command: GZIP_COMMAND,
      },
      nodeZlib: gzip.zlib,
      differencePercent: ((slimpyBytes - gzip.bytes) / gzip.bytes) * 100,
      worstLayerDifferencePercent: worst,
      concurrency: availableParallelism(),
      threadpool: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function sumCompressed(layers: LayerContent[]): number {
  return layers.reduce((sum, layer) => sum + (layer.compressed ?? 0), 0);
}

/**
 * `docker save` into `dir`, unpacked; then each layer of the manifest, in image order, through
 * `gzip -6 -n -c | wc -c`, one at a time. Only the gzip runs are in `seconds`. Then the same
 * layers as single streams through Node's zlib, which tells a difference in bytes that comes from
 * the library (Node bundles its own zlib) from one that comes from slimpy's chunking.
 */
async function gzipLayers(image: string, dir: string) {
  const exported = await timed(async () => {
    await mkdir(dir, { recursive: true });
    await run('docker', ['save', '-o', path.join(dir, 'image.tar'), image]);
    await run('tar', ['-xf', path.join(dir, 'image.tar'), '-C', dir]);
    await rm(path.join(dir, 'image.tar'));
  });
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Array<{
    Layers: string[];
  }>;
  const layers = manifest[0]?.Layers ?? [];
  const perLayer: number[] = [];
  const gzipped = await timed(async () => {
    for (const layer of layers) {
      const { stdout } = await run('sh', [
        '-c',
        'gzip -6 -n -c "$1" | wc -c',
        'sh',
        path.join(dir, layer),
      ]);
      perLayer.push(Number(stdout.trim()));
    }
  });
  let zlibBytes = 0;
  const zlib = await timed(async () => {
    for (const layer of layers) zlibBytes += await nodeGzipSize(path.join(dir, layer));
  });
  return {
    seconds: gzipped.seconds,
    bytes: perLayer.reduce((sum, n) => sum + n, 0),
    perLayer,
    exportSeconds: exported.seconds,
    zlib: { seconds: zlib.seconds, bytes: zlibBytes },
  };
}

/** One gzip stream at level 6 through Node's own zlib, the library slimpy deflates with. */
async function nodeGzipSize(file: string): Promise<number> {
  let bytes = 0;
  const counter = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  await pipeline(createReadStream(file), createGzip({ level: 6 }), counter);
  return bytes;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - started) / 1000 };
}
