/**
 * What `npm run bench` measures, as written to bench/results/latest.json. Every number here was
 * measured in the run that wrote the file; nothing is carried over from an earlier run.
 */

export const RESULTS_VERSION = 2;

export interface BenchResults {
  version: typeof RESULTS_VERSION;
  /** ISO time the run started. */
  date: string;
  machine: MachineFacts;
  /** What the words in the tables mean, as the run applied them. */
  definitions: Record<string, string>;
  examples: ExampleResults[];
  /** The toolchain example (bench/toolchain.ts). */
  toolchain?: ToolchainResults;
  /** Wall time of the whole bench, seconds. */
  benchSeconds: number;
  /** Build cache the run left on the engine (its cold builds), bytes; see README. */
  buildCacheGrowth?: number;
}

export interface MachineFacts {
  /** Cores this process may use (`nproc`). */
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  /** 1, 5 and 15 minute load averages when the run started and when it ended. */
  loadAtStart: number[];
  loadAtEnd?: number[];
  kernel: string;
  node: string;
  engine: {
    version: string;
    apiVersion: string;
    store: 'classic' | 'containerd';
    storageDriver: string;
    builder: 'buildkit' | 'classic';
  };
  /** The Python base image the examples were built on (PYTHON_IMAGE). */
  baseImage: string;
}

export interface ExampleResults {
  name: string;
  smoke: string;
  /** Absent for an example without millpond fixtures, or when the run left bytes out. */
  bytes?: BytesResults;
  time?: TimeResults;
  compressed?: CompressedResults;
  /** What slimpy's own trace of the smoke test found, and what it changed (docs/trace.md). */
  trace?: TraceFigures;
}

/** slimpy's trace (the cold pipeline's report) against the bench's own measurements. */
export interface TraceFigures {
  /** `unavailable` with the reason when slimpy could not trace the smoke test. */
  status: 'traced' | 'unavailable';
  reason?: string;
  environmentBytes: number;
  usedBytes: number;
  bytecodeBytes: number;
  usedBytecodeBytes: number;
  /** usedBytes without bytecode: what the strace bound measures (it runs without bytecode). */
  usedSourceBytes: number;
  /** The strace lower bound's files inside the same environments, bytes. */
  boundEnvironmentBytes: number;
  /** (usedSourceBytes − boundEnvironmentBytes) ÷ boundEnvironmentBytes × 100. */
  differencePercent: number;
  /** What the `pycache` row saved in slimpy's default run, and all bytecode (what it saved before). */
  pycacheSavedBytes: number;
  /** Medians of the default run's timed smoke runs, and after − before. */
  coldStart?: { beforeMs: number; afterMs: number; deltaMs: number };
  /** The same smoke test in the original image, traced and not, medians of `runs` runs each. */
  overhead?: { runs: number; tracedMs: number; untracedMs: number };
}

export interface SmokeOutcome {
  passed: boolean;
  exitCode: number | null;
  /** The end of its output when it failed. */
  outputTail?: string;
}

export interface Variant {
  label: string;
  /** False when the image could not be built; then only `buildError` is set. */
  built: boolean;
  buildError?: string;
  /** Uncompressed size as slimpy reports it (`docker images` on the classic store). */
  size?: number;
  /** Sum of the layers' gzip -6 sizes. */
  compressed?: number;
  smoke?: SmokeOutcome;
  /** Anything a reader should know about this row (e.g. slimpy's culprit search). */
  note?: string;
}

export interface LowerBound {
  /** Size of the base image (the final stage's FROM), which every variant ships unchanged. */
  baseSize: number;
  /** Distinct regular files of the image's own layers the smoke test opened or executed. */
  files: number;
  /** Their sizes as built. */
  bytes: number;
  /** Of those, shared objects (`*.so`, `*.so.*`). */
  sharedObjectBytes: number;
  /** The same files' sizes in slimpy's image (stripped where slimpy strips). */
  strippedBytes: number;
  /** baseSize + bytes. */
  size: number;
  /** baseSize + strippedBytes. */
  strippedSize: number;
  /** Exit status of the smoke test under the tracer (it must pass for the bound to mean much). */
  tracedSmoke: SmokeOutcome;
  /** How the files were found. */
  method: string;
  /** Of `bytes`, those inside slimpy's Python environments (report.trace.environments). */
  environmentBytes?: number;
}

export interface BytesResults {
  original: Variant;
  slimpy: Variant;
  /** slimpy with `prune: all,unused` (absent in results from before it existed). */
  slimpyUnused?: Variant;
  /** Only for examples with a builder stage (bench/fixtures/<name>/). */
  millpond?: Variant;
  millpondTolerant?: Variant;
  lowerBound: LowerBound;
  savings: SavingsCheck;
}

/** slimpy's "Where the bytes went" against the measured change, from the cold pipeline run. */
export interface SavingsCheck {
  /** The rows of the table, summed. */
  rows: number;
  /** original size − delivered size, as measured. */
  delta: number;
  /** Bytes the findings attribute to package-manager leftovers and install inputs. */
  findingsLeftoversAndInputs: number;
  /** What the `leftovers` and `install-inputs` rows removed. */
  fixedLeftoversAndInputs: number;
}

export interface PipelineTiming {
  seconds: number;
  /**
   * Seconds per pipeline step, as the report's `timings` gives them (build, measure, slimmed
   * build, smoke, …); an overlapped step ran alongside the others and its time is not added.
   */
  steps: Array<{ step: string; seconds: number; overlapped?: boolean }>;
}

export interface ScenarioTiming {
  plainSeconds: number;
  pipeline: PipelineTiming;
  ratio: number;
}

export interface TimeResults {
  cold: ScenarioTiming;
  warm: ScenarioTiming;
  /** One application file changed after the cold and warm runs (see the definitions). */
  pullRequest: ScenarioTiming;
  /** Uncompressed size of the example's image (the cold pipeline's original). */
  imageSize: number;
}

export interface CompressedResults {
  /** The image measured (the original build). */
  image: string;
  layers: number;
  tarBytes: number;
  slimpyCold: { seconds: number; bytes: number; fromCache: number };
  slimpyWarm: { seconds: number; bytes: number; fromCache: number };
  gzip: {
    seconds: number;
    bytes: number;
    /** `docker save` and unpacking it, before the timed gzip runs (not in `seconds`). */
    exportSeconds: number;
    command: string;
  };
  /**
   * The same layers, one gzip -6 stream each, through Node's zlib (the library slimpy deflates
   * with), one after another: separates the library's share of the difference from chunking's.
   */
  nodeZlib: { seconds: number; bytes: number };
  /** (slimpy bytes − gzip bytes) / gzip bytes × 100, over the whole image. */
  differencePercent: number;
  /** The largest such difference for one layer (layers over 1 MiB of tar). */
  worstLayerDifferencePercent: number;
  /** Concurrency slimpy used (deflate jobs at once) and the libuv threadpool size. */
  concurrency: number;
  threadpool: number;
}

export interface ToolchainResults {
  /** Build context of the example. */
  example: string;
  smoke: string;
  /** Sizes of the original and the delivered image. */
  original: number;
  delivered: number;
  /** What the findings report as build toolchain in the original image. */
  findingBytes: number;
  /** The `toolchain` row of "Where the bytes went": bytes that left the image through the rule. */
  removedBytes: number;
  /** removedBytes ÷ findingBytes. */
  removedShare: number;
  /** The rule's notes: which way it took, what left, what it kept and why. */
  notes: string[];
  /** True when the delivered image's report still lists the toolchain finding. */
  findingStays: boolean;
  /** The smoke test in the delivered image. */
  smokeAfter: SmokeOutcome;
  pipelineSeconds: number;
  /**
   * The default report's trace against the strace lower bound in the same environments: used
   * bytes without bytecode (the strace run imports from sources), and the bound's bytes there.
   */
  trace?: {
    usedBytes: number;
    environmentBytes: number;
    usedSourceBytes: number;
    boundBytes: number;
  };
}
