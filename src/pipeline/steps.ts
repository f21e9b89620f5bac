/**
 * The steps of a run, timed: each in its own log group, and some in the background while the run
 * goes on (the slimmed build while the original is measured). A background step's log lines are
 * held and shown in its own group when the run joins it, so the log reads step by step whatever
 * ran at the same time. Every step's wall time goes into the report's `timings`.
 */
import type { RunTimings, StepTiming } from '../model/report.js';
import type { PipelineHooks } from './hooks.js';

/** When each step of a run began and how long it took. */
export class StepClock {
  private readonly origin = performance.now();
  private readonly steps: StepTiming[] = [];

  async time<T>(step: string, work: () => Promise<T>, overlapped = false): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.steps.push({
        step,
        seconds: seconds(performance.now() - started),
        startSeconds: seconds(started - this.origin),
        ...(overlapped ? { overlapped } : {}),
      });
    }
  }

  /** The run so far: its wall time and its steps in the order they began. */
  timings(): RunTimings {
    return {
      totalSeconds: seconds(performance.now() - this.origin),
      steps: [...this.steps].sort((a, b) => a.startSeconds - b.startSeconds),
    };
  }
}

function seconds(ms: number): number {
  return Math.round(ms / 10) / 100;
}

/** What steps need of a run: its log, its clock and its cancellation. */
export interface StepRun {
  hooks: PipelineHooks;
  clock: StepClock;
  signal: AbortSignal;
}

/** Runs one step in its own log group, timed. */
export function step<T>(run: StepRun, title: string, work: () => Promise<T>): Promise<T> {
  return run.clock.time(title, () => run.hooks.group(title, work));
}

/** A step started in the background. */
export interface BackgroundStep<T> {
  readonly title: string;
  /** Its result, for other background work that needs it (no log shown). */
  readonly result: Promise<T>;
  /** Shows the step's log in its own group, then gives its result (or throws its error). */
  join(): Promise<T>;
  /** Stops it (its signal aborts) and waits until it has; its result and error are dropped. */
  cancel(): Promise<void>;
}

/**
 * Starts `work` now (or once `after` has settled well), with a copy of `run` whose log is held
 * back and whose signal also aborts on `cancel`. Its failure surfaces from `join`, never as an
 * unhandled rejection; when `after` fails the step fails with its error, without running.
 */
export function startStep<R extends StepRun, T>(
  run: R,
  title: string,
  work: (run: R) => Promise<T>,
  after: Promise<unknown> = Promise.resolve(),
): BackgroundStep<T> {
  const held: Array<(hooks: PipelineHooks) => void> = [];
  const stop = new AbortController();
  const hooks: PipelineHooks = {
    info: (line) => held.push((to) => to.info(line)),
    warning: (message, where) => held.push((to) => to.warning(message, where)),
    // Nested groups are not a thing in the log: a background step's inner groups are plain.
    group: (_title, inner) => inner(),
  };
  const signal = AbortSignal.any([run.signal, stop.signal]);
  const running = after.then(() => {
    signal.throwIfAborted();
    return run.clock.time(title, () => work({ ...run, hooks, signal }), true);
  });
  running.catch(() => undefined);
  return {
    title,
    result: running,
    join: () =>
      run.hooks.group(title, async () => {
        try {
          return await running;
        } finally {
          for (const replay of held.splice(0)) replay(run.hooks);
        }
      }),
    cancel: async () => {
      stop.abort(new Error(`${title}: no longer needed`));
      await running.catch(() => undefined);
    },
  };
}
