/**
 * The one reader of an image export (`/images/{id}/get`): it walks the export's entries, finds the
 * layers among them and hands each layer's tar bytes to whoever asked for that layer (sizes,
 * index, content hashes, gzip size all subscribe to the same bytes, so a layer is read once).
 *
 * Both export layouts are read: legacy (`<v1 id>/layer.tar`, Docker < 25, where a repeated layer
 * is a symlink to the first) and OCI (`blobs/sha256/<hex>`, Docker >= 25). Entry order is not
 * layer order (Docker 26 writes blobs sorted by digest), so layers are told by digest, never by
 * position. An OCI blob named by one of the image's diffIds is an uncompressed layer; a blob
 * that starts with the gzip magic is a compressed layer (containerd image store), decompressed
 * here, its diffId known once read unless the caller knows it by the blob's digest. zstd layers
 * are not readable on Node 20 and are passed over. Config and manifest blobs are passed over.
 */
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type Dockerode from 'dockerode';
import tar from 'tar-stream';

/** A layer of the export, as far as its entry header tells before its bytes are read. */
export interface ExportLayer {
  /** The export entry it is. */
  name: string;
  /** The layer's diffId when the entry says which layer it is; undefined for a legacy entry. */
  diffId: string | undefined;
  /** Bytes of the entry: the layer tar, or the gzip blob it came as. */
  entryBytes: number;
  /** `sha256:…` of the gzip blob the layer came as; undefined for an uncompressed layer. */
  gzipBlob: string | undefined;
}

/** What a layer's reader learns once the last byte went by. */
export interface LayerRead {
  diffId: string;
  /** Size of the uncompressed layer tar. */
  tarBytes: number;
}

/** Receives one layer's uncompressed tar bytes, in order. */
export interface LayerSink {
  /** Resolves once the bytes are taken (a slow consumer holds the export back). */
  write(chunk: Buffer): Promise<void>;
  end(read: LayerRead): Promise<void>;
  /** The layer could not be read to its end. */
  fail(error: Error): void;
}

export interface ExportWalk {
  /** The image's diffIds: an OCI blob named by one of them is an uncompressed layer. */
  diffIds: ReadonlySet<string>;
  /** gzip blob digest -> the diffId of its content, learnt by an earlier read. */
  gzipBlobs?: ReadonlyMap<string, string>;
  /** A sink to read this layer with, or undefined to pass over it unread. */
  open(layer: ExportLayer): LayerSink | undefined;
  /** True once nothing more is wanted from the export: the walk stops reading it. */
  done?(): boolean;
  /** Stops the walk (it rejects with the signal's reason). */
  signal?: AbortSignal;
}

type TarEntry = tar.ExtractEvents['entry'][1];
const LEGACY_LAYER = /^(?:\.\/)?[0-9a-f]{64}\/layer\.tar$/;
const OCI_BLOB = /^(?:\.\/)?blobs\/sha256\/([0-9a-f]{64})$/;

/** Reads the export of `image` once, handing each wanted layer to its sink. */
export async function walkImageExport(
  docker: Dockerode,
  image: string,
  walk: ExportWalk,
): Promise<void> {
  walk.signal?.throwIfAborted();
  const source = await docker.getImage(image).get();
  const extract = tar.extract();
  source.on('error', (error: Error) => extract.destroy(error));
  const onAbort = (): void => extract.destroy(walk.signal?.reason as Error);
  walk.signal?.addEventListener('abort', onAbort, { once: true });
  // tar-stream's parser is a streamx Writable, which `pipe` drives like a Node one.
  source.pipe(extract as unknown as NodeJS.WritableStream);
  try {
    for await (const entry of extract) {
      await readEntry(entry, walk);
      if (walk.done?.()) break;
    }
  } finally {
    walk.signal?.removeEventListener('abort', onAbort);
    // Frees the connection when reading stopped early; a no-op once it has ended.
    (source as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}

async function readEntry(entry: TarEntry, walk: ExportWalk): Promise<void> {
  const { name, type, size = 0 } = entry.header;
  // A tar entry yields the Buffers of its body (streamx types them as unknown).
  const bytes = entry as AsyncIterable<Buffer>;
  if (type === 'file' && LEGACY_LAYER.test(name)) {
    const layer = { name, diffId: undefined, entryBytes: size, gzipBlob: undefined };
    return readLayer(bytes, walk.open(layer), undefined);
  }
  const hex = type === 'file' ? OCI_BLOB.exec(name)?.[1] : undefined;
  if (hex === undefined) {
    entry.resume();
    return;
  }
  const digest = `sha256:${hex}`;
  if (walk.diffIds.has(digest)) {
    const layer = { name, diffId: digest, entryBytes: size, gzipBlob: undefined };
    return readLayer(bytes, walk.open(layer), digest);
  }
  return readMaybeGzipLayer(name, bytes, size, digest, walk);
}

/** An OCI blob that is not an uncompressed layer: a gzip layer, or something else to pass over. */
async function readMaybeGzipLayer(
  name: string,
  source: AsyncIterable<Buffer>,
  blobBytes: number,
  blob: string,
  walk: ExportWalk,
): Promise<void> {
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const rest = prepend(first.value, iterator);
  const known = walk.gzipBlobs?.get(blob);
  const sink =
    first.value[0] === 0x1f && first.value[1] === 0x8b
      ? walk.open({ name, diffId: known, entryBytes: blobBytes, gzipBlob: blob })
      : undefined;
  if (!sink) {
    for await (const chunk of rest) void chunk;
    return;
  }
  const gunzip = createGunzip();
  // Failures reach the reader through `gunzip`, which the pipeline destroys with the error.
  pipeline(rest, gunzip).catch(() => undefined);
  await readLayer(gunzip, sink, undefined);
}

/** Feeds a layer tar to its sink, counting it and (unless its name said) hashing it. */
async function readLayer(
  source: AsyncIterable<Buffer>,
  sink: LayerSink | undefined,
  diffId: string | undefined,
): Promise<void> {
  if (!sink) {
    for await (const chunk of source) void chunk;
    return;
  }
  const hash = diffId === undefined ? createHash('sha256') : undefined;
  let tarBytes = 0;
  try {
    for await (const chunk of source) {
      hash?.update(chunk);
      tarBytes += chunk.length;
      await sink.write(chunk);
    }
  } catch (error) {
    sink.fail(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
  await sink.end({ diffId: diffId ?? `sha256:${hash?.digest('hex') ?? ''}`, tarBytes });
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
