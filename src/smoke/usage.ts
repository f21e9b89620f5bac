/**
 * What the traced smoke test used of the image's Python environments: the report's advice, the
 * list the prune script keeps (`pycache` keeps the bytecode the test read, `unused` everything the
 * test touched), and the distributions `unused` would take files from. Pure: the image's files
 * and the trace in, figures out.
 */
import type { MergedEntry } from '../measure/filesystem.js';
import type { FileRow, TraceReport, TracedPackage } from '../model/report.js';
import { normalizePackageName } from '../model/packages.js';

/** One distribution as the tracer found it: `*.dist-info` directly in an environment. */
export interface TracedDistribution {
  env: string;
  /** The `*.dist-info` directory's name. */
  dir: string;
  name: string;
  version: string;
  /** What its RECORD lists, relative to `env`. */
  files: string[];
}

/** What the tracer wrote after a run it followed to the end. */
export interface TraceOutput {
  /** Every path opened, executed or mapped, as named and with symlinks resolved. */
  paths: string[];
  distributions: TracedDistribution[];
  processes: number;
  stops: number;
}

export interface ImageFiles {
  /** The image's final filesystem (measureImage's `files`). */
  files: ReadonlyMap<string, MergedEntry>;
  /** How many of its layers are the base image's (not the Dockerfile's own). */
  baseLayers: number;
}

export interface Usage {
  report: TraceReport;
  /** Paths relative to their environment that the prune script must keep, sorted. */
  kept: string[];
  /** Normalised names of the distributions with files `unused` would remove. */
  prunable: string[];
}

const TOP_ROWS = 10;
const SHARED_LIBRARY = /\.so(\.\d+)*$/;
/** `pkg/__pycache__/mod.cpython-311.opt-1.pyc` -> `pkg` and `mod`. */
const CACHED_BYTECODE = /^(.*)\/__pycache__\/([^/.]+)\.[^/.]+(?:\.opt-\d+)?\.pyc$/;

/**
 * Directories Python installs distributions into: every site-packages or dist-packages
 * directory, and any directory that holds a `*.dist-info` itself (`pip install --target`),
 * among the paths of the image's own regular files.
 */
export function pythonEnvironments(image: ImageFiles): string[] {
  const found = new Set<string>();
  for (const [path, entry] of image.files) {
    if (entry.type !== 'file' || entry.layerIndex < image.baseLayers) continue;
    const parts = path.split('/');
    for (let i = 1; i < parts.length - 1; i++) {
      const part = parts[i] ?? '';
      if (part === 'site-packages' || part === 'dist-packages') {
        found.add(parts.slice(0, i + 1).join('/'));
      } else if (part.endsWith('.dist-info')) {
        found.add(parts.slice(0, i).join('/'));
      }
    }
  }
  return [...found].sort();
}

/** The figures and lists for one trace; `keepPackages` are normalised names. */
export function traceUsage(
  image: ImageFiles,
  environments: readonly string[],
  trace: TraceOutput & { durationMs: number },
  keepPackages: readonly string[] = [],
): Usage {
  const files = environmentFiles(image, environments);
  const used = usedPaths(trace.paths, files);
  const packages = packageUsage(trace.distributions, files, used);
  const report: TraceReport = {
    status: 'traced',
    environments: [...environments],
    environmentFiles: files.size,
    environmentBytes: sumSizes(files, files.keys()),
    usedFiles: used.size,
    usedBytes: sumSizes(files, used),
    bytecodeBytes: sumSizes(files, [...files.keys()].filter(isBytecode)),
    usedBytecodeFiles: [...used].filter(isBytecode).length,
    usedBytecodeBytes: sumSizes(files, [...used].filter(isBytecode)),
    packages: packages
      .filter((p) => p.bytes > p.usedBytes)
      .sort((a, b) => b.bytes - b.usedBytes - (a.bytes - a.usedBytes))
      .slice(0, TOP_ROWS),
    unusedLibraries: unusedLibraries(files, used),
    processes: trace.processes,
    stops: trace.stops,
    durationMs: trace.durationMs,
  };
  return {
    report,
    kept: keptList(used, environments),
    prunable: prunableDistributions(trace.distributions, files, used, keepPackages),
  };
}

/** Path -> size of the own layers' regular files inside the environments. */
function environmentFiles(image: ImageFiles, environments: readonly string[]): Map<string, number> {
  const files = new Map<string, number>();
  for (const [path, entry] of image.files) {
    if (entry.type !== 'file' || entry.layerIndex < image.baseLayers) continue;
    if (environments.some((env) => path.startsWith(`${env}/`))) files.set(path, entry.size);
  }
  return files;
}

/**
 * The environment files the test touched. A read `__pycache__/mod.*.pyc` uses `mod.py` as well:
 * the import checked the source's timestamp and cannot do without it.
 */
function usedPaths(paths: readonly string[], files: ReadonlyMap<string, number>): Set<string> {
  const used = new Set<string>();
  for (const path of paths) {
    if (files.has(path)) used.add(path);
    const cached = CACHED_BYTECODE.exec(path);
    const source = cached ? `${cached[1]}/${cached[2]}.py` : undefined;
    if (source !== undefined && files.has(source)) used.add(source);
  }
  return used;
}

function packageUsage(
  distributions: readonly TracedDistribution[],
  files: ReadonlyMap<string, number>,
  used: ReadonlySet<string>,
): TracedPackage[] {
  return distributions.map((dist) => {
    const own = dist.files.map((file) => `${dist.env}/${file}`).filter((path) => files.has(path));
    const usedOwn = own.filter((path) => used.has(path));
    return {
      name: dist.name || dist.dir.replace(/-[^-]*\.dist-info$/, ''),
      version: dist.version,
      files: own.length,
      bytes: sumSizes(files, own),
      usedFiles: usedOwn.length,
      usedBytes: sumSizes(files, usedOwn),
    };
  });
}

function unusedLibraries(files: ReadonlyMap<string, number>, used: ReadonlySet<string>): FileRow[] {
  return [...files]
    .filter(([path]) => SHARED_LIBRARY.test(path) && !used.has(path))
    .map(([path, size]) => ({ path, size }))
    .sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1))
    .slice(0, TOP_ROWS);
}

/**
 * Each used file relative to every environment it is in: the prune script finds environments
 * under the builder stage's paths, which may differ from the final image's (COPY --from=… /a /b),
 * but a file's place inside its environment is the same in both.
 */
function keptList(used: ReadonlySet<string>, environments: readonly string[]): string[] {
  const kept = new Set<string>();
  for (const path of used) {
    if (path.includes('\n')) continue; // a list of lines cannot hold it (the prune keeps it anyway)
    for (const env of environments) {
      if (path.startsWith(`${env}/`)) kept.add(path.slice(env.length + 1));
    }
  }
  return [...kept].sort();
}

/** Distributions (not kept by the user) with a file `unused` would remove: what a restore can bring back. */
function prunableDistributions(
  distributions: readonly TracedDistribution[],
  files: ReadonlyMap<string, number>,
  used: ReadonlySet<string>,
  keepPackages: readonly string[],
): string[] {
  const names = new Set<string>();
  for (const dist of distributions) {
    const name = normalizePackageName(dist.name || dist.dir.replace(/-[^-]*\.dist-info$/, ''));
    if (keepPackages.includes(name)) continue;
    const removable = dist.files.some((file) => {
      const path = `${dist.env}/${file}`;
      return files.has(path) && !used.has(path) && isPrunable(file);
    });
    if (removable) names.add(name);
  }
  return [...names].sort();
}

/** What `unused` never removes: distribution metadata and `.pth` files. */
export function isPrunable(relativePath: string): boolean {
  return !/(^|\/)[^/]+\.(dist|egg)-info\//.test(relativePath) && !relativePath.endsWith('.pth');
}

function isBytecode(path: string): boolean {
  return path.endsWith('.pyc');
}

function sumSizes(files: ReadonlyMap<string, number>, paths: Iterable<string>): number {
  let total = 0;
  for (const path of paths) total += files.get(path) ?? 0;
  return total;
}
