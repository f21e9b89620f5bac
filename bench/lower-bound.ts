/**
 * The lower bound for the smoke test: the base image, plus the files of the image's own layers
 * that the smoke test actually opens or executes. No image that passes the smoke test by deleting
 * files can ship less than that; stripping can still shrink those files, so the bound is also given
 * with their sizes in slimpy's (stripped) image.
 *
 * How the files are found: the original image plus strace (a bench image built FROM it, with
 * apt-get) runs the smoke command under `strace -f -y` for open, openat, openat2, execve and
 * execveat (bench/trace-smoke.sh), as the image's user. Shared objects are loaded with openat, so
 * they are in the trace too. Python runs with PYTHONPYCACHEPREFIX pointing nowhere, so imports read
 * the `.py` sources, as they do in an image without `__pycache__`: bytecode caches are a start-up
 * optimisation Python can do without, while the sources are what an import needs.
 */
import { readFile } from 'node:fs/promises';
import type { MergedEntry } from '../src/measure/filesystem.js';
import type { MeasuredImage } from '../src/measure/sizes.js';
import { runContainer } from '../src/engine/containers.js';
import { tagImage } from '../src/engine/images.js';
import { benchLabels, buildDockerfileText, type BenchEngine } from './engine.js';
import type { LowerBound } from './results.js';

const TRACE_SCRIPT = 'bench/trace-smoke.sh';
const TRACE_MARKER = '@@slimpy-bench-trace@@ ';
const SCRIPT_IN_IMAGE = '/usr/local/lib/slimpy-bench/trace-smoke.sh';
const TRACE_TIMEOUT_MS = 10 * 60_000;

export const LOWER_BOUND_METHOD =
  'strace -f -y (open, openat, openat2, execve, execveat; successful calls) of the smoke test in ' +
  'the original image plus strace, as its user, with PYTHONPYCACHEPREFIX pointing nowhere so ' +
  'imports read sources; regular files of the own layers, hardlinks counted once';

interface TraceOutput {
  status: number;
  output: string;
  paths: string[];
}

/**
 * Traces the smoke test in `original` and sums the files it touched. `slimmed` gives their
 * stripped sizes (a file missing there counts 0: the slimmed image passed without it).
 */
export async function measureLowerBound(
  engine: BenchEngine,
  smoke: string,
  original: MeasuredImage,
  slimmed: MeasuredImage,
  environments: readonly string[] = [],
): Promise<LowerBound> {
  const trace = await traceSmoke(engine, original.measurement.id, smoke);
  const baseLayers = original.measurement.layers.filter((layer) => layer.base).length;
  const needed = neededFiles(trace.paths, original, baseLayers);
  let bytes = 0;
  let sharedObjectBytes = 0;
  let strippedBytes = 0;
  let environmentBytes = 0;
  for (const [file, size] of needed) {
    bytes += size;
    if (environments.some((env) => file.startsWith(`${env}/`))) environmentBytes += size;
    if (/\.so(\.|$)/.test(file)) sharedObjectBytes += size;
    const after = slimmed.files.get(file);
    strippedBytes += after?.type === 'file' ? after.size : 0;
  }
  const baseSize = original.measurement.baseSize;
  return {
    baseSize,
    files: needed.size,
    bytes,
    sharedObjectBytes,
    strippedBytes,
    size: baseSize + bytes,
    strippedSize: baseSize + strippedBytes,
    tracedSmoke: {
      passed: trace.status === 0,
      exitCode: trace.status,
      ...(trace.status === 0 ? {} : { outputTail: trace.output.slice(-2000) }),
    },
    method: LOWER_BOUND_METHOD,
    environmentBytes,
  };
}

/** Path -> size of the distinct regular files of the own layers among `paths`. */
export function neededFiles(
  paths: readonly string[],
  image: Pick<MeasuredImage, 'files' | 'layers'>,
  baseLayers: number,
): Map<string, number> {
  const needed = new Map<string, number>();
  for (const opened of paths) {
    const data = dataOf(opened, image);
    if (data && data.entry.layerIndex >= baseLayers) needed.set(data.path, data.entry.size);
  }
  return needed;
}

/** The regular file holding a path's bytes: itself, or the file a hardlink shares them with. */
function dataOf(
  file: string,
  image: Pick<MeasuredImage, 'files' | 'layers'>,
): { path: string; entry: MergedEntry } | undefined {
  const entry = image.files.get(file);
  if (entry?.type === 'file') return { path: file, entry };
  if (entry?.type !== 'hardlink') return undefined;
  const target = image.layers[entry.layerIndex]?.files.find((f) => f.path === file)?.linkTarget;
  const targetEntry = target === undefined ? undefined : image.files.get(target);
  return target !== undefined && targetEntry?.type === 'file'
    ? { path: target, entry: targetEntry }
    : undefined;
}

async function traceSmoke(engine: BenchEngine, imageId: string, smoke: string) {
  const { docker } = engine;
  const source = `slimpy-bench/traced:${engine.runId}`;
  await tagImage(docker, imageId, source);
  const user =
    ((await docker.getImage(imageId).inspect()).Config?.User as string | undefined) ?? '';
  const dockerfile = [
    `FROM ${source}`,
    'USER root',
    'RUN apt-get update -qq \\',
    ' && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends strace \\',
    ' && rm -rf /var/lib/apt/lists/*',
    `COPY trace-smoke.sh ${SCRIPT_IN_IMAGE}`,
    '',
  ].join('\n');
  const script = await readFile(TRACE_SCRIPT, 'utf8');
  const traced = await buildDockerfileText(engine, dockerfile, {
    files: [{ path: 'trace-smoke.sh', content: script }],
  });
  const run = await runContainer(docker, {
    image: traced,
    entrypoint: ['/bin/sh', SCRIPT_IN_IMAGE, smoke],
    user,
    env: ['PYTHONPYCACHEPREFIX=/nonexistent/slimpy-bench-pycache'],
    timeoutMs: TRACE_TIMEOUT_MS,
    labels: benchLabels(engine),
    maxOutputBytes: 64 * 1024 * 1024,
  });
  const line = run.output.split('\n').find((l) => l.startsWith(TRACE_MARKER));
  if (!line) {
    throw new Error(
      `the traced smoke test printed no result (exit ${run.exitCode}${run.timedOut ? ', timed out' : ''}):\n` +
        run.output.slice(-2000),
    );
  }
  return JSON.parse(line.slice(TRACE_MARKER.length)) as TraceOutput;
}
