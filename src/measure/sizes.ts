/** One image measured: uncompressed and compressed sizes, the layer table, the largest files. */
import type Docker from 'dockerode';
import type { HistoryRow, ImageFacts } from '../engine/images.js';
import { imageHistory, inspectImage } from '../engine/images.js';
import type { EngineFacts, ImageMeasurement, LayerRow } from '../model/report.js';
import { largestFiles, mergeLayers } from './filesystem.js';
import type { LayerContent } from './layers.js';
import { readImageLayers } from './layers.js';

export interface MeasureOptions {
  /** Compute gzip sizes (the slow part); otherwise only uncompressed figures. */
  compressed: boolean;
  /** Directory of the per-layer compressed-size cache. */
  cacheDir?: string;
  /** Image the measured image is built FROM (its layers are "base", not the image's own). */
  baseImage?: string;
  largestFiles?: number;
  /** The engine's image store: it decides which engine figure is the uncompressed size. */
  store?: EngineFacts['store'];
  /** Stops reading the image export. */
  signal?: AbortSignal;
  /**
   * Compress only layers of up to this many tar bytes (`readImageLayers`); `completeMeasurement`
   * adds the others later. Default: every layer.
   */
  compressUpTo?: number;
}

export interface MeasuredImage {
  measurement: ImageMeasurement;
  /** The image's final filesystem: path -> size and type (for savings and findings). */
  files: ReturnType<typeof mergeLayers>;
  /** The layers as read from the export, RootFS order, and the history, oldest first (for findings). */
  layers: LayerContent[];
  history: HistoryRow[];
}

export async function measureImage(
  docker: Docker,
  image: string,
  options: MeasureOptions,
): Promise<MeasuredImage> {
  const facts = await inspectImage(docker, image);
  const [history, layers, baseLayerCount, size] = await Promise.all([
    imageHistory(docker, image),
    readImageLayers(docker, facts.id, {
      compressed: options.compressed,
      cacheDir: options.cacheDir,
      signal: options.signal,
      compressUpTo: options.compressUpTo,
    }),
    countBaseLayers(docker, facts, options.baseImage),
    options.store === 'containerd' ? unpackedSize(docker, facts) : facts.size,
  ]);
  const rows = layerRows(facts, layers, history, baseLayerCount);
  const compressed = options.compressed ? sumDefined(rows.map((row) => row.compressed)) : undefined;
  const baseSize = rows.filter((row) => row.base).reduce((sum, row) => sum + row.size, 0);
  const measurement: ImageMeasurement = {
    id: facts.id,
    size,
    compressed,
    compressedFromCache: options.compressed
      ? layers.filter((layer) => layer.fromCache).length
      : undefined,
    layers: rows,
    largestFiles: largestFiles(layers, {
      fromLayer: baseLayerCount,
      limit: options.largestFiles ?? 15,
    }).map(({ path, size }) => ({ path, size })),
    baseSize,
    ownSize: rows.reduce((sum, row) => sum + row.size, 0) - baseSize,
  };
  return { measurement, files: mergeLayers(layers), layers, history };
}

/**
 * Completes a measurement taken with `compressUpTo`: measures the image again with every
 * compressed size (the cache knows the rest by now, so only the layers left out are read), a
 * layer counting as from the cache only when neither measurement computed its size.
 */
export async function completeMeasurement(
  docker: Docker,
  first: MeasuredImage,
  options: Omit<MeasureOptions, 'compressUpTo'>,
): Promise<MeasuredImage> {
  const full = await measureImage(docker, first.measurement.id, options);
  const layers = full.layers.map((layer, index) => ({
    ...layer,
    fromCache: layer.fromCache && (first.layers[index]?.fromCache ?? false),
  }));
  const compressedFromCache = options.compressed
    ? layers.filter((layer) => layer.fromCache).length
    : undefined;
  return { ...full, layers, measurement: { ...full.measurement, compressedFromCache } };
}

export interface ListedImage {
  Id: string;
  Size: number;
  /** API >= 1.47 with `manifests=1`: per-platform sizes, the unpacked one among them. */
  Manifests?: Array<{ Kind?: string; ImageData?: { Size?: { Unpacked?: number } } }>;
}

/**
 * The unpacked size on the containerd image store. There image inspect `Size` is the content the
 * store keeps (manifest, config and compressed layer blobs), and the image list's `Size` is that
 * content plus the unpacked snapshots (which is what `docker images` prints). The unpacked part is
 * the one that measures what the classic store's `Size` measures, the files a container sees.
 * Engines with API >= 1.47 report it directly; older ones give it as the list entry minus content.
 */
export async function unpackedSize(docker: Docker, facts: ImageFacts): Promise<number> {
  const listed = (await docker.listImages({
    manifests: true,
  } as Docker.ListImagesOptions)) as ListedImage[];
  const entry = listed.find((candidate) => candidate.Id === facts.id);
  if (!entry)
    throw new Error(
      `Image ${facts.id} is missing from the engine's image list; it was removed while being measured.`,
    );
  return unpackedFromListEntry(entry, facts.size);
}

export function unpackedFromListEntry(entry: ListedImage, contentSize: number): number {
  const reported = entry.Manifests?.find(
    (m) => m.Kind !== 'attestation' && m.ImageData?.Size?.Unpacked !== undefined,
  );
  return reported?.ImageData?.Size?.Unpacked ?? entry.Size - contentSize;
}

/** How many of the image's bottom layers are the base image's (0 when unknown or scratch). */
async function countBaseLayers(
  docker: Docker,
  facts: ImageFacts,
  baseImage: string | undefined,
): Promise<number> {
  if (!baseImage) return 0;
  try {
    const base = await inspectImage(docker, baseImage);
    const isPrefix = base.diffIds.every((id, i) => facts.diffIds[i] === id);
    return isPrefix ? base.diffIds.length : 0;
  } catch {
    return 0;
  }
}

/**
 * Pairs each layer with the instruction that made it. The history API does not mark which rows
 * made layers, so rows are aligned by count; when that fails the row says so instead of guessing.
 */
export function layerRows(
  facts: ImageFacts,
  layers: LayerContent[],
  history: HistoryRow[],
  baseLayerCount: number,
): LayerRow[] {
  const byDiffId = new Map(layers.map((layer) => [layer.diffId, layer]));
  const layerHistory = alignHistory(history, facts.diffIds.length);
  return facts.diffIds.map((diffId, index) => {
    const content = byDiffId.get(diffId);
    return {
      diffId,
      size: layerHistory?.[index]?.size ?? (content ? contentBytes(content) : 0),
      compressed: content?.compressed,
      createdBy: shortenInstruction(layerHistory?.[index]?.createdBy ?? `layer ${index + 1}`),
      base: index < baseLayerCount,
    };
  });
}

function alignHistory(history: HistoryRow[], layerCount: number): HistoryRow[] | undefined {
  const candidates = [
    history.filter((row) => !row.emptyLayer),
    history.filter((row) => row.size > 0),
  ];
  return candidates.find((rows) => rows.length === layerCount);
}

/** Bytes of the files a layer adds, as `docker history` counts them. */
function contentBytes(layer: LayerContent): number {
  return layer.files.reduce((sum, file) => sum + (file.type === 'file' ? file.size : 0), 0);
}

export function shortenInstruction(createdBy: string, max = 120): string {
  const text = createdBy
    .replace(/^\/bin\/sh -c #\(nop\)\s+/, '')
    .replace(/^\/bin\/sh -c /, 'RUN ')
    .replace(/\s+# buildkit$/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text || '(imported base)';
}

function sumDefined(values: Array<number | undefined>): number | undefined {
  return values.every((v) => v !== undefined)
    ? values.reduce<number>((sum, v) => sum + (v ?? 0), 0)
    : undefined;
}
