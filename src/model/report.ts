/**
 * The report object: what `slimpy ... --json` prints, what the action writes to the `report`
 * output path, and what the markdown is rendered from. Field names are a stable contract
 * (documented in README.md); add fields, never rename them.
 */
import type { PruneCategory } from './categories.js';

export const REPORT_VERSION = 1;

/** What the engine is and how slimpy built with it. */
export interface EngineFacts {
  /** Engine version as the daemon reports it, e.g. `20.10.24+dfsg1`. */
  version: string;
  apiVersion: string;
  /** `overlay2` (classic store) or `containerd` (containerd image store). */
  store: 'classic' | 'containerd';
  storageDriver: string;
  builder: 'buildkit' | 'classic';
  /** Why the builder was chosen, when it is not the default. */
  builderReason?: string;
}

export interface LayerRow {
  /** Uncompressed layer digest (diff id), `sha256:…`. */
  diffId: string;
  /** Bytes of the layer's content as `docker history` shows them. */
  size: number;
  /** gzip -6 size of the layer tar; undefined when not measured. */
  compressed?: number;
  /** The instruction that created it (`RUN pip install …`), shortened. */
  createdBy: string;
  /** True for layers that come from the final stage's base image. */
  base: boolean;
}

export interface FileRow {
  path: string;
  size: number;
}

/** One image as measured. */
export interface ImageMeasurement {
  id: string;
  /** Uncompressed size as `docker images` shows it on this store. */
  size: number;
  /** Sum of gzip -6 sizes of the layers: what a registry push transfers. */
  compressed?: number;
  /** How many layers' compressed sizes came from the digest cache. */
  compressedFromCache?: number;
  layers: LayerRow[];
  /** Largest files added by the image's own (non-base) layers, biggest first. */
  largestFiles: FileRow[];
  /** Bytes of the base image's layers and of the image's own layers. */
  baseSize: number;
  ownSize: number;
}

export interface StrippedFile {
  path: string;
  before: number;
  after: number;
}

export interface CategorySaving {
  /** A prune category, `strip`, or `other` for removed files no rule names. */
  category: PruneCategory | 'strip' | 'other';
  files: number;
  bytes: number;
}

export interface SmokeRun {
  image: 'before' | 'after';
  command: string[];
  exitCode: number | null;
  passed: boolean;
  timedOut: boolean;
  /** Last part of stdout+stderr, as captured (escape before rendering). */
  output: string;
  /** Median wall time of the timed runs, milliseconds. */
  medianMs?: number;
  runsMs?: number[];
}

/** The smoke test in the original image and (slim mode) the delivered one. */
export interface SmokeReport {
  command: string[];
  before: SmokeRun;
  after?: SmokeRun;
  /** median(after) − median(before), milliseconds; positive means the slim image starts slower. */
  coldStartDeltaMs?: number;
}

export interface SlimResult {
  /** How the Dockerfile was rewritten: derived builder stages, or prune in the installing RUN. */
  strategy: 'derived-stages' | 'same-run' | 'none';
  /** Human-readable reasons for the choices made (one sentence each). */
  notes: string[];
  /** What slimpy chose not to do, and why. */
  skipped: string[];
  /** The variant delivered: the full settings, or a fallback found by the culprit search. */
  variant: { strip: boolean; prune: PruneCategory[] };
  /** When the full settings broke the smoke test: the rule that broke it, e.g. `tests`. */
  culprit?: string;
  savings: CategorySaving[];
  strippedTop: StrippedFile[];
  /** Paths (relative to the workspace when known) of the slimmed Dockerfile and the patch. */
  dockerfilePath: string;
  patchPath: string;
  patch: string;
  warnings: string[];
}

export interface BudgetVerdict {
  metric: 'uncompressed' | 'compressed';
  limit: number;
  actual: number;
  over: boolean;
}

export interface GrowthVerdict {
  baseSha?: string;
  baseSize?: number;
  /** Which size `baseSize` and `actual` are; the report shows the base in that column (default uncompressed). */
  metric?: 'uncompressed' | 'compressed';
  actual: number;
  /** Bytes allowed to grow (resolved from % or bytes); undefined when no max-growth. */
  allowed?: number;
  over: boolean;
  message: string;
}

/** What a finding is about; each (layer, path) is counted in at most one finding. */
export type FindingKind =
  | 'build-toolchain'
  | 'install-inputs'
  | 'package-leftovers'
  | 'layer-waste'
  | 'duplicate-files'
  | 'base-image';

/**
 * Measured advice on weight that strip and prune do not remove, pointing at the Dockerfile line
 * that causes it (`src/measure/findings.ts` explains how each kind is detected and counted).
 */
export interface Finding {
  kind: FindingKind;
  /** What it is, e.g. `Build toolchain (gcc-12, libpython3.11-dev, +9 more)`. */
  title: string;
  /** Uncompressed bytes the image ships for it. */
  bytes: number;
  /**
   * Compressed bytes. For `base-image` the exact sum of the base layers' gzip sizes; for the other
   * kinds an estimate: the finding's share of its layer's file bytes times the layer's gzip size.
   */
  compressedBytes?: number;
  /** The instruction that produced the bytes, shortened to one line (`FROM …` for the base). */
  instruction: string;
  /** 1-based Dockerfile line of that instruction; undefined when the layer cannot be mapped. */
  line?: number;
  /** One sentence: what to change. */
  fix: string;
  /** The biggest paths involved, as evidence (absolute, from the image). */
  paths: string[];
}

/** Paths a run wrote: the JSON report, and in slim mode the slimmed Dockerfile and the patch. */
export interface ReportFiles {
  report: string;
  dockerfile?: string;
  patch?: string;
}

export interface SlimpyReport {
  version: typeof REPORT_VERSION;
  mode: 'slim' | 'measure';
  /** Dockerfile path relative to the workspace, and target. */
  dockerfile: string;
  target?: string;
  /**
   * The image given with the `image` input (its name or id, as given): `before` is that image as
   * an earlier step built it, measured without building.
   */
  image?: string;
  engine: EngineFacts;
  before: ImageMeasurement;
  after?: ImageMeasurement;
  slim?: SlimResult;
  smoke?: SmokeReport;
  budget?: BudgetVerdict;
  growth?: GrowthVerdict;
  /** What else makes the original image heavy, biggest first (absent when not computed). */
  findings?: Finding[];
  /** Things the user should know that did not stop the run. */
  warnings: string[];
}
