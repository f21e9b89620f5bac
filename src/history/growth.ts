/**
 * "Did this PR make the image bigger?": the delivered size against the base commit's recorded
 * size, and the `max-growth` verdict on it. Pure: the caller restores the baseline.
 */
import type { BudgetMetric, Growth } from '../model/settings.js';
import { formatBytes, formatDelta, shortSha } from '../report/format.js';
import type { GrowthVerdict } from '../model/report.js';
import type { HistoryEntry } from './entry.js';
import { deliveredSize } from './entry.js';

/** A recorded size to compare against. */
export interface Baseline {
  sha: string;
  size: number;
  compressed?: number;
  recordedAt?: string;
}

/** What was looked for and what the history had. */
export interface BaselineLookup {
  /** The commit the change is based on (`pull_request.base.sha`). */
  baseSha: string;
  /** The base branch (`main` or `refs/heads/main`), named in the "none recorded yet" hint. */
  baseRef?: string;
  /** The base commit's size, or the newest baseline before it; undefined when none was found. */
  found?: Baseline;
  /** Why the history could not be read at all; growth is then not checked (and never fails). */
  unavailable?: string;
}

export interface DeliveredSize {
  size: number;
  compressed?: number;
}

/**
 * Which restored entry, if any, is the baseline: only entries recorded as baselines count (a
 * pull-request run's report is never one), and it names the commit it measured.
 */
export function chooseBaseline(
  wanted: { baseSha: string; baseRef?: string },
  entry: HistoryEntry | undefined,
): BaselineLookup {
  const lookup: BaselineLookup = { baseSha: wanted.baseSha, baseRef: wanted.baseRef };
  if (!entry || entry.kind !== 'baseline') return lookup;
  const { size, compressed } = deliveredSize(entry.report);
  return { ...lookup, found: { sha: entry.sha, size, compressed, recordedAt: entry.recordedAt } };
}

/**
 * The growth verdict: growth = delivered size − base size, over when it exceeds `max-growth`
 * (a percentage of the base size, or bytes). Without a baseline it says so and is never over.
 * The metric is the budget's; compressed only when both sides have a compressed size.
 */
export function growthVerdict(
  maxGrowth: Growth | undefined,
  baseline: BaselineLookup,
  actual: DeliveredSize,
  metric: BudgetMetric = 'uncompressed',
): GrowthVerdict {
  const base = baseline.found;
  const branch = branchName(baseline.baseRef);
  if (!base && baseline.unavailable) {
    return {
      baseSha: baseline.baseSha,
      metric: 'uncompressed',
      actual: actual.size,
      over: false,
      message: `growth against base ${shortSha(baseline.baseSha)} is not checked: ${baseline.unavailable}`,
    };
  }
  if (!base) {
    return {
      baseSha: baseline.baseSha,
      metric: 'uncompressed',
      actual: actual.size,
      over: false,
      message:
        `no size recorded for base ${shortSha(baseline.baseSha)}; ` +
        `one is recorded on the next push to ${branch ?? 'the base branch'}`,
    };
  }
  const compressed =
    metric === 'compressed' && base.compressed !== undefined && actual.compressed !== undefined;
  const baseSize = compressed ? (base.compressed ?? 0) : base.size;
  const actualSize = compressed ? (actual.compressed ?? 0) : actual.size;
  const growth = actualSize - baseSize;
  const allowed = maxGrowth === undefined ? undefined : allowedGrowth(maxGrowth, baseSize);
  const over = allowed !== undefined && growth > allowed;
  const compared =
    base.sha === baseline.baseSha
      ? `base ${shortSha(base.sha)}`
      : `${shortSha(base.sha)}, the newest size recorded on ${branch ?? 'the base branch'} ` +
        `(none for base ${shortSha(baseline.baseSha)})`;
  const sizes = `${formatBytes(baseSize)} → ${formatBytes(actualSize)}${compressed ? ' compressed' : ''}`;
  let message = `${formatDelta(growth, baseSize)} against ${compared}: ${sizes}`;
  if (maxGrowth !== undefined && allowed !== undefined) {
    const limit = `max-growth ${describeGrowth(maxGrowth, allowed)}`;
    message += over ? `, over ${limit} by ${formatBytes(growth - allowed)}` : `, within ${limit}`;
  }
  return {
    baseSha: base.sha,
    baseSize,
    metric: compressed ? 'compressed' : 'uncompressed',
    actual: actualSize,
    allowed,
    over,
    message: `${message}.`,
  };
}

/** Bytes `max-growth` allows on top of `baseSize` (a percentage rounds down). */
export function allowedGrowth(maxGrowth: Growth, baseSize: number): number {
  return maxGrowth.kind === 'bytes'
    ? maxGrowth.value
    : Math.floor((baseSize * maxGrowth.value) / 100);
}

/** The job's failure message for an over verdict: both numbers, readable and exact. */
export function growthFailure(verdict: GrowthVerdict): string {
  const growth = verdict.actual - (verdict.baseSize ?? verdict.actual);
  return (
    `The image grew more than \`max-growth\` allows: ${verdict.message} ` +
    `(grew ${growth} bytes, ${verdict.allowed ?? 0} allowed)`
  );
}

function describeGrowth(maxGrowth: Growth, allowed: number): string {
  return maxGrowth.kind === 'percent'
    ? `${maxGrowth.value}% (${formatBytes(allowed)})`
    : formatBytes(allowed);
}

function branchName(ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  return ref.replace(/^refs\/heads\//, '');
}
