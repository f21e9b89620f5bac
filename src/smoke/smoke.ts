/**
 * The smoke test: the same command in the original and in the slimmed image, so a test that was
 * already failing is never blamed on slimming, then timed runs of both to show what slimming did
 * to cold start (deleting `.pyc` makes every container recompile on import).
 */
import type Dockerode from 'dockerode';
import { ContainerStartError, runContainer, type ContainerRun } from '../engine/containers.js';
import type { SmokeReport, SmokeRun } from '../model/report.js';
import {
  autoSmokeCommand,
  skippedOptionalModules,
  skippedProbes,
  type SmokeProbe,
} from './auto.js';
import { userSmokeCommand, type SmokeCommand } from './command.js';
import { coldStart, enoughRuns, median, timingPair, type SmokeSide } from './timing.js';

/** Most timed runs of each image for the cold-start medians. */
export const DEFAULT_TIMED_RUNS = 5;
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
  /**
   * For `auto`: statements run after the imports (package exceptions' probes), in the first run
   * of each image; the timed runs go without them.
   */
  probes?: SmokeProbe[];
  /** Limit for each run. */
  timeoutMs: number;
  /** Most timed runs per image for the cold-start medians, default 5 (fewer when the runs agree); 0 skips timing. */
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

export function smokeCommand(spec: 'auto' | string, probes: SmokeProbe[] = []): SmokeCommand {
  return isAuto(spec) ? autoSmokeCommand({ probes }) : userSmokeCommand(spec);
}

function isAuto(spec: string): boolean {
  return spec.trim() === 'auto';
}

/**
 * The command for the slimmed image. For auto, a module the original image could not import
 * because an optional dependency is not installed (duckdb's adbc_driver_duckdb) is skipped in
 * the slimmed image too, and only that one: any other missing module there is slimming's fault.
 */
function afterCommand(
  spec: string,
  command: SmokeCommand,
  before: SmokeRun,
  probes: SmokeProbe[],
): SmokeCommand {
  return isAuto(spec)
    ? autoSmokeCommand({
        allowMissing: skippedOptionalModules(before.output),
        probes,
        allowFailingProbes: skippedProbes(before.output),
      })
    : command;
}

/**
 * Runs the smoke command once in each image (these runs decide pass/fail and give the output),
 * then, when both passed, times them for cold start (see {@link SmokeRunner.timeColdStart}).
 * The pipeline calls the steps itself, to time cold start only when nothing else runs.
 */
export async function runSmoke(docker: Dockerode, options: SmokeOptions): Promise<SmokeReport> {
  const runner = new SmokeRunner(docker, options);
  const before = options.checked
    ? runner.adopt(options.before, options.checked)
    : await runner.check('before', options.before);
  if (!before.passed || options.after === undefined) return runner.report(before);
  const after = await runner.check('after', options.after, before);
  if (!after.passed) return runner.report(before, after);
  return runner.timeColdStart(before, after, options.runs ?? DEFAULT_TIMED_RUNS);
}

interface TimedRun {
  run: SmokeRun;
  /** Wall time of the container from start to exit. */
  durationMs: number;
}

/**
 * The smoke test of one run: the check of each image, then the cold-start timing. Remembers which
 * start attempt (shell, or a direct exec) worked for each image, so timed runs do not pay for
 * failed attempts.
 */
export class SmokeRunner {
  private readonly attemptFor = new Map<string, number>();
  private probes: SmokeProbe[];
  private readonly images: Partial<Record<SmokeSide, { image: string; command: SmokeCommand }>> =
    {};

  constructor(
    private readonly docker: Dockerode,
    private readonly options: Omit<SmokeOptions, 'before' | 'after' | 'runs'>,
  ) {
    this.probes = options.probes ?? [];
  }

  /** The command as the report shows it (with the probes the checks run). */
  private get command(): SmokeCommand {
    return smokeCommand(this.options.command, this.probes);
  }

  /**
   * Package exceptions' probes, known once the packages were read: checks from now on run them
   * (with `auto`); the timed runs never do. Returns whether the command changed.
   */
  useProbes(probes: SmokeProbe[]): boolean {
    if (probes.length === 0 || !isAuto(this.options.command)) return false;
    this.probes = probes;
    return true;
  }

  /**
   * The run that decides whether `image` passes, its output kept for the report. It also warms
   * the page cache with the image's files, so the timed runs that follow compare like with like.
   * For the slimmed image pass the original's check: the command may depend on its output.
   * `signal` stops this run alone (default: the runner's).
   */
  async check(
    side: SmokeSide,
    image: string,
    before?: SmokeRun,
    signal?: AbortSignal,
  ): Promise<SmokeRun> {
    const spec = this.options.command;
    const after = side === 'after' && before;
    const command = after ? afterCommand(spec, this.command, before, this.probes) : this.command;
    // The timed runs measure start-up as the app would start: without the probes, which only check.
    const timed = after ? afterCommand(spec, smokeCommand(spec), before, []) : smokeCommand(spec);
    this.images[side] = { image, command: timed };
    const maxBytes = this.options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    return (await this.run(side, image, command, maxBytes, signal)).run;
  }

  /** The report of checks alone (nothing timed). */
  report(before: SmokeRun, after?: SmokeRun): SmokeReport {
    return { command: this.command.display, before, ...(after ? { after } : {}) };
  }

  /**
   * Timed runs of both checked images, interleaved in mirrored pairs, until the runs are enough
   * (`enoughRuns`: at most `maxRuns` each, fewer when they agree): the cold-start medians, their
   * delta and spread. Run it while nothing else runs on the machine, or the figure is the noise's.
   */
  async timeColdStart(before: SmokeRun, after: SmokeRun, maxRuns: number): Promise<SmokeReport> {
    if (!Number.isInteger(maxRuns) || maxRuns < 0) {
      throw new Error(`smoke runs must be a whole number of 0 or more, got ${maxRuns}`);
    }
    const results: Record<SmokeSide, SmokeRun> = { before, after };
    const timings: Record<SmokeSide, number[]> = { before: [], after: [] };
    for (let pair = 0; maxRuns > 0 && !enoughRuns(timings.before, timings.after, maxRuns); pair++) {
      for (const side of timingPair(pair)) {
        const { image, command } = this.checked(side);
        const { run, durationMs } = await this.run(side, image, command, TIMED_RUN_OUTPUT_BYTES);
        if (!run.passed) {
          // Flaky: it passed once and failed now. That is a failure, and this run is its evidence.
          results[side] = run;
          return this.report(results.before, results.after);
        }
        timings[side].push(durationMs);
      }
    }
    if (maxRuns === 0) return this.report(before, after);
    before.runsMs = timings.before;
    before.medianMs = median(timings.before);
    after.runsMs = timings.after;
    after.medianMs = median(timings.after);
    const cold = coldStart(timings.before, timings.after);
    return {
      ...this.report(before, after),
      coldStartDeltaMs: Math.round(cold.deltaMs),
      coldStartSpreadMs: cold.spreadMs,
    };
  }

  private checked(side: SmokeSide): { image: string; command: SmokeCommand } {
    const checked = this.images[side];
    if (!checked) throw new Error(`the ${side} image was not checked before timing`);
    return checked;
  }

  /** Which start attempt worked for `image` (0 until one did). */
  attempt(image: string): number {
    return this.attemptFor.get(image) ?? 0;
  }

  /**
   * A check of the original that ran elsewhere (traced): the timed runs and the slimmed image's
   * command go by it, and its start attempt is not tried again. Returns a copy of its run (the
   * timing writes into it, and the same check serves several calls).
   */
  adopt(image: string, checked: { run: SmokeRun; attempt: number }): SmokeRun {
    this.attemptFor.set(image, checked.attempt);
    this.images.before = { image, command: smokeCommand(this.options.command) };
    return { ...checked.run };
  }

  async run(
    side: SmokeSide,
    image: string,
    command: SmokeCommand,
    maxOutputBytes: number,
    signal = this.options.signal,
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
          signal,
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
