/**
 * The layers of an image: each layer's diffId (sha256 of its uncompressed tar), size, files,
 * whiteouts, content hashes of its larger files, and optionally its gzip -6 size, which is what a
 * registry push transfers.
 *
 * What is known about a layer is kept by diffId (layer-cache.ts), so a layer is read from the
 * engine's image export (image-export.ts) once: an image whose layers are all known is not
 * exported at all, and an export is read only until every unknown layer went by.
 *
 * The gzip work is the slow part. An OCI blob's name is its diffId, so whether a layer needs it is
 * known before reading. A legacy entry's digest is only known after reading it, so the decision
 * uses its size, which the header gives and the cache records: a size no layer with a known
 * compressed size has means compress while reading; when every layer's compressed size is known,
 * or the entry is large, a matching size is taken as that layer (checked once the digest is known;
 * a wrong guess costs a second export pass, which knows each entry's digest by name from the
 * first); a small entry with a matching size is held in memory until its digest decides. A gzip
 * blob (containerd image store) needs no gzip work: its compressed size is the blob's own size.
 */
import type Dockerode from 'dockerode';
import { DeflatePool, GzipSizer, gzipSize } from './compress.js';
import {
  walkImageExport,
  type ExportLayer,
  type ExportWalk,
  type LayerRead,
  type LayerSink,
} from './image-export.js';
import { readLayerRecords, writeLayerRecord, type LayerRecord } from './layer-cache.js';
import { LayerIndexer, type FileEntry, type LayerIndex } from './layer-tar.js';

export type { FileEntry } from './layer-tar.js';

export interface LayerContent {
  /** sha256:… of the uncompressed layer tar (= image inspect RootFS.Layers[i]). */
  diffId: string;
  /** Size of the uncompressed layer tar. */
  tarBytes: number;
  /** gzip -6 size of that tar (undefined when not requested). */
  compressed?: number;
  /** The compressed size came from the layer cache. */
  fromCache: boolean;
  /** The layer was read from the image export by this measurement (not known from the cache). */
  exported: boolean;
  /** Regular files, dirs and links added or changed by this layer (not whiteouts). */
  files: FileEntry[];
  /** Paths this layer deletes (`.wh.<name>` entries), absolute. */
  whiteouts: string[];
  /** Directories this layer makes opaque (`.wh..wh..opq`): lower content under them is hidden. */
  opaqueDirs: string[];
  /** sha256 (hex) of each regular file of 64 KiB or more (`HASHED_MIN_BYTES`), by path. */
  hashes: ReadonlyMap<string, string>;
}

export interface ReadLayersOptions {
  compressed: boolean;
  /** Directory of the layer cache (created when missing). */
  cacheDir?: string;
  /** Chunks deflated at once; default `os.availableParallelism()`. */
  concurrency?: number;
  /** Stops reading the export (the measurement rejects with the signal's reason). */
  signal?: AbortSignal;
  /**
   * Compress only the layers of up to this many tar bytes now; a bigger layer is left without a
   * compressed size (and `fromCache` false), for a later measurement to compress alone once the
   * cache knows the rest. Default: every layer.
   */
  compressUpTo?: number;
}

export class ImageExportError extends Error {
  override name = 'ImageExportError';
}

/** Largest layer held in memory while its digest decides whether it needs compressing. */
const HOLD_LIMIT_BYTES = 16 * 1024 * 1024;

export async function readImageLayers(
  docker: Dockerode,
  image: string,
  options: ReadLayersOptions,
): Promise<LayerContent[]> {
  const info = await docker.getImage(image).inspect();
  const diffIds = info.RootFS?.Layers ?? [];
  const records = options.cacheDir
    ? await readLayerRecords(options.cacheDir, diffIds)
    : new Map<string, LayerRecord>();
  const compressUpTo = options.compressed ? (options.compressUpTo ?? Infinity) : 0;
  const unknown = diffIds.filter((diffId) => !isKnown(records.get(diffId), compressUpTo));
  const session: ReadSession = {
    docker,
    imageId: info.Id,
    diffIds: new Set(diffIds),
    compressed: options.compressed,
    compressUpTo,
    records,
    wanted: new Set(unknown),
    pool: new DeflatePool(options.concurrency),
    guess: true,
    digestsByName: new Map(),
    found: new Map(),
    signal: options.signal,
  };
  if (session.wanted.size > 0) await readUnknownLayers(session);
  await remember(session, options.cacheDir);
  return diffIds.map((diffId) => layerContent(session, diffId, image));
}

/** Whether the cache has all this measurement needs of a layer (its index, its size if wanted). */
function isKnown(record: LayerRecord | undefined, compressUpTo: number): boolean {
  if (record?.index === undefined) return false;
  return record.compressed !== undefined || record.tarBytes > compressUpTo;
}

interface ReadSession {
  docker: Dockerode;
  imageId: string;
  diffIds: ReadonlySet<string>;
  compressed: boolean;
  /** Layers bigger than this are not compressed by this measurement (0: none is). */
  compressUpTo: number;
  /** What the cache knows, by diffId; grows with what this measurement computes. */
  records: Map<string, LayerRecord>;
  /** Layers still to read from the export. */
  wanted: Set<string>;
  pool: DeflatePool;
  /** Take a large legacy layer whose size a known layer has for that layer (see top). */
  guess: boolean;
  /** Export entry name -> diffId, learnt by an earlier pass over the same export. */
  digestsByName: Map<string, string>;
  /** Layers read from the export, by diffId. */
  found: Map<string, FoundLayer>;
  signal: AbortSignal | undefined;
}

/** What happens to a layer's bytes for its gzip size while it streams past. */
type Treatment = 'compress' | 'hold' | 'skip';

interface FoundLayer {
  /** The export entry it came from. */
  name: string;
  diffId: string;
  tarBytes: number;
  index: LayerIndex;
  compressed: Promise<number | undefined>;
  /** The compressed size is the cache's, not computed by this measurement. */
  fromCache: boolean;
  gzipBlob: string | undefined;
  /** Skipped on the guess that the cache had its compressed size, and it had not. */
  wrongGuess: boolean;
}

/** One pass over the export, and a second when a guess about a legacy layer was wrong. */
async function readUnknownLayers(session: ReadSession): Promise<void> {
  await walkImageExport(session.docker, session.imageId, exportWalk(session));
  const wrong = [...session.found.values()].filter((layer) => layer.wrongGuess);
  if (wrong.length === 0) return;
  for (const layer of wrong) session.found.delete(layer.diffId);
  session.wanted = new Set(wrong.map((layer) => layer.diffId));
  session.digestsByName = new Map(wrong.map((layer) => [layer.name, layer.diffId]));
  session.guess = false;
  await walkImageExport(session.docker, session.imageId, exportWalk(session));
}

function exportWalk(session: ReadSession): ExportWalk {
  const gzipBlobs = new Map<string, string>();
  for (const record of session.records.values())
    if (record.blob) gzipBlobs.set(record.blob, record.diffId);
  return {
    diffIds: session.diffIds,
    gzipBlobs,
    open: (layer) => openLayer(session, layer),
    done: () => [...session.wanted].every((diffId) => session.found.has(diffId)),
    signal: session.signal,
  };
}

function openLayer(session: ReadSession, layer: ExportLayer): LayerSink | undefined {
  const diffId = layer.diffId ?? session.digestsByName.get(layer.name);
  if (diffId !== undefined && !session.wanted.has(diffId)) return undefined;
  if (layer.gzipBlob !== undefined) return new LayerReader(session, layer, 'skip');
  const treatment =
    diffId === undefined
      ? treatUnnamed(session, layer.entryBytes)
      : treatNamed(session, diffId, layer.entryBytes);
  return new LayerReader(session, layer, treatment);
}

/** The cached compressed size of a layer, when the record agrees with the layer's tar size. */
function cachedSize(session: ReadSession, diffId: string, tarBytes: number): number | undefined {
  const record = session.records.get(diffId);
  return record?.tarBytes === tarBytes ? record.compressed : undefined;
}

/** A layer whose digest is known before reading it: compress it unless the cache has its size. */
function treatNamed(session: ReadSession, diffId: string, tarBytes: number): Treatment {
  const known = cachedSize(session, diffId, tarBytes) !== undefined;
  return tarBytes <= session.compressUpTo && !known ? 'compress' : 'skip';
}

/** A legacy layer: its digest is unknown until read, its size is known (see top). */
function treatUnnamed(session: ReadSession, size: number): Treatment {
  if (size > session.compressUpTo) return 'skip';
  const sized = [...session.records.values()].filter((record) => record.compressed !== undefined);
  if (!sized.some((record) => record.tarBytes === size)) return 'compress';
  const allSized = [...session.diffIds].every(
    (diffId) => session.records.get(diffId)?.compressed !== undefined,
  );
  if (allSized) return 'skip';
  if (size <= HOLD_LIMIT_BYTES) return 'hold';
  return session.guess ? 'skip' : 'compress';
}

/** Indexes a layer's bytes (files, hashes) and sizes them as treated. */
class LayerReader implements LayerSink {
  private readonly indexer = new LayerIndexer();
  private readonly sizer: GzipSizer | undefined;
  private readonly held: Buffer[] | undefined;

  constructor(
    private readonly session: ReadSession,
    private readonly layer: ExportLayer,
    treatment: Treatment,
  ) {
    this.sizer = treatment === 'compress' ? new GzipSizer(session.pool) : undefined;
    this.held = treatment === 'hold' ? [] : undefined;
  }

  async write(chunk: Buffer): Promise<void> {
    await this.indexer.write(chunk);
    if (this.sizer) await this.sizer.write(chunk);
    this.held?.push(chunk);
  }

  fail(error: Error): void {
    this.indexer.destroy(error);
  }

  async end(read: LayerRead): Promise<void> {
    const { layer, session } = this;
    if (layer.gzipBlob === undefined && read.tarBytes !== layer.entryBytes) {
      throw new ImageExportError(
        `a layer of the export is ${read.tarBytes} bytes, not ${layer.entryBytes}`,
      );
    }
    const index = await this.indexer.end();
    if (!session.diffIds.has(read.diffId) || !session.wanted.has(read.diffId)) return;
    const found = { name: layer.name, ...read, index, gzipBlob: layer.gzipBlob };
    session.found.set(read.diffId, { ...found, ...this.compressedSize(read) });
  }

  private compressedSize(
    read: LayerRead,
  ): Pick<FoundLayer, 'compressed' | 'fromCache' | 'wrongGuess'> {
    const { layer, session } = this;
    const none = { compressed: Promise.resolve(undefined), fromCache: false, wrongGuess: false };
    if (!session.compressed) return none;
    if (layer.gzipBlob !== undefined)
      return { ...none, compressed: Promise.resolve(layer.entryBytes) };
    if (this.sizer) return { ...none, compressed: settled(this.sizer.end()) };
    const cached = cachedSize(session, read.diffId, read.tarBytes);
    if (cached !== undefined)
      return { ...none, compressed: Promise.resolve(cached), fromCache: true };
    if (read.tarBytes > session.compressUpTo) return none;
    if (this.held) return { ...none, compressed: settled(gzipSize(this.held, session.pool)) };
    return { ...none, wrongGuess: true };
  }
}

/** A promise awaited later, after other layers were read: keep its failure handled till then. */
function settled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** Turns what was read into records, in memory and (when there is a cache) on disk. */
async function remember(session: ReadSession, cacheDir: string | undefined): Promise<void> {
  for (const layer of session.found.values()) {
    const compressed =
      (await layer.compressed) ?? cachedSize(session, layer.diffId, layer.tarBytes);
    const record: LayerRecord = {
      diffId: layer.diffId,
      tarBytes: layer.tarBytes,
      index: layer.index,
    };
    if (compressed !== undefined) record.compressed = compressed;
    if (layer.gzipBlob !== undefined) record.blob = layer.gzipBlob;
    session.records.set(layer.diffId, record);
    // The cache only saves time: a read-only or full disk must not fail the measurement.
    if (cacheDir) await writeLayerRecord(cacheDir, record).catch(() => undefined);
  }
}

function layerContent(session: ReadSession, diffId: string, image: string): LayerContent {
  const found = session.found.get(diffId);
  const record = session.records.get(diffId);
  if (!record?.index) {
    throw new ImageExportError(
      `the export of ${image} has no readable layer ${diffId} (zstd-compressed layers are not ` +
        'supported; rebuild with gzip or uncompressed layers)',
    );
  }
  return {
    diffId,
    tarBytes: record.tarBytes,
    compressed: session.compressed ? record.compressed : undefined,
    fromCache:
      session.compressed &&
      record.compressed !== undefined &&
      (found === undefined || found.fromCache),
    exported: found !== undefined,
    files: record.index.files,
    whiteouts: record.index.whiteouts,
    opaqueDirs: record.index.opaqueDirs,
    hashes: record.index.hashes,
  };
}
