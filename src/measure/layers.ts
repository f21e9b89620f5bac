/**
 * The layers of an image, read from the engine's image export (`/images/{id}/get`) in one pass:
 * each layer's diffId (sha256 of its uncompressed tar), size, files, whiteouts, and optionally its
 * gzip -6 size, which is what a registry push transfers.
 *
 * Both export layouts are read: legacy (`<v1 id>/layer.tar`, Docker < 25, where a repeated layer
 * is a symlink to the first) and OCI (`blobs/sha256/<hex>`, Docker >= 25). Entry order is not
 * layer order, so layers are matched to the image's `RootFS.Layers` by digest, never by position.
 * Layer blobs that are gzip-compressed (OCI exports from a containerd image store) are
 * decompressed to find their diffId; their compressed size is the blob's own size. zstd layers
 * are not readable on Node 20 and are reported as missing.
 *
 * The gzip work is the slow part, so it is cached by diffId and never done for a layer the cache
 * has. An OCI blob's name is its digest, so a hit is known before reading. A legacy entry's
 * digest is only known after reading it, so the decision uses its size, which the header gives
 * and the cache records: a size no cached layer has means a miss (compress while reading); when
 * every layer is cached, or the entry is large, a matching size is taken as a hit (checked once
 * the digest is known; a wrong guess costs a second export pass, which knows each entry's digest
 * by name from the first); a small entry with a matching size is held in memory until its digest
 * decides.
 */
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type Dockerode from 'dockerode';
import tar from 'tar-stream';
import { DeflatePool, GZIP_LEVEL, GzipSizer, gzipSize } from './compress.js';
import { readCachedSizes, writeCachedSize, type CompressedSizeRecord } from './gzip-cache.js';
import { LayerIndexer, type FileEntry, type LayerIndex } from './layer-tar.js';

export type { FileEntry } from './layer-tar.js';

export interface LayerContent {
  /** sha256:… of the uncompressed layer tar (= image inspect RootFS.Layers[i]). */
  diffId: string;
  /** Size of the uncompressed layer tar. */
  tarBytes: number;
  /** gzip -6 size of that tar (undefined when not requested). */
  compressed?: number;
  /** The compressed size came from the digest cache. */
  fromCache: boolean;
  /** Regular files, dirs and links added or changed by this layer (not whiteouts). */
  files: FileEntry[];
  /** Paths this layer deletes (`.wh.<name>` entries), absolute. */
  whiteouts: string[];
  /** Directories this layer makes opaque (`.wh..wh..opq`): lower content under them is hidden. */
  opaqueDirs: string[];
}

export interface ReadLayersOptions {
  compressed: boolean;
  /** Directory of the compressed-size cache (created when missing). */
  cacheDir?: string;
  /** Chunks deflated at once; default `os.availableParallelism()`. */
  concurrency?: number;
}

export class ImageExportError extends Error {
  override name = 'ImageExportError';
}

/** Largest layer held in memory while its digest decides whether it needs compressing. */
const HOLD_LIMIT_BYTES = 16 * 1024 * 1024;
type TarEntry = tar.ExtractEvents['entry'][1];
const LEGACY_LAYER = /^(?:\.\/)?[0-9a-f]{64}\/layer\.tar$/;
const OCI_BLOB = /^(?:\.\/)?blobs\/sha256\/([0-9a-f]{64})$/;

export async function readImageLayers(
  docker: Dockerode,
  image: string,
  options: ReadLayersOptions,
): Promise<LayerContent[]> {
  const info = await docker.getImage(image).inspect();
  const diffIds = info.RootFS?.Layers ?? [];
  const cache =
    options.compressed && options.cacheDir
      ? await readCachedSizes(options.cacheDir, diffIds)
      : new Map<string, CompressedSizeRecord>();
  const session: ExportSession = {
    docker,
    imageId: info.Id,
    diffIds: new Set(diffIds),
    compressed: options.compressed,
    cache,
    pool: new DeflatePool(options.concurrency),
    guess: true,
    digestsByName: new Map(),
  };
  const computed = new Set<string>();
  let found = await readExport(session);
  await remember(found, session, computed, options.cacheDir);
  if ([...found.values()].some((layer) => layer.wrongGuess)) {
    const digestsByName = new Map([...found.values()].map((layer) => [layer.name, layer.diffId]));
    found = await readExport({ ...session, guess: false, digestsByName });
    await remember(found, session, computed, options.cacheDir);
  }
  return Promise.all(
    diffIds.map((diffId) => settleLayer(found, diffId, image, computed.has(diffId))),
  );
}

interface ExportSession {
  docker: Dockerode;
  imageId: string;
  diffIds: Set<string>;
  compressed: boolean;
  cache: Map<string, CompressedSizeRecord>;
  pool: DeflatePool;
  /** Take a large legacy layer whose size a cached layer has for that layer (see top). */
  guess: boolean;
  /** Export entry name -> diffId, learnt by an earlier pass over the same export. */
  digestsByName: Map<string, string>;
}

/** What happens to a layer's bytes while it streams past. */
type Treatment = 'compress' | 'hold' | 'skip';

interface FoundLayer {
  /** The export entry it came from. */
  name: string;
  diffId: string;
  tarBytes: number;
  index: LayerIndex;
  compressed: Promise<number | undefined>;
  fromCache: boolean;
  /** Compressed now, not read from the cache: worth recording. */
  fresh: boolean;
  /** Skipped on the guess that the cache had it, and it had not. */
  wrongGuess: boolean;
}

async function readExport(session: ExportSession): Promise<Map<string, FoundLayer>> {
  const found = new Map<string, FoundLayer>();
  const source = await session.docker.getImage(session.imageId).get();
  const extract = tar.extract();
  source.on('error', (error: Error) => extract.destroy(error));
  // tar-stream's parser is a streamx Writable, which `pipe` drives like a Node one.
  source.pipe(extract as unknown as NodeJS.WritableStream);
  try {
    for await (const entry of extract) {
      const layer = await readEntry(entry, session);
      if (layer && session.diffIds.has(layer.diffId)) found.set(layer.diffId, layer);
    }
  } finally {
    // Frees the connection when reading stopped early (an error); a no-op once it has ended.
    (source as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
  return found;
}

async function readEntry(entry: TarEntry, session: ExportSession): Promise<FoundLayer | undefined> {
  const { name, type, size } = entry.header;
  // A tar entry yields the Buffers of its body (streamx types them as unknown).
  const bytes = entry as AsyncIterable<Buffer>;
  const blob = OCI_BLOB.exec(name)?.[1];
  if (type === 'file' && LEGACY_LAYER.test(name)) {
    const known = session.digestsByName.get(name);
    const treatment =
      known === undefined ? treatUnnamed(session, size) : treatNamed(session, known, size);
    return readLayerTar(name, bytes, size, treatment, session);
  }
  if (type === 'file' && blob !== undefined) {
    const diffId = `sha256:${blob}`;
    if (session.diffIds.has(diffId)) {
      return readLayerTar(name, bytes, size, treatNamed(session, diffId, size), session);
    }
    return readMaybeGzipLayer(name, bytes, size, session);
  }
  entry.resume();
  return undefined;
}

/** A layer whose digest is known before reading it: compress it unless the cache has it. */
function treatNamed(session: ExportSession, diffId: string, size: number): Treatment {
  const cached = session.cache.get(diffId)?.tarBytes === size;
  return session.compressed && !cached ? 'compress' : 'skip';
}

/** A legacy layer: its digest is unknown until read, its size is known (see top). */
function treatUnnamed(session: ExportSession, size: number): Treatment {
  if (!session.compressed) return 'skip';
  const cachedSizes = new Set([...session.cache.values()].map((record) => record.tarBytes));
  if (!cachedSizes.has(size)) return 'compress';
  const allCached = [...session.diffIds].every((diffId) => session.cache.has(diffId));
  if (allCached) return 'skip';
  if (size <= HOLD_LIMIT_BYTES) return 'hold';
  return session.guess ? 'skip' : 'compress';
}

/** Reads an uncompressed layer tar: digest, index, and compressed size as treated. */
async function readLayerTar(
  name: string,
  source: AsyncIterable<Buffer>,
  size: number,
  treatment: Treatment,
  session: ExportSession,
): Promise<FoundLayer> {
  const sizer = treatment === 'compress' ? new GzipSizer(session.pool) : undefined;
  const held: Buffer[] | undefined = treatment === 'hold' ? [] : undefined;
  const read = await scanLayer(source, async (chunk) => {
    if (sizer) await sizer.write(chunk);
    held?.push(chunk);
  });
  if (read.tarBytes !== size) {
    throw new ImageExportError(`a layer of the export is ${read.tarBytes} bytes, not ${size}`);
  }
  const record = session.cache.get(read.diffId);
  const hit = session.compressed && record?.tarBytes === read.tarBytes;
  const layer = { ...read, name, fromCache: false, fresh: false, wrongGuess: false };
  if (sizer) return { ...layer, compressed: settled(sizer.end()), fresh: true };
  if (hit) return { ...layer, compressed: Promise.resolve(record.compressed), fromCache: true };
  if (held) return { ...layer, compressed: settled(gzipSize(held, session.pool)), fresh: true };
  return { ...layer, compressed: Promise.resolve(undefined), wrongGuess: session.compressed };
}

/** An OCI blob that is not an uncompressed layer: a gzip layer, or something else to skip. */
async function readMaybeGzipLayer(
  name: string,
  source: AsyncIterable<Buffer>,
  blobBytes: number,
  session: ExportSession,
): Promise<FoundLayer | undefined> {
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return undefined;
  const rest = prepend(first.value, iterator);
  if (!(first.value[0] === 0x1f && first.value[1] === 0x8b)) {
    for await (const chunk of rest) void chunk;
    return undefined;
  }
  const gunzip = createGunzip();
  // Failures reach the reader through `gunzip`, which the pipeline destroys with the error.
  pipeline(rest, gunzip).catch(() => undefined);
  const read = await scanLayer(gunzip, async () => undefined);
  const compressed = session.compressed ? blobBytes : undefined;
  return {
    ...read,
    name,
    compressed: Promise.resolve(compressed),
    fromCache: false,
    fresh: false,
    wrongGuess: false,
  };
}

async function* prepend(
  head: Buffer,
  iterator: AsyncIterator<Buffer>,
): AsyncGenerator<Buffer, void, undefined> {
  yield head;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return;
    yield next.value;
  }
}

/** Hashes, counts and indexes a layer tar stream, handing each chunk on to `also`. */
async function scanLayer(
  source: AsyncIterable<Buffer>,
  also: (chunk: Buffer) => Promise<void>,
): Promise<{ diffId: string; tarBytes: number; index: LayerIndex }> {
  const hash = createHash('sha256');
  const indexer = new LayerIndexer();
  let tarBytes = 0;
  try {
    for await (const chunk of source) {
      hash.update(chunk);
      tarBytes += chunk.length;
      await indexer.write(chunk);
      await also(chunk);
    }
  } catch (error) {
    indexer.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
  const index = await indexer.end();
  return { diffId: `sha256:${hash.digest('hex')}`, tarBytes, index };
}

/** A promise awaited later, after other layers were read: keep its failure handled till then. */
function settled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

async function settleLayer(
  found: Map<string, FoundLayer>,
  diffId: string,
  image: string,
  computedNow: boolean,
): Promise<LayerContent> {
  const layer = found.get(diffId);
  if (!layer) {
    throw new ImageExportError(
      `the export of ${image} has no readable layer ${diffId} (zstd-compressed layers are not ` +
        'supported; rebuild with gzip or uncompressed layers)',
    );
  }
  return {
    diffId,
    tarBytes: layer.tarBytes,
    compressed: await layer.compressed,
    fromCache: layer.fromCache && !computedNow,
    files: layer.index.files,
    whiteouts: layer.index.whiteouts,
    opaqueDirs: layer.index.opaqueDirs,
  };
}

/**
 * Records sizes computed in this pass, in memory (so a second pass reuses them) and on disk;
 * forgets the cached sizes a wrong guess relied on.
 */
async function remember(
  found: Map<string, FoundLayer>,
  session: ExportSession,
  computed: Set<string>,
  cacheDir: string | undefined,
): Promise<void> {
  for (const layer of found.values()) {
    if (layer.wrongGuess) session.cache.delete(layer.diffId);
    const compressed = layer.fresh ? await layer.compressed : undefined;
    if (compressed === undefined) continue;
    const record = {
      diffId: layer.diffId,
      tarBytes: layer.tarBytes,
      compressed,
      level: GZIP_LEVEL,
    };
    session.cache.set(layer.diffId, record);
    computed.add(layer.diffId);
    // The cache only saves time: a read-only or full disk must not fail the measurement.
    if (cacheDir) await writeCachedSize(cacheDir, record).catch(() => undefined);
  }
}
