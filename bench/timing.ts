/**
 * Time: slimpy's whole pipeline (build, measure, slim, rebuild, smoke, report), in process, against
 * one plain build of the same Dockerfile, each with a cold and with a warm build cache.
 *
 * Cold: built on a base the build cache has never seen (freshBase), so every instruction runs; the
 * plain build and the pipeline get a fresh base each, so neither warms the other. The base image
 * itself is local (nothing is pulled) and the wheels are in the build context (no index). For the
 * pipeline, the compressed-size cache starts empty too. Warm: the same again on the same bases, so
 * every step the run repeats comes from the build cache, and layer sizes from the size cache.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { readSettings } from '../src/inputs.js';
import type { PipelineHooks } from '../src/pipeline/hooks.js';
import { runSession, type SessionResult } from '../src/session.js';
import { buildDockerfile, freshBase, type BenchEngine } from './engine.js';
import type { BenchExample } from './examples.js';
import type { PipelineTiming, TimeResults } from './results.js';

export interface TimingRun {
  time: TimeResults;
  /** The cold pipeline's result: its images are the ones the byte figures are taken from. */
  cold: SessionResult;
  /** The base the pipeline ran on (the final stage's FROM). */
  pipelineBase: string;
  /** The pipeline's compressed-size cache, warm after the runs. */
  sizeCacheDir: string;
}

export interface TimingOptions {
  example: BenchExample;
  /** The Python base image (scripts/base-image.sh). */
  pythonImage: string;
  workspace: string;
  /** Scratch directory of this example's run (pipeline outputs, size cache, logs). */
  workDir: string;
  progress: (line: string) => void;
}

export async function measureTime(engine: BenchEngine, options: TimingOptions): Promise<TimingRun> {
  const { example, progress } = options;
  const plainBase = await freshBase(engine, options.pythonImage, `${engine.runId}-plain`);
  const pipelineBase = await freshBase(engine, options.pythonImage, `${engine.runId}-pipeline`);
  const sizeCacheDir = path.join(options.workDir, 'size-cache');
  const pipeline = (phase: string): Promise<{ result: SessionResult; timing: PipelineTiming }> =>
    timePipeline(engine, options, { base: pipelineBase, phase, sizeCacheDir });
  const plain = (): Promise<number> =>
    seconds(() =>
      buildDockerfile(engine, {
        context: example.context,
        dockerfile: 'Dockerfile',
        buildArgs: { PYTHON_IMAGE: plainBase },
      }),
    );

  progress('plain build, cold');
  const plainCold = await plain();
  progress(`  ${plainCold.toFixed(1)} s`);
  progress('slimpy pipeline, cold');
  const cold = await pipeline('cold');
  progress(`  ${cold.timing.seconds.toFixed(1)} s`);
  progress('plain build, warm');
  const plainWarm = await plain();
  progress(`  ${plainWarm.toFixed(1)} s`);
  progress('slimpy pipeline, warm');
  const warm = await pipeline('warm');
  progress(`  ${warm.timing.seconds.toFixed(1)} s`);
  return {
    time: {
      cold: {
        plainSeconds: plainCold,
        pipeline: cold.timing,
        ratio: cold.timing.seconds / plainCold,
      },
      warm: {
        plainSeconds: plainWarm,
        pipeline: warm.timing,
        ratio: warm.timing.seconds / plainWarm,
      },
    },
    cold: cold.result,
    pipelineBase,
    sizeCacheDir,
  };
}

/**
 * The pipeline with `prune: all,unused`, on the pipeline's base right after the timed runs (so
 * the original build comes from the build cache): the "slimpy, prune unused" row.
 */
export function unusedPipeline(
  engine: BenchEngine,
  options: TimingOptions,
  timing: Pick<TimingRun, 'pipelineBase' | 'sizeCacheDir'>,
): Promise<{ result: SessionResult; timing: PipelineTiming }> {
  return timePipeline(engine, options, {
    base: timing.pipelineBase,
    phase: 'unused',
    sizeCacheDir: timing.sizeCacheDir,
    inputs: { prune: 'all,unused' },
  });
}

async function timePipeline(
  engine: BenchEngine,
  options: TimingOptions,
  run: { base: string; phase: string; sizeCacheDir: string; inputs?: Record<string, string> },
): Promise<{ result: SessionResult; timing: PipelineTiming }> {
  const { example } = options;
  const inputs: Record<string, string> = {
    context: example.context,
    'build-args': `PYTHON_IMAGE=${run.base}`,
    network: 'host',
    'smoke-test': example.smoke,
    ...run.inputs,
  };
  const settings = readSettings((name) => inputs[name] ?? '', {
    workspace: options.workspace,
    outputDir: path.join(options.workDir, `pipeline-${run.phase}`),
    cacheDir: run.sizeCacheDir,
    runId: `${engine.runId}-${run.phase}`,
  });
  const logFile = path.join(options.workDir, `pipeline-${run.phase}.log`);
  const hooks = loggingHooks(logFile, options.progress);
  const started = performance.now();
  const result = await runSession(settings, { hooks, publish: async () => undefined });
  const total = (performance.now() - started) / 1000;
  return { result, timing: { seconds: total, steps: hooks.steps } };
}

/** Pipeline hooks that log to a file and time each step (log group). */
function loggingHooks(
  logFile: string,
  progress: (line: string) => void,
): PipelineHooks & { steps: PipelineTiming['steps'] } {
  mkdirSync(path.dirname(logFile), { recursive: true });
  const log = (line: string): void => appendFileSync(logFile, `${line}\n`);
  const steps: PipelineTiming['steps'] = [];
  return {
    steps,
    info: log,
    warning: (message) => {
      log(`warning: ${message}`);
      progress(`  warning: ${message}`);
    },
    group: async (title, work) => {
      log(`== ${title}`);
      const started = performance.now();
      try {
        return await work();
      } finally {
        const taken = (performance.now() - started) / 1000;
        steps.push({ step: title, seconds: taken });
        progress(`  ${title}: ${taken.toFixed(1)} s`);
      }
    },
  };
}

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}
