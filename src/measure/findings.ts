/**
 * Findings: measured advice on what else makes the image heavy, each pointing at the Dockerfile
 * line that causes it. Strip and prune clean the Python environment; the weight is often
 * elsewhere, and often in bytes no later `rm` can remove because an earlier layer still ships them.
 *
 * Kinds, each (layer, path) counted in at most one finding, in this order of precedence:
 * - `build-toolchain`: compilers, binutils, headers, static libraries, make/cmake, Rust and Go
 *   toolchains in the image's own layers (rules.ts), with the docs of the toolchain packages the
 *   layer installed (dpkg `info/*.list` files new in that layer name them).
 * - `package-leftovers`: apt lists and caches, apk/dnf caches, pip/uv/Poetry caches.
 * - `install-inputs`: wheels and sdists left behind after installing them.
 * - `layer-waste`: any other file a later layer deletes or overwrites (layer-view.ts); files of the
 *   base image hidden by the image's own layers are one finding on the FROM line.
 * - `duplicate-files`: visible files whose content another file of the image already has, counted
 *   at the extra copies (needs content hashes, see duplicates.ts and content-hash.ts).
 * - `base-image`: the base layers' size when an official `-slim` variant of the same base exists.
 *
 * One finding per kind and layer, so each points at one instruction. Findings under `minBytes`
 * (default 1 MB) are left out. `computeFindings` is pure; `imageFindings` adds the candidates'
 * content hashes (from the layers' index) and the size of the suggested `-slim` base (the engine).
 */
import type Docker from 'dockerode';
import { inspectImage } from '../engine/images.js';
import type { FindingFacts, FindingKind } from '../model/report.js';
import { requestedHashes } from './findings/content-hash.js';
import { duplicateCandidates, duplicateCopies } from './findings/duplicates.js';
import { viewLayers, type LayerView, type ViewFile } from './findings/layer-view.js';
import { layerOrigins, type LayerOrigin, type OriginInput } from './findings/origins.js';
import {
  docPackage,
  dpkgListPackage,
  inputPart,
  installInputDirs,
  isBookkeeping,
  isToolchainPackage,
  leftoverPart,
  toolchainPart,
  type InputPart,
  type LeftoverPart,
  type ToolchainPart,
} from './findings/rules.js';
import { slimVariant } from './findings/slim-variant.js';
import type { LayerContent } from './layers.js';
import type { MeasuredImage } from './sizes.js';

export { slimVariant } from './findings/slim-variant.js';

export const FINDING_MIN_BYTES = 1_000_000;
/** Paths given as evidence per finding. */
const EVIDENCE_PATHS = 5;

/** The layers, history and Dockerfile (see OriginInput), and what the advice needs beyond them. */
export interface FindingsInput extends OriginInput {
  /** The image the built stage ultimately builds FROM, resolved (`finalBaseImage`). */
  baseImage?: string;
  /** Size of the suggested `-slim` base when the engine has it. */
  slimVariantSize?: number;
  /** sha256 of duplicate candidates, keyed by `hashKey(diffId, path)`; no duplicate findings without. */
  contentHashes?: ReadonlyMap<string, string>;
  minBytes?: number;
}

export interface FindingsContext {
  dockerfile: string;
  target?: string;
  buildArgs?: Record<string, string>;
  baseImage?: string;
}

/** Findings for a measured image; duplicate candidates' hashes come from the layers' index. */
export async function imageFindings(
  docker: Docker,
  image: Pick<MeasuredImage, 'measurement' | 'layers' | 'history'>,
  context: FindingsContext,
): Promise<FindingFacts[]> {
  const input: FindingsInput = {
    ...context,
    layers: image.layers,
    history: image.history,
    baseLayerCount: image.measurement.layers.filter((layer) => layer.base).length,
  };
  const candidates = duplicateHashRequests(input);
  const contentHashes =
    candidates.length > 0 ? requestedHashes(image.layers, candidates) : undefined;
  const slim = context.baseImage === undefined ? undefined : slimVariant(context.baseImage);
  // Only an image the engine already has: slimpy never pulls for advice.
  const slimVariantSize =
    slim === undefined
      ? undefined
      : await inspectImage(docker, slim).then(
          (facts) => facts.size,
          () => undefined,
        );
  return computeFindings({ ...input, contentHashes, slimVariantSize });
}

/** The files worth hashing to find duplicates (see duplicates.ts). */
export function duplicateHashRequests(
  input: FindingsInput,
): ReturnType<typeof duplicateCandidates> {
  const { view, ownFrom } = analyse(input);
  return duplicateCandidates(input.layers, view, ownFrom);
}

export function computeFindings(input: FindingsInput): FindingFacts[] {
  const { view, origins, ownFrom } = analyse(input);
  const buckets = new Buckets(input.layers, view);
  const claimed = claimByPath(input.layers, view, ownFrom, buckets);
  if (input.contentHashes) {
    for (const copy of duplicateCopies(input.layers, view, input.contentHashes)) {
      if (copy.layer < ownFrom || claimed.has(`${copy.layer}\n${copy.path}`)) continue;
      const placement = { original: copy.original };
      buckets.add('duplicate-files', copy.layer, copy, 'duplicate', placement);
    }
  }
  const minBytes = input.minBytes ?? FINDING_MIN_BYTES;
  const findings = [...buckets.values()]
    .filter((bucket) => bucket.bytes >= minBytes)
    .map((bucket) => describe(bucket, origins));
  const base = baseImageFinding(input, view, origins, ownFrom);
  if (base && base.bytes >= minBytes) findings.push(base);
  return findings.sort((a, b) => b.bytes - a.bytes || (a.line ?? 0) - (b.line ?? 0));
}

function analyse(input: FindingsInput): {
  view: LayerView;
  origins: LayerOrigin[];
  ownFrom: number;
} {
  const view = viewLayers(input.layers);
  const origins = layerOrigins(input);
  const firstOwn = origins.findIndex((origin) => !origin.base);
  return { view, origins, ownFrom: firstOwn === -1 ? input.layers.length : firstOwn };
}

// ---------------------------------------------------------------------------------------------
// Sorting bytes into findings.

/** What part of a kind a file is: shapes the title and the fix. */
type Part = ToolchainPart | LeftoverPart | InputPart | 'docs' | 'hidden' | 'duplicate';

interface Placement {
  /** The layer the file is in, when the bucket spans layers (the base's waste). */
  fileLayer?: number;
  /** Duplicates: the path whose content this file repeats. */
  original?: string;
}

interface Bucket {
  kind: Exclude<FindingKind, 'base-image'>;
  /** The layer the bytes are in; -1 for the base image's layers together. */
  layer: number;
  files: Array<{ path: string; size: number }>;
  bytes: number;
  /** Estimated gzip bytes; undefined when a layer's compressed size is unknown. */
  compressed: number | undefined;
  parts: Set<Part>;
  /** Layers that hide these bytes (waste, or a too-late `rm` of a toolchain or cache). */
  hiders: Set<number>;
  /** Toolchain packages the layer installed. */
  packages: string[];
  /** Duplicates: the original each copy repeats. */
  originals: Map<string, string>;
}

class Buckets {
  private readonly byKey = new Map<string, Bucket>();
  private readonly ratios: Array<number | undefined>;

  constructor(layers: readonly LayerContent[], view: LayerView) {
    this.ratios = layers.map((layer, index) => {
      const bytes = view.fileBytes[index] ?? 0;
      return layer.compressed !== undefined && bytes > 0 ? layer.compressed / bytes : undefined;
    });
  }

  add(
    kind: Bucket['kind'],
    layer: number,
    file: Pick<ViewFile, 'path' | 'size' | 'hiddenBy'>,
    part: Part,
    placement: Placement = {},
  ): Bucket {
    const key = `${kind}:${layer}`;
    let bucket = this.byKey.get(key);
    if (!bucket) {
      bucket = {
        kind,
        layer,
        files: [],
        bytes: 0,
        compressed: 0,
        parts: new Set(),
        hiders: new Set(),
        packages: [],
        originals: new Map(),
      };
      this.byKey.set(key, bucket);
    }
    bucket.files.push({ path: file.path, size: file.size });
    bucket.bytes += file.size;
    const ratio = this.ratios[placement.fileLayer ?? layer];
    bucket.compressed =
      bucket.compressed === undefined || ratio === undefined
        ? undefined
        : bucket.compressed + file.size * ratio;
    bucket.parts.add(part);
    if (placement.original !== undefined) bucket.originals.set(file.path, placement.original);
    if (file.hiddenBy !== undefined) bucket.hiders.add(file.hiddenBy);
    return bucket;
  }

  values(): IterableIterator<Bucket> {
    return this.byKey.values();
  }
}

/** Sorts every file of the own layers by path rules, and hidden base files; returns what it claimed. */
function claimByPath(
  layers: readonly LayerContent[],
  view: LayerView,
  ownFrom: number,
  buckets: Buckets,
): Set<string> {
  const claimed = new Set<string>();
  const inputDirs = installInputDirs(
    layers.flatMap((layer) => layer.files.map((entry) => entry.path)),
  );
  const listsBefore = new Set<string>();
  layers.forEach((layer, index) => {
    const files = view.files[index] ?? [];
    if (index < ownFrom) {
      for (const file of files)
        if (isWaste(file)) buckets.add('layer-waste', -1, file, 'hidden', { fileLayer: index });
    } else {
      const packages = installedToolchain(layer, listsBefore);
      for (const file of files) {
        const bucket = claimFile(buckets, index, file, packages, inputDirs);
        if (!bucket) continue;
        claimed.add(`${index}\n${file.path}`);
        if (bucket.kind === 'build-toolchain' && bucket.packages.length === 0)
          bucket.packages = [...packages];
      }
    }
    for (const entry of layer.files)
      if (dpkgListPackage(entry.path) !== undefined) listsBefore.add(entry.path);
  });
  return claimed;
}

function claimFile(
  buckets: Buckets,
  layer: number,
  file: ViewFile,
  packages: ReadonlySet<string>,
  inputDirs: ReadonlySet<string>,
): Bucket | undefined {
  const doc = docPackage(file.path);
  const toolchain =
    toolchainPart(file.path) ?? (doc !== undefined && packages.has(doc) ? 'docs' : undefined);
  if (toolchain) return buckets.add('build-toolchain', layer, file, toolchain);
  const leftover = leftoverPart(file.path);
  if (leftover) return buckets.add('package-leftovers', layer, file, leftover);
  const input = inputPart(file.path, inputDirs);
  if (input) return buckets.add('install-inputs', layer, file, input);
  if (isWaste(file)) buckets.add('layer-waste', layer, file, 'hidden');
  // Waste is not claimed: a hidden file is never visible, so never a duplicate either.
  return undefined;
}

function isWaste(file: ViewFile): boolean {
  return file.hiddenBy !== undefined && !isBookkeeping(file.path);
}

/** Toolchain packages whose dpkg file list first appears in this layer: the ones it installed. */
function installedToolchain(layer: LayerContent, listsBefore: ReadonlySet<string>): Set<string> {
  const packages = new Set<string>();
  for (const entry of layer.files) {
    const name = dpkgListPackage(entry.path);
    if (name !== undefined && !listsBefore.has(entry.path) && isToolchainPackage(name))
      packages.add(name);
  }
  return packages;
}

// ---------------------------------------------------------------------------------------------
// Facts (report/findings-wording.ts puts them into words).

function describe(bucket: Bucket, origins: readonly LayerOrigin[]): FindingFacts {
  const origin = origins[Math.max(bucket.layer, 0)] ?? {
    instruction: `layer ${bucket.layer + 1}`,
    base: false,
  };
  const biggest = largest(bucket.files);
  const finding: FindingFacts = {
    kind: bucket.kind,
    bytes: bucket.bytes,
    instruction: origin.instruction,
    paths: biggest.slice(0, EVIDENCE_PATHS).map((file) => file.path),
    layer: bucket.layer,
    files: bucket.files.length,
    parts: partsOf(bucket),
    hidden: bucket.hiders.size > 0,
    hiddenByLines: hiderLines(bucket, origins),
  };
  if (origin.keyword !== undefined) finding.keyword = origin.keyword;
  if (bucket.compressed !== undefined) finding.compressedBytes = Math.round(bucket.compressed);
  if (origin.line !== undefined) finding.line = origin.line;
  if (bucket.kind === 'build-toolchain') finding.packages = rankedPackages(bucket.packages);
  if (bucket.kind === 'install-inputs') finding.inputs = inputCounts(bucket);
  const copy = biggest[0];
  if (bucket.kind === 'duplicate-files' && copy)
    finding.duplicate = { path: copy.path, original: bucket.originals.get(copy.path) ?? '?' };
  return finding;
}

/** The lines of the layers hiding these bytes, when all are known; [] otherwise. */
function hiderLines(bucket: Bucket, origins: readonly LayerOrigin[]): number[] {
  const lines = [...bucket.hiders].sort((a, b) => a - b).map((index) => origins[index]?.line);
  return lines.some((line) => line === undefined) ? [] : (lines as number[]);
}

/** In the order the rules list them, so the facts do not depend on file order. */
function partsOf(bucket: Bucket): string[] {
  return [...bucket.parts].sort((a, b) => PART_ORDER.indexOf(a) - PART_ORDER.indexOf(b));
}

const PART_ORDER: readonly string[] = [
  'compiler',
  'binutils',
  'headers',
  'static-libs',
  'build-tools',
  'rust',
  'go',
  'docs',
  'apt-lists',
  'apt-cache',
  'apk-cache',
  'dnf-cache',
  'pip-cache',
  'uv-cache',
  'poetry-cache',
];

/** Compilers first, then the other tools, then `-dev` packages, then the libraries they pull in. */
function rankedPackages(packages: readonly string[]): string[] {
  return [...packages].sort((a, b) => packageRank(a) - packageRank(b) || (a < b ? -1 : 1));
}

function packageRank(name: string): number {
  if (/^(?:gcc|g\+\+|clang|gfortran|rustc|cargo|golang)/.test(name)) return 0;
  if (
    /^(?:cpp|binutils|make|cmake|ninja|meson|build-essential|pkg-?config|autoconf|automake|libtool)/.test(
      name,
    )
  )
    return 1;
  if (name.endsWith('-dev')) return 2;
  return 3;
}

function inputCounts(bucket: Bucket): { wheels: number; sdists: number } {
  const wheels = bucket.files.filter((file) => file.path.endsWith('.whl')).length;
  return { wheels, sdists: bucket.files.length - wheels };
}

function baseImageFinding(
  input: FindingsInput,
  view: LayerView,
  origins: readonly LayerOrigin[],
  ownFrom: number,
): FindingFacts | undefined {
  const slim = input.baseImage === undefined ? undefined : slimVariant(input.baseImage);
  if (slim === undefined || input.baseImage === undefined || ownFrom === 0) return undefined;
  const sum = (values: ReadonlyArray<number | undefined>): number | undefined =>
    values.every((value) => value !== undefined)
      ? values.reduce<number>((total, value) => total + (value ?? 0), 0)
      : undefined;
  const baseBytes = sum(view.fileBytes.slice(0, ownFrom)) ?? 0;
  const from = origins[0];
  const finding: FindingFacts = {
    kind: 'base-image',
    bytes: baseBytes,
    instruction: from?.instruction ?? `FROM ${input.baseImage}`,
    paths: [],
    layer: -1,
    keyword: 'FROM',
    files: 0,
    parts: [],
    base: {
      image: input.baseImage,
      slimVariant: slim,
      baseBytes,
      totalBytes: sum(view.fileBytes) ?? 0,
      viaArg: from?.instruction.includes('$') ?? false,
    },
  };
  if (input.slimVariantSize !== undefined && finding.base)
    finding.base.slimVariantSize = input.slimVariantSize;
  const compressed = sum(input.layers.slice(0, ownFrom).map((layer) => layer.compressed));
  if (compressed !== undefined) finding.compressedBytes = compressed;
  if (from?.line !== undefined) finding.line = from.line;
  return finding;
}

/** Biggest first, then by path, so the evidence does not depend on tar order. */
function largest<T extends { path: string; size: number }>(files: readonly T[]): T[] {
  return [...files].sort(
    (a, b) => b.size - a.size || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
}
