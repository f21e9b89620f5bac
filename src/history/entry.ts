/**
 * One history entry: what a run records under its commit, read back as the next PR's baseline.
 * It holds the whole report (sizes, compressed sizes, per-layer digests and sizes, largest files)
 * and the settings that produced it, so a baseline can be told apart from a differently slimmed run.
 */
import type { Settings } from '../model/settings.js';
import type { SlimpyReport } from '../model/report.js';
import type { EntryKind } from './keys.js';

export const ENTRY_FILE = 'slimpy-history.json';
const FORMAT = 'slimpy-history';

/**
 * The settings that change what is measured; paths of this machine are left out, and so are
 * build-arg values (a cache entry outlives the job, and a value may be a secret): names only.
 */
export type RecordedSettings = Pick<
  Settings,
  | 'mode'
  | 'target'
  | 'strip'
  | 'prune'
  | 'keep'
  | 'budget'
  | 'budgetMetric'
  | 'maxGrowth'
  | 'compressed'
> & { buildArgNames: string[] };

export interface HistoryEntry {
  format: typeof FORMAT;
  version: 1;
  kind: EntryKind;
  /** The commit the run measured (GITHUB_SHA). */
  sha: string;
  /** GITHUB_REF of the run, e.g. `refs/heads/main`. */
  ref?: string;
  event?: string;
  recordedAt: string;
  commentKey: string;
  settings: RecordedSettings;
  report: SlimpyReport;
}

export interface EntryMeta {
  kind: EntryKind;
  sha: string;
  ref?: string;
  event?: string;
  commentKey: string;
  now?: Date;
}

export function createEntry(
  report: SlimpyReport,
  settings: Settings,
  meta: EntryMeta,
): HistoryEntry {
  const {
    mode,
    target,
    buildArgs,
    strip,
    prune,
    keep,
    budget,
    budgetMetric,
    maxGrowth,
    compressed,
  } = settings;
  return {
    format: FORMAT,
    version: 1,
    kind: meta.kind,
    sha: meta.sha,
    ref: meta.ref,
    event: meta.event,
    recordedAt: (meta.now ?? new Date()).toISOString(),
    commentKey: meta.commentKey,
    settings: {
      mode,
      target,
      buildArgNames: Object.keys(buildArgs).sort(),
      strip,
      prune,
      keep,
      budget,
      budgetMetric,
      maxGrowth,
      compressed,
    },
    report,
  };
}

/** An entry from its JSON text; undefined for anything that is not one this version can read. */
export function parseEntry(text: string): HistoryEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || value.format !== FORMAT || value.version !== 1) return undefined;
  if (typeof value.sha !== 'string' || !isRecord(value.report)) return undefined;
  const before = value.report.before;
  if (!isRecord(before) || !isSize(before.size)) return undefined;
  const after = value.report.after;
  if (after !== undefined && (!isRecord(after) || !isSize(after.size))) return undefined;
  return value as unknown as HistoryEntry;
}

/** The size the run delivered: the slimmed image, or the image itself in measure mode. */
export function deliveredSize(report: SlimpyReport): { size: number; compressed?: number } {
  const image = report.after ?? report.before;
  return { size: image.size, compressed: image.compressed };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
