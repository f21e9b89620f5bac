/**
 * The original image's smoke-test check run, traced (docs/trace.md): the tracer goes into the
 * container through the engine's archive endpoint, runs the smoke command with the image's own
 * Python, and its result file comes back the same way. When the trace cannot run, or the traced
 * run fails, the ordinary run decides: the trace never fails a test that passes without it.
 */
import type Dockerode from 'dockerode';
import { ContainerStartError, runContainer, type ContainerRun } from '../engine/containers.js';
import type { SmokeRun } from '../model/report.js';
import type { SmokeCommand } from './command.js';
import { DEFAULT_MAX_OUTPUT_BYTES, SmokeRunner, smokeCommand, type SmokeOptions } from './smoke.js';
import {
  TRACER_PATH,
  TRACER_PROGRAM,
  TRACER_RESULT_PATH,
  TRACER_SPEC_PATH,
  tracerArgv,
  type TracerSpec,
} from './tracer.js';
import type { TraceOutput, TracedDistribution } from './usage.js';

export type TracedSmokeOptions = Omit<SmokeOptions, 'after' | 'runs' | 'checked'> & {
  /** Environments whose distributions the tracer lists (pythonEnvironments of the image). */
  environments: string[];
};

export type TraceOutcome =
  | { status: 'traced'; output: TraceOutput & { durationMs: number } }
  | { status: 'unavailable'; reason: string };

export interface TracedSmoke {
  /** The check run of the original image: pass/fail and output, as runSmoke would report it. */
  run: SmokeRun;
  /** The start attempt that worked (for runSmoke's `checked`). */
  attempt: number;
  trace: TraceOutcome;
}

/** Interpreters tried for the tracer, on the image's PATH, as the auto smoke test finds them. */
const TRACER_PYTHONS = ['python3', 'python'];

export async function runTracedSmoke(
  docker: Dockerode,
  options: TracedSmokeOptions,
): Promise<TracedSmoke> {
  const command = smokeCommand(options.command);
  const runner = new SmokeRunner(docker, options);
  const traced = await tracedRun(docker, options, command);
  if ('output' in traced) {
    const { run } = runner.smokeRun('before', command, traced.result);
    if (run.passed) {
      const output = { ...traced.output, durationMs: traced.result.durationMs };
      return { run, attempt: traced.attempt, trace: { status: 'traced', output } };
    }
  }
  const { run } = await runner.run(
    'before',
    options.before,
    command,
    options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
  );
  const reason =
    'reason' in traced
      ? traced.reason
      : run.passed
        ? `the smoke test failed under the trace (${exitText(traced.result)}) and passed without it`
        : 'the smoke test fails on the original image';
  return { run, attempt: runner.attempt(options.before), trace: { status: 'unavailable', reason } };
}

type TracedRun =
  | { result: ContainerRun; attempt: number; output: TraceOutput }
  | { result: ContainerRun; reason: string }
  | { reason: string };

async function tracedRun(
  docker: Dockerode,
  options: TracedSmokeOptions,
  command: SmokeCommand,
): Promise<TracedRun> {
  const spec: TracerSpec = {
    attempts: command.attempts,
    out: TRACER_RESULT_PATH,
    environments: options.environments,
  };
  for (const python of TRACER_PYTHONS) {
    let result: ContainerRun;
    try {
      result = await runContainer(docker, {
        image: options.before,
        entrypoint: tracerArgv(python),
        timeoutMs: options.timeoutMs,
        labels: options.labels,
        maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
        signal: options.signal,
        files: [
          { path: TRACER_PATH, content: TRACER_PROGRAM },
          { path: TRACER_SPEC_PATH, content: JSON.stringify(spec) },
        ],
        collect: TRACER_RESULT_PATH,
      });
    } catch (error) {
      if (error instanceof ContainerStartError && error.executableMissing) continue;
      throw error;
    }
    return readResult(result);
  }
  return { reason: 'the image has neither python3 nor python on its PATH to run the tracer' };
}

/** What the tracer's result file says, checked: a broken file is a reason, never a crash. */
function readResult(result: ContainerRun): TracedRun {
  if (result.collected === undefined) {
    const tail = result.output.trim().split('\n').slice(-3).join(' / ');
    return {
      result,
      reason: `the tracer did not start (${exitText(result)})${tail ? `: ${tail.slice(-300)}` : ''}`,
    };
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(result.collected.toString('utf8')) as Record<string, unknown>;
  } catch {
    return { result, reason: 'the tracer wrote a result that is not JSON' };
  }
  switch (raw.status) {
    case 'traced':
      return parseTraced(result, raw);
    case 'unavailable':
      return { result, reason: String(raw.reason ?? 'the tracer could not start') };
    case 'missing':
      return { result, reason: "none of the smoke command's programs is in the image" };
    default:
      return {
        result,
        reason: result.timedOut
          ? 'the traced run was killed at the smoke-test timeout'
          : `the traced run ended before the tracer wrote its result (${exitText(result)})`,
      };
  }
}

function parseTraced(result: ContainerRun, raw: Record<string, unknown>): TracedRun {
  const paths = raw.paths;
  const distributions = raw.distributions;
  if (!isStringArray(paths) || !Array.isArray(distributions)) {
    return { result, reason: 'the tracer wrote a result without paths or distributions' };
  }
  return {
    result,
    attempt: typeof raw.attempt === 'number' ? raw.attempt : 0,
    output: {
      paths,
      distributions: distributions.filter(isDistribution),
      processes: typeof raw.processes === 'number' ? raw.processes : 0,
      stops: typeof raw.stops === 'number' ? raw.stops : 0,
    },
  };
}

function isDistribution(value: unknown): value is TracedDistribution {
  const d = value as Partial<TracedDistribution> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof d.env === 'string' &&
    typeof d.dir === 'string' &&
    typeof d.name === 'string' &&
    typeof d.version === 'string' &&
    isStringArray(d.files)
  );
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function exitText(result: ContainerRun): string {
  if (result.timedOut) return 'timed out';
  return result.exitCode === null ? 'killed' : `exit ${result.exitCode}`;
}
