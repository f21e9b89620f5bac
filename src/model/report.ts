/**
 * The report object: what `slimpy ... --json` prints, what the action writes to the `report`
 * output path, and what the markdown is rendered from. Field names are a stable contract
 * (documented in README.md); add fields, never rename them.
 */
import type { PruneCategory } from './categories.js';
import type { FixRule } from './fixes.js';

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
  /**
   * A prune category, a fix rule, `strip`, or `other` for changes no rule names (negative when
   * the rewrite added bytes, e.g. the prune script copied in on the classic builder).
   */
  category: PruneCategory | FixRule | 'strip' | 'other';
  files: number;
  /** Bytes that left the image: the rows add up to the size change. */
  bytes: number;
}

/**
 * Bytes the slimmed image deletes but still ships: a later layer hides them, the layer that made
 * them keeps them. Never counted as saved.
 */
export interface StillShipped {
  /** 1-based position of the layer holding them in the delivered image. */
  layer: number;
  /** The instruction that made that layer, shortened to one line. */
  instruction: string;
  /** Its 1-based line in the original Dockerfile, when known. */
  line?: number;
  /** True for a layer of the base image. */
  base: boolean;
  bytes: number;
  files: number;
  /** What they are, by the rule that deleted them, biggest first. */
  categories: Array<{ category: CategorySaving['category']; bytes: number }>;
  /** One sentence each: why they still ship, and what would make them leave. */
  why: string;
  fix: string;
  /** The biggest paths, as evidence. */
  paths: string[];
}

/** ELF files strip left as they were because the stripped copy failed a check. */
export interface StripKept {
  files: number;
  /** Their sizes together. */
  bytes: number;
  /** How many files each reason kept, most first (e.g. a loadable segment would move). */
  reasons: Array<{ reason: string; files: number }>;
  /** Some of the files, as evidence. */
  paths: string[];
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
  /**
   * How much the timed runs of one image vary: the larger of the two images' ranges (slowest −
   * fastest run), milliseconds. A delta no larger than this is no measurable change.
   */
  coldStartSpreadMs?: number;
}

/**
 * Why slim mode delivers no smaller image, when it does not: the headline, the job summary and
 * the CLI say which of these it was, with `detail` (the unresolved root, the failing rule).
 */
export interface UnchangedReason {
  /**
   * `nothing-to-prune`: the plan found no Python environment to prune; `no-environment`: the
   * prune found none under the roots it was given; `nothing-removed`: it found environments but
   * removed nothing; `all-variants-failed`: every slimmed variant failed the smoke test.
   */
  kind: 'nothing-to-prune' | 'no-environment' | 'nothing-removed' | 'all-variants-failed';
  /** One sentence: what happened and why. */
  detail: string;
}

/** A root the plan gave the prune that was not a directory in its stage (the prune skipped it). */
export interface MissingRoot {
  root: string;
  /** 1-based Dockerfile lines of the COPY instructions it comes from. */
  lines: number[];
}

/**
 * Files a rule would have removed and a package exception kept, because the package reads them
 * at run time (docs/exceptions.md). Measured in the original image: the files that are still in
 * the delivered one.
 */
export interface KeptException {
  /** A table entry (`torch-inductor`) or a detection (`lazy-stubs`, `pkg-resources`, `nspkg`, `bytecode`). */
  id: string;
  /** The rule that left them alone. */
  category: PruneCategory;
  /** The Python environment (site-packages directory) they are in. */
  environment: string;
  /** What was kept, relative to `environment` (globs where the exception names one). */
  paths: string[];
  files: number;
  bytes: number;
  /** Why, in one sentence. */
  reason: string;
  /** The public issue or document behind it. */
  source: string;
}

export interface SlimResult {
  /** How the Dockerfile was rewritten: derived builder stages, or prune in the installing RUN. */
  strategy: 'derived-stages' | 'same-run' | 'fixes' | 'none';
  /** Human-readable reasons for the choices made (one sentence each). */
  notes: string[];
  /** What slimpy chose not to do, and why. */
  skipped: string[];
  /** The variant delivered: the full settings, or a fallback found by the culprit search. */
  variant: { strip: boolean; prune: PruneCategory[]; fix?: FixRule[] };
  /** When the full settings broke the smoke test: the rule that broke it, e.g. `tests`. */
  culprit?: string;
  /**
   * `unused` broke the smoke test and the culprit search kept these distributions' files
   * (normalised names), delivering the rest of the prune.
   */
  restored?: string[];
  savings: CategorySaving[];
  /** Deleted by the slimmed Dockerfile but still shipped in an earlier layer (not in `savings`). */
  stillShipped?: StillShipped[];
  /** What strip refused, from the slimmed build's log (absent when that step came from cache). */
  stripKept?: StripKept;
  strippedTop: StrippedFile[];
  /** What the package exceptions kept in the delivered image (absent when none applied). */
  exceptions?: KeptException[];
  /** Paths (relative to the workspace when known) of the slimmed Dockerfile and the patch. */
  dockerfilePath: string;
  patchPath: string;
  patch: string;
  warnings: string[];
  /** Set when the delivered image is not smaller, with the reason. */
  unchanged?: UnchangedReason;
  /** Roots the prune could not find: each an error on its COPY line. */
  missingRoots?: MissingRoot[];
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
 * What the measurement found, without words: the facts a fix rule plans from and the report words
 * (`src/measure/findings.ts` explains how each kind is detected and counted).
 */
export interface FindingFacts {
  kind: FindingKind;
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
  /** The biggest paths involved, as evidence (absolute, from the image). */
  paths: string[];
  /** Index of the layer holding the bytes (RootFS order); -1 for the base image's layers together. */
  layer: number;
  /** The instruction's keyword (`RUN`, `COPY`, …) when known. */
  keyword?: string;
  /** How many files. */
  files: number;
  /** Which rule matched: toolchain parts, leftover kinds, install-input kinds (findings/rules.ts). */
  parts: string[];
  /** Toolchain packages the layer installed (dpkg), compilers first. */
  packages?: string[];
  /** Lines of the later instructions that delete or hide these bytes (all known), or []. */
  hiddenByLines?: number[];
  /** True when a later layer deletes or hides these bytes (they still ship in `layer`). */
  hidden?: boolean;
  /** Install inputs: how many wheels and sdists. */
  inputs?: { wheels: number; sdists: number };
  /** Duplicates: the biggest copy and the file it repeats. */
  duplicate?: { path: string; original: string };
  /** The base image and its `-slim` twin. */
  base?: {
    image: string;
    slimVariant: string;
    slimVariantSize?: number;
    baseBytes: number;
    totalBytes: number;
    /** The FROM line names the base through a build arg. */
    viaArg: boolean;
  };
}

/** A finding as the report shows it: the facts, what it is, and what to change. */
export interface Finding extends FindingFacts {
  /** What it is, e.g. `Build toolchain (gcc-12, libpython3.11-dev, +9 more)`. */
  title: string;
  /** One sentence: what to change. */
  fix: string;
  /**
   * Slim mode, when a fix rule takes on this kind (`toolchain`: `build-toolchain`) and did not
   * remove it from the delivered image: why. A finding the rule removed is left out of the report.
   */
  unfixed?: string;
}

/** One step of a run and its wall time. Steps can overlap: `startSeconds` says when each began. */
export interface StepTiming {
  step: string;
  seconds: number;
  /** Seconds after the run began. */
  startSeconds: number;
  /** It ran while other steps ran (its time is not added to theirs). */
  overlapped?: boolean;
}

/** What the run cost: its wall time and each step's, in the order the steps began. */
export interface RunTimings {
  totalSeconds: number;
  steps: StepTiming[];
}

/** One installed distribution as the traced smoke test used it. */
export interface TracedPackage {
  /** As its metadata names it, e.g. `pyarrow`. */
  name: string;
  version: string;
  /** Regular files of the image's own layers that its RECORD lists, and their bytes. */
  files: number;
  bytes: number;
  /** Those the smoke test opened, executed or mapped (a read `.pyc` counts its `.py` too). */
  usedFiles: number;
  usedBytes: number;
}

/**
 * What the smoke test used of the Python environments, from a trace of its run in the original
 * image (docs/trace.md): advice in every report, and what `pycache` and `unused` go by.
 */
export interface TraceReport {
  /** `traced`: the figures are set; `unavailable`: the trace could not run, `reason` says why. */
  status: 'traced' | 'unavailable';
  reason?: string;
  /** The environments (site-packages and the like) holding files of the image's own layers. */
  environments: string[];
  /** Regular files in them and their bytes. */
  environmentFiles: number;
  environmentBytes: number;
  /** Of those, what the smoke test opened, executed or mapped (with the sources of read bytecode). */
  usedFiles: number;
  usedBytes: number;
  /** Bytecode (`.pyc`) in the environments, and the part the smoke test read (which `pycache` keeps). */
  bytecodeBytes: number;
  usedBytecodeFiles: number;
  usedBytecodeBytes: number;
  /** Distributions with the most bytes the smoke test never touched, most first (at most 10). */
  packages: TracedPackage[];
  /** Shared libraries in the environments no process loaded, biggest first (at most 10). */
  unusedLibraries: FileRow[];
  /** Processes the trace followed and system calls it stopped on. */
  processes: number;
  stops: number;
  /** Wall time of the traced run, milliseconds. */
  durationMs: number;
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
  /** What the smoke test used, traced in the original image (slim mode with a smoke test). */
  trace?: TraceReport;
  /** Things the user should know that did not stop the run. */
  warnings: string[];
  /** How long the run and each of its steps took. */
  timings?: RunTimings;
}
