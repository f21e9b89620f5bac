/**
 * Cold-start timing: which image runs when, when the runs are enough, and what they add up to.
 * Pure: the runs themselves are smoke.ts's.
 */

export type SmokeSide = 'before' | 'after';

/** Fewest timed runs per image before the runs may stop (unless fewer were asked for). */
export const MIN_TIMED_RUNS = 3;
/** Runs that agree this closely need no more: within 50 ms, or within 10 % of the median. */
const CLOSE_MS = 50;
const CLOSE_SHARE = 0.1;

/**
 * The order of the first `runs` runs of each image, interleaved in mirrored pairs (before, after,
 * after, before, …) so neither image always runs right after the other: drift in the machine's
 * load (others share its cores) falls on both alike.
 */
export function timingOrder(runs: number): SmokeSide[] {
  const order: SmokeSide[] = [];
  for (let i = 0; i < runs; i++) order.push(...timingPair(i));
  return order;
}

/** The i-th mirrored pair of timed runs. */
export function timingPair(i: number): [SmokeSide, SmokeSide] {
  return i % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
}

/** The median, rounded to whole milliseconds (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? 0;
  const value = sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? 0) + upper) / 2;
  return Math.round(value);
}

/** Slowest − fastest run, whole milliseconds. */
export function range(values: readonly number[]): number {
  return values.length === 0 ? 0 : Math.round(Math.max(...values) - Math.min(...values));
}

export interface ColdStart {
  /** median(after) − median(before), milliseconds. */
  deltaMs: number;
  /** The larger of the two images' ranges, milliseconds. */
  spreadMs: number;
  /** The delta is larger than the spread: a change the runs can tell from their own noise. */
  measurable: boolean;
}

export function coldStart(before: readonly number[], after: readonly number[]): ColdStart {
  const deltaMs = median(after) - median(before);
  const spreadMs = Math.max(range(before), range(after));
  return { deltaMs, spreadMs, measurable: Math.abs(deltaMs) > spreadMs };
}

/**
 * Whether the timed runs so far are enough (both images have run the same number of times):
 * never below MIN_TIMED_RUNS (or `maxRuns` when that is lower), always at `maxRuns`, and in
 * between once the runs agree closely or the delta stands well clear of their spread.
 */
export function enoughRuns(
  before: readonly number[],
  after: readonly number[],
  maxRuns: number,
): boolean {
  const runs = Math.min(before.length, after.length);
  if (runs >= maxRuns) return true;
  if (runs < Math.min(MIN_TIMED_RUNS, maxRuns)) return false;
  const { deltaMs, spreadMs } = coldStart(before, after);
  const close = Math.max(CLOSE_MS, CLOSE_SHARE * Math.min(median(before), median(after)));
  return spreadMs <= close || Math.abs(deltaMs) > 2 * spreadMs;
}
