/**
 * Time: slimpy's whole pipeline (build, measure, slim, rebuild, smoke, report), in process, against
 * one plain build of the same Dockerfile, in three scenarios, each measured side by side:
 *
 * - Cold: built on a base the build cache has never seen (freshBase), so every instruction runs;
 *   the plain build and the pipeline get a fresh base each, so neither warms the other. The base
 *   image itself is local (nothing is pulled) and the wheels are in the build context or on a loopback
 *   index (scripts/wheel-index.py, for the example whose pip downloads).
 *   For the pipeline, the layer cache starts empty too.
 * - Warm: the same again on the same bases: every step from the build cache, every layer known.
 * - Pull request: one application file changed, as a typical pull request does; the plain build
 *   is the incremental build of that change, the pipeline runs with the layer cache the earlier
 *   runs left (what a pull-request run restores from the Actions cache).
 *
 * The example's context is copied into the run's scratch directory first, so the change never
 * touches the repository.
 */
import { appendFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readSettings } from '../src/inputs.js';
import type { PipelineHooks } from '../src/pipeline/hooks.js';
import { runSession, type SessionResult } from '../src/session.js';
import { buildDockerfile, freshBase, type BenchEngine } from './engine.js';
import type { BenchExample } from './examples.js';
import type { PipelineTiming, ScenarioTiming, TimeResults } from './results.js';

export interface TimingRun {
  time: TimeResults;
  /** The cold pipeline's result: its images are the ones the byte figures are taken from. */
  cold: SessionResult;
  /** The base the pipeline ran on (the final stage's FROM). */
  pipelineBase: string;
  /** The pipeline's layer cache, warm after the runs. */
  sizeCacheDir: string;
  /** The example's context as the runs used it (a copy, with the pull request's change). */
  context: string;
}

export interface TimingOptions {
  example: BenchExample;
  /** The Python base image (scripts/base-image.sh). */
  pythonImage: string;
  /** Build args besides PYTHON_IMAGE (the example's WHEEL_INDEX). */
  buildArgs: Record<string, string>;
  workspace: string;
  /** Scratch directory of this example's run (pipeline outputs, size cache, logs). */
  workDir: string;
  progress: (line: string) => void;
}

type Phase = 'cold' | 'warm' | 'pull-request';

export async function measureTime(engine: BenchEngine, options: TimingOptions): Promise<TimingRun> {
  const { progress } = options;
  const context = copyContext(options);
  const plainBase = await freshBase(engine, options.pythonImage, `${engine.runId}-plain`);
  const pipelineBase = await freshBase(engine, options.pythonImage, `${engine.runId}-pipeline`);
  const sizeCacheDir = path.join(options.workDir, 'size-cache');
  const scenario = async (phase: Phase): Promise<ScenarioTiming & { result: SessionResult }> => {
    progress(`plain build, ${phase}`);
    const plainSeconds = await seconds(() =>
      buildDockerfile(engine, {
        context,
        dockerfile: 'Dockerfile',
        buildArgs: { ...options.buildArgs, PYTHON_IMAGE: plainBase },
      }),
    );
    progress(`  ${plainSeconds.toFixed(1)} s`);
    progress(`slimpy pipeline, ${phase}`);
    const run = await timePipeline(engine, options, {
      context,
      base: pipelineBase,
      phase,
      sizeCacheDir,
    });
    progress(
      `  ${run.timing.seconds.toFixed(1)} s (${(run.timing.seconds / plainSeconds).toFixed(1)}× the plain build)`,
    );
    return {
      plainSeconds,
      pipeline: run.timing,
      ratio: run.timing.seconds / plainSeconds,
      result: run.result,
    };
  };
  const cold = await scenario('cold');
  const warm = await scenario('warm');
  changeAppFile(context, options.example, engine.runId);
  const pullRequest = await scenario('pull-request');
  return {
    time: {
      cold: timingOf(cold),
      warm: timingOf(warm),
      pullRequest: timingOf(pullRequest),
      imageSize: cold.result.report.before.size,
    },
    cold: cold.result,
    context,
    pipelineBase,
    sizeCacheDir,
  };
}

function timingOf(run: ScenarioTiming): ScenarioTiming {
  return { plainSeconds: run.plainSeconds, pipeline: run.pipeline, ratio: run.ratio };
}

/** The example's build context, copied into the scratch directory (the change lands there). */
function copyContext(options: TimingOptions): string {
  const context = path.join(options.workDir, 'context');
  rmSync(context, { recursive: true, force: true });
  mkdirSync(options.workDir, { recursive: true });
  cpSync(options.example.context, context, { recursive: true, dereference: true });
  return context;
}

/** What a typical pull request does: one line more in one application file. */
function changeAppFile(context: string, example: BenchExample, runId: string): void {
  const file = path.join(context, example.appFile);
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, `${text}\n# bench: a pull request's change (${runId})\n`);
}

/**
 * The pipeline with `prune: all,unused`, on the pipeline's base right after the timed runs (so
 * the original build comes from the build cache): the "slimpy, prune unused" row.
 */
export function unusedPipeline(
  engine: BenchEngine,
  options: TimingOptions,
  timing: Pick<TimingRun, 'context' | 'pipelineBase' | 'sizeCacheDir'>,
): Promise<{ result: SessionResult; timing: PipelineTiming }> {
  return timePipeline(engine, options, {
    context: timing.context,
    base: timing.pipelineBase,
    phase: 'unused',
    sizeCacheDir: timing.sizeCacheDir,
    inputs: { prune: 'all,unused' },
  });
}

async function timePipeline(
  engine: BenchEngine,
  options: TimingOptions,
  run: {
    context: string;
    base: string;
    phase: Phase | 'unused';
    sizeCacheDir: string;
    inputs?: Record<string, string>;
  },
): Promise<{ result: SessionResult; timing: PipelineTiming }> {
  const { example } = options;
  const inputs: Record<string, string> = {
    context: run.context,
    'build-args': Object.entries({ ...options.buildArgs, PYTHON_IMAGE: run.base })
      .map(([name, value]) => `${name}=${value}`)
      .join('\n'),
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
  const steps = (result.report.timings?.steps ?? []).map(({ step, seconds, overlapped }) => ({
    step,
    seconds,
    ...(overlapped ? { overlapped } : {}),
  }));
  for (const step of steps)
    options.progress(
      `  ${step.step}: ${step.seconds.toFixed(1)} s${step.overlapped ? ' (in parallel)' : ''}`,
    );
  return { result, timing: { seconds: total, steps } };
}

/** Pipeline hooks that log to a file (the report's `timings` give the step times). */
export function loggingHooks(logFile: string, progress: (line: string) => void): PipelineHooks {
  mkdirSync(path.dirname(logFile), { recursive: true });
  const log = (line: string): void => appendFileSync(logFile, `${line}\n`);
  return {
    info: log,
    warning: (message) => {
      log(`warning: ${message}`);
      progress(`  warning: ${message}`);
    },
    group: async (title, work) => {
      log(`== ${title}`);
      return work();
    },
  };
}

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}
