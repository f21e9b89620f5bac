/**
 * sha256 of chosen files of an image's layers, for finding duplicates. The layer index
 * (`readImageLayers`) has names and sizes only; contents need a second pass over the image export,
 * taken only when there are candidates (equal-sized files, see duplicates.ts). That pass streams:
 * memory is one hash state per file being read, and time is the export's read plus hashing the
 * candidates' bytes, which `duplicateCandidates` caps.
 *
 * Layers are recognised like layers.ts does: legacy `<id>/layer.tar` entries (whose digest is
 * known only once read), OCI blobs named by their digest, and gzip-compressed OCI blobs.
 */
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { absoluteLayerPath } from '../layer-tar.js';

export interface HashRequest {
  /** Layer holding the file (diff id, `sha256:…`). */
  diffId: string;
  path: string;
  size: number;
}

/** Key of a file's hash in the map `hashLayerFiles` returns. */
export function hashKey(diffId: string, path: string): string {
  return `${diffId}\n${path}`;
}

type TarEntry = tar.ExtractEvents['entry'][1];
const LEGACY_LAYER = /^(?:\.\/)?[0-9a-f]{64}\/layer\.tar$/;
const OCI_BLOB = /^(?:\.\/)?blobs\/sha256\/([0-9a-f]{64})$/;

/** Hashes the requested files; a file the export does not hold is simply absent from the result. */
export async function hashLayerFiles(
  docker: Docker,
  image: string,
  requests: readonly HashRequest[],
): Promise<Map<string, string>> {
  const wanted = new Set(requests.map((request) => hashKey(request.diffId, request.path)));
  const shapes = new Set(requests.map((request) => `${request.path}\0${request.size}`));
  const diffIds = new Set(requests.map((request) => request.diffId));
  const hashes = new Map<string, string>();
  const source = await docker.getImage(image).get();
  const extract = tar.extract();
  source.on('error', (error: Error) => extract.destroy(error));
  source.pipe(extract as unknown as NodeJS.WritableStream);
  try {
    for await (const entry of extract) {
      const layer = await readLayerEntry(entry, shapes, diffIds);
      for (const [path, hash] of layer?.hashes ?? []) {
        const key = hashKey(layer?.diffId ?? '', path);
        if (wanted.has(key)) hashes.set(key, hash);
      }
    }
  } finally {
    (source as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
  return hashes;
}

interface LayerHashes {
  diffId: string;
  hashes: Map<string, string>;
}

async function readLayerEntry(
  entry: TarEntry,
  shapes: ReadonlySet<string>,
  diffIds: ReadonlySet<string>,
): Promise<LayerHashes | undefined> {
  const { name, type } = entry.header;
  const body = entry as AsyncIterable<Buffer>;
  const blob = OCI_BLOB.exec(name)?.[1];
  if (type === 'file' && LEGACY_LAYER.test(name)) return scanLayer(body, shapes);
  if (type === 'file' && blob !== undefined) {
    if (diffIds.has(`sha256:${blob}`)) return scanLayer(body, shapes, `sha256:${blob}`);
    return scanMaybeGzip(body, shapes);
  }
  entry.resume();
  return undefined;
}

/** An OCI blob that is not named by a wanted diff id: a gzip layer, or config/manifest to skip. */
async function scanMaybeGzip(
  body: AsyncIterable<Buffer>,
  shapes: ReadonlySet<string>,
): Promise<LayerHashes | undefined> {
  const iterator = body[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return undefined;
  const rest = (async function* () {
    yield first.value;
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      yield next.value;
  })();
  if (!(first.value[0] === 0x1f && first.value[1] === 0x8b)) {
    for await (const chunk of rest) void chunk;
    return undefined;
  }
  const gunzip = createGunzip();
  // A failure reaches the reader through `gunzip`, which the pipeline destroys with the error.
  pipeline(rest, gunzip).catch(() => undefined);
  return scanLayer(gunzip, shapes);
}

/** Reads one layer tar: its digest (unless known) and the sha256 of each wanted (path, size). */
async function scanLayer(
  body: AsyncIterable<Buffer>,
  shapes: ReadonlySet<string>,
  knownDiffId?: string,
): Promise<LayerHashes> {
  const digest = knownDiffId === undefined ? createHash('sha256') : undefined;
  const extract = tar.extract();
  const feeding = feed(body, extract, digest);
  feeding.catch(() => undefined);
  const hashes = new Map<string, string>();
  for await (const entry of extract) {
    const { name, type, size } = entry.header;
    const path = absoluteLayerPath(name);
    if ((type === 'file' || type === 'contiguous-file') && shapes.has(`${path}\0${size ?? 0}`)) {
      const hash = createHash('sha256');
      for await (const chunk of entry as AsyncIterable<Buffer>) hash.update(chunk);
      hashes.set(path, hash.digest('hex'));
    } else {
      entry.resume();
    }
  }
  await feeding;
  return { diffId: knownDiffId ?? `sha256:${digest?.digest('hex') ?? ''}`, hashes };
}

async function feed(
  body: AsyncIterable<Buffer>,
  extract: tar.Extract,
  digest: ReturnType<typeof createHash> | undefined,
): Promise<void> {
  try {
    for await (const chunk of body) {
      digest?.update(chunk);
      if (!extract.write(chunk)) await drained(extract);
    }
    extract.end(undefined);
  } catch (error) {
    extract.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

/** Waits for `drain`; rejects when the parser closes first (a bad tar), so the feeder never hangs. */
function drained(stream: tar.Extract): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      stream.off('drain', onDrain);
      reject(new Error('a layer of the image export could not be parsed'));
    };
    stream.once('drain', onDrain);
    stream.once('close', onClose);
  });
}
