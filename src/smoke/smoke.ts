/**
 * The smoke test: the same command in the original and in the slimmed image, so a test that was
 * already failing is never blamed on slimming, then timed runs of both to show what slimming did
 * to cold start (deleting `.pyc` makes every container recompile on import).
 */
import type Dockerode from 'dockerode';
import { ContainerStartError, runContainer, type ContainerRun } from '../engine/containers.js';
import type { SmokeReport, SmokeRun } from '../model/report.js';
import { autoSmokeCommand, skippedOptionalModules } from './auto.js';
import { userSmokeCommand, type SmokeCommand } from './command.js';
import { median, timingOrder, type SmokeSide } from './timing.js';

const DEFAULT_RUNS = 5;
/** What the report keeps of a run's output (a PR comment has room for little more). */
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024;
/** Timed runs only need their exit status; a failing one's tail becomes the evidence. */
const TIMED_RUN_OUTPUT_BYTES = 8 * 1024;

export interface SmokeOptions {
  /** The original image. */
  before: string;
  /** The slimmed image; without it only the original is checked (and nothing is timed). */
  after?: string;
  /** `auto` imports every installed distribution's modules; anything else runs with /bin/sh -c. */
  command: 'auto' | string;
  /** Limit for each run. */
  timeoutMs: number;
  /** Timed runs per image for the cold-start medians, default 5; 0 skips timing. */
  runs?: number;
  /** Put on every container (pass `slimpyLabels(runId)`). */
  labels: Record<string, string>;
  /** Output kept per run for the report, default 16 KiB (the last part). */
  maxOutputBytes?: number;
  signal?: AbortSignal;
  /**
   * The original image's check run when it already ran (traced, see trace.ts), and the start
   * attempt that worked: it is not run again.
   */
  checked?: { run: SmokeRun; attempt: number };
}

export function smokeCommand(spec: 'auto' | string): SmokeCommand {
  return isAuto(spec) ? autoSmokeCommand() : userSmokeCommand(spec);
}

function isAuto(spec: string): boolean {
  return spec.trim() === 'auto';
}

/**
 * The command for the slimmed image. For auto, a module the original image could not import
 * because an optional dependency is not installed (duckdb's adbc_driver_duckdb) is skipped in
 * the slimmed image too, and only that one: any other missing module there is slimming's fault.
 */
function afterCommand(spec: string, command: SmokeCommand, before: SmokeRun): SmokeCommand {
  return isAuto(spec)
    ? autoSmokeCommand({ allowMissing: skippedOptionalModules(before.output) })
    : command;
}

/**
 * Runs the smoke command once in each image (these runs decide pass/fail and give the output),
 * then, when both passed, `runs` more times each, interleaved, for the cold-start medians. The
 * first runs are warm-up and not timed: they pay for reading the image from disk into the page
 * cache, which would flatter whichever image ran second.
 */
export async function runSmoke(docker: Dockerode, options: SmokeOptions): Promise<SmokeReport> {
  const runs = options.runs ?? DEFAULT_RUNS;
  if (!Number.isInteger(runs) || runs < 0) {
    throw new Error(`smoke runs must be a whole number of 0 or more, got ${runs}`);
  }
  const command = smokeCommand(options.command);
  const runner = new SmokeRunner(docker, options);
  const firstBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const timedBytes = TIMED_RUN_OUTPUT_BYTES;

  if (options.checked) runner.remember(options.before, options.checked.attempt);
  // A copy: the timing below writes into it, and the same check serves several calls.
  const before = options.checked
    ? { ...options.checked.run }
    : (await runner.run('before', options.before, command, firstBytes)).run;
  if (!before.passed || options.after === undefined) return { command: command.display, before };
  const commands: Record<SmokeSide, SmokeCommand> = {
    before: command,
    after: afterCommand(options.command, command, before),
  };
  const { run: after } = await runner.run('after', options.after, commands.after, firstBytes);
  if (!after.passed || runs === 0) return { command: command.display, before, after };

  const images: Record<SmokeSide, string> = { before: options.before, after: options.after };
  const results: Record<SmokeSide, SmokeRun> = { before, after };
  const timings: Record<SmokeSide, number[]> = { before: [], after: [] };
  for (const side of timingOrder(runs)) {
    const { run, durationMs } = await runner.run(side, images[side], commands[side], timedBytes);
    if (!run.passed) {
      // Flaky: it passed once and failed now. That is a failure, and this run is its evidence.
      results[side] = run;
      return { command: command.display, ...results };
    }
    timings[side].push(durationMs);
  }
  before.runsMs = timings.before;
  before.medianMs = median(timings.before);
  after.runsMs = timings.after;
  after.medianMs = median(timings.after);
  return {
    command: command.display,
    before,
    after,
    coldStartDeltaMs: Math.round(after.medianMs - before.medianMs),
  };
}

interface TimedRun {
  run: SmokeRun;
  /** Wall time of the container from start to exit. */
  durationMs: number;
}

/**
 * Runs a smoke command in one image, remembering which start attempt (shell, or a direct exec)
 * worked for that image so timed runs do not pay for failed attempts.
 */
export class SmokeRunner {
  private readonly attemptFor = new Map<string, number>();

  constructor(
    private readonly docker: Dockerode,
    private readonly options: SmokeOptions,
  ) {}

  /** Which start attempt worked for `image` (0 until one did). */
  attempt(image: string): number {
    return this.attemptFor.get(image) ?? 0;
  }

  remember(image: string, attempt: number): void {
    this.attemptFor.set(image, attempt);
  }

  async run(
    side: SmokeSide,
    image: string,
    command: SmokeCommand,
    maxOutputBytes: number,
  ): Promise<TimedRun> {
    const attempts = command.attempts;
    let lastError: ContainerStartError | undefined;
    for (let index = this.attemptFor.get(image) ?? 0; index < attempts.length; index++) {
      try {
        const result = await runContainer(this.docker, {
          image,
          entrypoint: attempts[index],
          timeoutMs: this.options.timeoutMs,
          labels: this.options.labels,
          maxOutputBytes,
          signal: this.options.signal,
        });
        this.attemptFor.set(image, index);
        return this.smokeRun(side, command, result);
      } catch (error) {
        if (!(error instanceof ContainerStartError && error.executableMissing)) throw error;
        lastError = error;
      }
    }
    return this.smokeRun(side, command, {
      exitCode: null,
      timedOut: false,
      output: `slimpy: ${command.unstartable}${lastError ? ` (engine: ${lastError.detail})` : ''}`,
      droppedBytes: 0,
      durationMs: 0,
    });
  }

  smokeRun(side: SmokeSide, command: SmokeCommand, result: ContainerRun): TimedRun {
    const run: SmokeRun = {
      image: side,
      command: command.display,
      exitCode: result.exitCode,
      passed: result.exitCode === 0 && !result.timedOut,
      timedOut: result.timedOut,
      output: result.timedOut
        ? `${result.output}${result.output && !result.output.endsWith('\n') ? '\n' : ''}` +
          `slimpy: killed after ${this.options.timeoutMs} ms (smoke-test timeout)`
        : result.output,
    };
    return { run, durationMs: result.durationMs };
  }
}
