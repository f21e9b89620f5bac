/** Cold-start timing: which image runs when, and what the runs add up to. */

export type SmokeSide = 'before' | 'after';

/**
 * `runs` runs of each image, interleaved in mirrored pairs (before, after, after, before, …) so
 * neither image always runs right after the other: drift in the machine's load (others share
 * its cores) falls on both alike.
 */
export function timingOrder(runs: number): SmokeSide[] {
  const order: SmokeSide[] = [];
  for (let i = 0; i < runs; i++) {
    order.push(...(i % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const)));
  }
  return order;
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
