/**
 * `npm run bench` (scripts/bench.sh builds this file with bench/build.mjs and runs it from the
 * repository root, with the Python base image as its argument): for each bench example, the
 * byte, time and compressed-size figures side by side, measured in this one run. Prints the tables
 * and writes bench/results/latest.json and latest.md.
 *
 * `npm run bench -- --only time --example pyarrow-duckdb` takes a part of it (figures: bytes,
 * time, compressed; examples by name, comma-separated); such a run writes bench/results/partial.*
 * instead, so the committed results stay whole.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
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
  type ToolchainResults,
} from './results.js';
import { renderResults } from './table.js';
import { benchToolchain } from './toolchain.js';
import { measureTime, unusedPipeline } from './timing.js';
import { measureTrace } from './trace.js';
import { startWheelIndex } from './wheel-index.js';

const RESULTS_DIR = 'bench/results';
/** Scratch space of the latest run: pipeline outputs and logs (git-ignored, kept for reading). */
const WORK_DIR = '.cache/bench/run';

const DEFINITIONS: Record<string, string> = {
  Size:
    'uncompressed, as slimpy reports it (`docker images` on the classic store); MB = 10^6 bytes. ' +
    'Compressed: the sum of the layers’ gzip -6 sizes, what a registry push transfers.',
  Saved: '(original − image) ÷ original.',
  'Where the bytes went':
    'the rows of slimpy’s table summed (bytes that left the image, by rule), against the measured change of the image’s size.',
  'Fix rules':
    'what the `leftovers` and `install-inputs` rows removed, against the bytes the findings (measured on the original image) attribute to package-manager leftovers and install inputs.',
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
  Cold: 'every instruction of the Dockerfile runs: the example is built on its Python base plus one layer with one empty file, which no build cache entry descends from (a fresh one for the plain build and one for the pipeline, so neither warms the other). The base is local, nothing is pulled; the wheels are in the build context, or (single-stage’s pyarrow) on a package index on loopback (scripts/wheel-index.py), from which pip downloads and caches them. For the pipeline the layer cache (sizes, file index, content hashes) is empty as well.',
  Warm: 'the same builds again right after, on the same bases: every step from the build cache, every layer known from the layer cache.',
  'Plain build':
    'one build of the example’s Dockerfile through the Engine API, as slimpy sends it (same context tar, BuildKit, network host).',
  'Pull request':
    'after the cold and warm runs, one line is added to one application file of the example (the context is a copy in the run’s scratch directory): the plain build is the incremental build of that change, and the pipeline runs with the layer cache the earlier runs left, as a pull-request run restored from the Actions cache would.',
  'Speed-up': 'GNU gzip’s time on the same layers ÷ the row’s time.',
  'Toolchain removed':
    'the `toolchain` row of “Where the bytes went” (bytes that left the image through the rule) ÷ the bytes the findings report as build toolchain in the original image.',
  'slimpy pipeline':
    'runSession in process, as `slimpy slim` runs it with its defaults and the smoke test above: every step listed under the table, from the first build to the report. Steps marked “in parallel” ran while others did (the slimmed build and the original’s smoke test while the original is measured; the slimmed image’s measurement during its smoke test). The smoke test runs each image once to check it, then, only when slimming removed bytecode, times both images for cold start alone: three runs each, up to five while the runs vary more than the delta.',
};

type Figure = 'bytes' | 'time' | 'compressed';
const FIGURES: readonly Figure[] = ['bytes', 'time', 'compressed'];

interface BenchChoice {
  figures: ReadonlySet<Figure>;
  examples: readonly BenchExample[];
  /** Everything was asked for: the results are the committed latest.*. */
  whole: boolean;
}

/** `--only time,bytes` and `--example a,b`; no arguments: everything. */
function parseChoice(args: readonly string[]): BenchChoice {
  const { values } = parseArgs({
    args: [...args],
    options: { only: { type: 'string' }, example: { type: 'string' } },
  });
  const list = (value: string | undefined): string[] =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  const only = list(values.only);
  const unknownFigure = only.find((figure) => !FIGURES.includes(figure as Figure));
  if (unknownFigure) throw new Error(`--only takes ${FIGURES.join(', ')}; not ${unknownFigure}`);
  const names = list(values.example);
  const unknownExample = names.find((name) => !EXAMPLES.some((e) => e.name === name));
  if (unknownExample) {
    throw new Error(
      `--example takes ${EXAMPLES.map((e) => e.name).join(', ')}; not ${unknownExample}`,
    );
  }
  return {
    figures: new Set(only.length > 0 ? (only as Figure[]) : FIGURES),
    examples: names.length > 0 ? EXAMPLES.filter((e) => names.includes(e.name)) : EXAMPLES,
    whole: only.length === 0 && names.length === 0,
  };
}

async function run(pythonImage: string, choice: BenchChoice): Promise<number> {
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
  let toolchain: ToolchainResults | undefined;
  try {
    for (const example of choice.examples) {
      const progress = (line: string): void => {
        const at = Math.round((performance.now() - started) / 1000);
        process.stderr.write(`bench [${at} s] ${example.name}: ${line}\n`);
      };
      examples.push(
        await benchExample(engine, example, { pythonImage, machine, progress, choice }),
      );
    }
    const progress = (line: string): void => {
      const at = Math.round((performance.now() - started) / 1000);
      process.stderr.write(`bench [${at} s] toolchain: ${line}\n`);
    };
    toolchain = await benchToolchain(engine, {
      pythonImage,
      workspace: process.cwd(),
      workDir: path.join(WORK_DIR, 'toolchain'),
      progress,
    });
  } finally {
    const removed = await removeBenchImages(engine);
    process.stderr.write(`bench: removed the ${removed} images this run made\n`);
  }
  const cacheAfter = await buildCacheBytes(docker);
  await writeResults(choice.whole ? 'latest' : 'partial', {
    version: RESULTS_VERSION,
    date,
    machine: { ...machine, loadAtEnd: loadAverage() },
    definitions: DEFINITIONS,
    examples,
    ...(toolchain ? { toolchain } : {}),
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
  context: {
    pythonImage: string;
    machine: MachineFacts;
    progress: (line: string) => void;
    choice: BenchChoice;
  },
): Promise<ExampleResults> {
  const { choice } = context;
  const results: ExampleResults = { name: example.name, smoke: example.smoke };
  const wantsBytes = choice.figures.has('bytes');
  if (!choice.figures.has('time') && !wantsBytes && !choice.figures.has('compressed'))
    return results;
  // An example whose pip downloads gets its package index on loopback for its whole run.
  const index = example.index ? await startWheelIndex(example.index) : undefined;
  try {
    return await benchWithIndex(engine, example, {
      ...context,
      results,
      wantsBytes,
      buildArgs: index ? { WHEEL_INDEX: index.url } : {},
    });
  } finally {
    index?.stop();
  }
}

async function benchWithIndex(
  engine: BenchEngine,
  example: BenchExample,
  context: {
    pythonImage: string;
    machine: MachineFacts;
    progress: (line: string) => void;
    choice: BenchChoice;
    results: ExampleResults;
    wantsBytes: boolean;
    buildArgs: Record<string, string>;
  },
): Promise<ExampleResults> {
  const { progress, choice, results, wantsBytes } = context;
  const timingOptions = {
    example,
    pythonImage: context.pythonImage,
    buildArgs: context.buildArgs,
    workspace: process.cwd(),
    workDir: path.join(WORK_DIR, example.name),
    progress,
  };
  const timing = await measureTime(engine, timingOptions);
  if (choice.figures.has('time')) results.time = timing.time;
  if (wantsBytes) {
    progress('slimpy pipeline, prune all,unused');
    const unused = await unusedPipeline(engine, timingOptions, timing);
    progress(`  ${unused.timing.seconds.toFixed(1)} s`);
    results.bytes = await measureBytes(engine, {
      example,
      pipeline: timing.cold,
      unused: unused.result,
      base: timing.pipelineBase,
      sizeCacheDir: timing.sizeCacheDir,
      store: context.machine.engine.store,
      progress,
    });
    progress('trace: figures and overhead');
    results.trace = await measureTrace(
      engine,
      example.smoke,
      timing.cold,
      results.bytes.lowerBound,
    );
  }
  if (choice.figures.has('compressed') && example.compressedFigures)
    results.compressed = await measureCompressed(engine, timing.cold.report.before.id, progress);
  return results;
}

async function writeResults(name: string, results: BenchResults): Promise<void> {
  const markdown = renderResults(results);
  mkdirSync(RESULTS_DIR, { recursive: true });
  await writeFile(path.join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(path.join(RESULTS_DIR, `${name}.md`), markdown);
  process.stdout.write(`\n${markdown}\n`);
  process.stderr.write(
    `bench: wrote ${RESULTS_DIR}/${name}.json and ${name}.md; logs in ${WORK_DIR}/\n`,
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
    'usage: node .cache/bench/bench.mjs PYTHON_IMAGE [--only FIGURES] [--example NAMES] (npm run bench does this)\n',
  );
  process.exit(2);
}
// Exit deliberately: keep-alive sockets of the engine client can hold Node open.
run(pythonImage, parseChoice(process.argv.slice(3))).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
