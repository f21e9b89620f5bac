/**
 * `npm run bench` (scripts/bench.sh builds this file with bench/build.mjs and runs it from the
 * repository root, with the Python base image as its argument): for each shipped example, the
 * byte, time and compressed-size figures side by side, measured in this one run. Prints the tables
 * and writes bench/results/latest.json and latest.md.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { connectEngine } from '../src/engine/docker.js';
import { measureBytes } from './bytes.js';
import { measureCompressed } from './compressed.js';
import { removeBenchImages, type BenchEngine } from './engine.js';
import { EXAMPLES, type BenchExample } from './examples.js';
import { LOWER_BOUND_METHOD } from './lower-bound.js';
import { loadAverage, machineFacts } from './machine.js';
import {
  RESULTS_VERSION,
  type BenchResults,
  type ExampleResults,
  type MachineFacts,
} from './results.js';
import { renderResults } from './table.js';
import { measureTime, unusedPipeline } from './timing.js';
import { measureTrace } from './trace.js';

const RESULTS_DIR = 'bench/results';
/** Scratch space of the latest run: pipeline outputs and logs (git-ignored, kept for reading). */
const WORK_DIR = '.cache/bench/run';

const DEFINITIONS: Record<string, string> = {
  Size:
    'uncompressed, as slimpy reports it (`docker images` on the classic store); MB = 10^6 bytes. ' +
    'Compressed: the sum of the layers’ gzip -6 sizes, what a registry push transfers.',
  Saved: '(original − image) ÷ original.',
  'Gap to bound closed':
    '(original − image) ÷ (original − lower bound): how much of what could go, went.',
  'Lower bound': `the base image (which every variant ships as it is) plus the distinct files of the image’s own layers that the smoke test opens or executes, at their sizes as built. Found by ${LOWER_BOUND_METHOD}. The stripped bound takes the same files at their sizes in slimpy’s image: stripping shrinks files that must stay, so the bound for strip-and-delete is lower.`,
  'millpond-style script':
    'strip every file whose name matches `*.so*` (`strip --strip-unneeded`, slimpy’s flags), delete `tests/` and `__pycache__/` directories, `*.pyi` and `*.pyc`, in a stage derived from the builder whose venv the final stage copies, as slimpy does (bench/fixtures/). Built once with strip errors failing the build, once with `|| true` per file.',
  'slimpy, prune unused':
    'the same pipeline with `prune: all,unused`, right after the timed runs on the same base: it also removes the files in the Python environments that slimpy’s trace of the smoke test never saw opened, executed or mapped (docs/trace.md), and restores by distribution when the smoke test fails.',
  Trace:
    'slimpy’s own trace of the smoke test in the original image (the default cold run’s report). Used vs strace bound: its used bytes without bytecode (the strace run imports from sources) against the lower bound’s files inside the same environments. pycache: what the `pycache` row saves now that it keeps the bytecode the test read, against all the bytecode (what it removed before). Overhead: the smoke test in the original image untraced and traced, interleaved, after one untimed run of each; container start to exit.',
  'Smoke test':
    'the command above, run by slimpy’s smoke runner (no network, all capabilities dropped) in each image.',
  Cold: 'every instruction of the Dockerfile runs: the example is built on its Python base plus one layer with one empty file, which no build cache entry descends from (a fresh one for the plain build and one for the pipeline, so neither warms the other). The base is local, nothing is pulled; the wheels are in the build context. For the pipeline the compressed-size cache is empty as well.',
  Warm: 'the same builds again right after, on the same bases: every step from the build cache, layer sizes from the size cache.',
  'Plain build':
    'one build of the example’s Dockerfile through the Engine API, as slimpy sends it (same context tar, BuildKit, network host).',
  'Speed-up': 'GNU gzip’s time on the same layers ÷ the row’s time.',
  'slimpy pipeline':
    'runPipeline in process, as `slimpy slim` runs it with its defaults and the smoke test above: every step listed under the table, from the first build to the report (the smoke step runs each image once to check it, then five timed runs each for the cold-start figure).',
};

async function run(pythonImage: string): Promise<number> {
  const started = performance.now();
  const date = new Date().toISOString();
  const docker = connectEngine();
  const machine = await machineFacts(docker, pythonImage);
  rmSync(WORK_DIR, { recursive: true, force: true });
  mkdirSync(WORK_DIR, { recursive: true });
  const buildLog = path.join(WORK_DIR, 'builds.log');
  const engine: BenchEngine = {
    docker,
    builder: machine.engine.builder,
    runId: `${date.slice(0, 10)}-${randomBytes(4).toString('hex')}`,
    log: (line) => appendFileSync(buildLog, `${line}\n`),
  };
  const cacheBefore = await buildCacheBytes(docker);
  const examples: ExampleResults[] = [];
  try {
    for (const example of EXAMPLES) {
      const progress = (line: string): void => {
        const at = Math.round((performance.now() - started) / 1000);
        process.stderr.write(`bench [${at} s] ${example.name}: ${line}\n`);
      };
      examples.push(await benchExample(engine, example, { pythonImage, machine, progress }));
    }
  } finally {
    const removed = await removeBenchImages(engine);
    process.stderr.write(`bench: removed the ${removed} images this run made\n`);
  }
  const cacheAfter = await buildCacheBytes(docker);
  await writeResults({
    version: RESULTS_VERSION,
    date,
    machine: { ...machine, loadAtEnd: loadAverage() },
    definitions: DEFINITIONS,
    examples,
    benchSeconds: (performance.now() - started) / 1000,
    ...(cacheBefore !== undefined && cacheAfter !== undefined
      ? { buildCacheGrowth: cacheAfter - cacheBefore }
      : {}),
  });
  return 0;
}

/** Time first: its cold pipeline run makes the images the byte figures are taken from. */
async function benchExample(
  engine: BenchEngine,
  example: BenchExample,
  context: { pythonImage: string; machine: MachineFacts; progress: (line: string) => void },
): Promise<ExampleResults> {
  const { progress } = context;
  const timingOptions = {
    example,
    pythonImage: context.pythonImage,
    workspace: process.cwd(),
    workDir: path.join(WORK_DIR, example.name),
    progress,
  };
  const timing = await measureTime(engine, timingOptions);
  progress('slimpy pipeline, prune all,unused');
  const unused = await unusedPipeline(engine, timingOptions, timing);
  progress(`  ${unused.timing.seconds.toFixed(1)} s`);
  const bytes = await measureBytes(engine, {
    example,
    pipeline: timing.cold,
    unused: unused.result,
    base: timing.pipelineBase,
    sizeCacheDir: timing.sizeCacheDir,
    store: context.machine.engine.store,
    progress,
  });
  progress('trace: figures and overhead');
  const trace = await measureTrace(engine, example.smoke, timing.cold, bytes.lowerBound);
  const compressed = await measureCompressed(engine, timing.cold.report.before.id, progress);
  return { name: example.name, smoke: example.smoke, bytes, time: timing.time, compressed, trace };
}

async function writeResults(results: BenchResults): Promise<void> {
  const markdown = renderResults(results);
  mkdirSync(RESULTS_DIR, { recursive: true });
  await writeFile(path.join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(path.join(RESULTS_DIR, 'latest.md'), markdown);
  process.stdout.write(`\n${markdown}\n`);
  process.stderr.write(
    `bench: wrote ${RESULTS_DIR}/latest.json and latest.md; logs in ${WORK_DIR}/\n`,
  );
  if (results.buildCacheGrowth !== undefined) {
    process.stderr.write(
      `bench: the engine's build cache grew by ${(results.buildCacheGrowth / 1e9).toFixed(2)} GB ` +
        "during the run (this run's cold builds, and any other builds on the engine meanwhile); " +
        '`docker builder prune` reclaims unused build cache, engine-wide.\n',
    );
  }
}

/** Total size of the engine's build cache, when the engine reports it. */
async function buildCacheBytes(docker: Docker): Promise<number | undefined> {
  const usage = (await docker.df()) as { BuildCache?: Array<{ Size?: number }> | null };
  return usage.BuildCache?.reduce((sum, record) => sum + (record.Size ?? 0), 0);
}

const pythonImage = process.argv[2];
if (!pythonImage) {
  process.stderr.write(
    'usage: node .cache/bench/bench.mjs PYTHON_IMAGE (npm run bench does this)\n',
  );
  process.exit(2);
}
// Exit deliberately: keep-alive sockets of the engine client can hold Node open.
run(pythonImage).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
