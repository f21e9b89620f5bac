/**
 * The size history around one run, for the action and the CLI alike:
 *
 *   const restored = await restoreHistory(history);          // before the pipeline
 *   report.growth = growthOf(restored, report, settings);     // after it
 *   await recordHistory(history, restored, report, settings);
 *
 * Restore brings back the per-layer cache (so layers measured by earlier runs are not read or
 * compressed again) and, on a pull request, the base commit's report. Record saves this run's
 * report under its commit and the layer cache when it gained records. The history is a help, never
 * a reason to fail: every store error becomes a warning and the run goes on without it.
 */
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Settings } from '../model/settings.js';
import type { GrowthVerdict, SlimpyReport } from '../model/report.js';
import { createEntry, deliveredSize, ENTRY_FILE, parseEntry } from './entry.js';
import { chooseBaseline, growthVerdict, type BaselineLookup } from './growth.js';
import {
  baselineLookupKeys,
  historyId,
  LAYER_CACHE_PREFIX,
  layerCacheKey,
  reportKey,
} from './keys.js';
import type { HistoryPlan } from './plan.js';
import type { CacheStore } from './store.js';

export interface HistoryLog {
  info(line: string): void;
  warning(message: string): void;
}

export interface SizeHistory {
  store: CacheStore;
  /** The image's identity across runs (see `historyCommentKey`). */
  commentKey: string;
  plan: HistoryPlan;
  /**
   * Where entries are staged to be saved and restored. Keep it the same across runs: the Actions
   * cache ties an entry to the paths it was saved from.
   */
  stagingDir: string;
  /** The per-layer cache (Settings.cacheDir): sizes, file index, hashes; a path stable across runs. */
  layerCacheDir: string;
  /** Unique to this run: the layer cache is saved under a new key each time. */
  runUnique: string;
  log: HistoryLog;
}

export interface RestoredHistory {
  /** Why the history is off for this run; nothing is restored or recorded then. */
  off?: string;
  /** On a pull request: the base looked for and what was found. */
  baseline?: BaselineLookup;
  /**
   * Layer records present after the restore, as `name:size`: an unchanged cache is not saved
   * again, and a record that grew (a layer's index added to its sizes) counts as a change.
   */
  layerRecords: ReadonlySet<string>;
}

export async function restoreHistory(history: SizeHistory): Promise<RestoredHistory> {
  const { store, plan, log } = history;
  const off = store.whyUnavailable();
  if (off) {
    log.warning(
      `No size history for this run: ${off}. Growth against the base is not checked and layer sizes are not kept.`,
    );
    return {
      off,
      baseline: plan.compare ? { ...plan.compare, unavailable: off } : undefined,
      layerRecords: new Set(),
    };
  }
  await attempt(log, `Restoring the layer-size cache from ${store.name}`, async () => {
    const key = await store.restore([history.layerCacheDir], LAYER_CACHE_PREFIX, []);
    log.info(key ? `Layer-size cache restored from ${key}` : 'No layer-size cache recorded yet');
  });
  const layerRecords = await layerRecordNames(history.layerCacheDir);
  if (!plan.compare) return { layerRecords };
  const baseline = await restoreBaseline(history, plan.compare);
  return { baseline, layerRecords };
}

async function restoreBaseline(
  history: SizeHistory,
  wanted: NonNullable<HistoryPlan['compare']>,
): Promise<BaselineLookup> {
  const { store, log } = history;
  const dir = entryDir(history);
  const keys = baselineLookupKeys(historyId(history.commentKey), wanted.baseSha);
  try {
    // A file left by an earlier step must not pass for the restored one.
    await rm(dir, { recursive: true, force: true });
    const matched = await store.restore([dir], keys.primary, keys.restore);
    if (matched === undefined) {
      log.info(`No size recorded for base ${wanted.baseSha} nor any earlier baseline`);
      return chooseBaseline(wanted, undefined);
    }
    const entry = parseEntry(await readFile(path.join(dir, ENTRY_FILE), 'utf8').catch(() => ''));
    if (!entry) {
      const why = `the recorded entry ${matched} is not one this version of slimpy reads`;
      log.warning(`Restoring the size of base ${wanted.baseSha}: ${why}.`);
      return { ...wanted, unavailable: why };
    }
    log.info(
      `Baseline: ${entry.sha} (${entry.ref ?? 'unknown ref'}, recorded ${entry.recordedAt}) from ${matched}`,
    );
    return chooseBaseline(wanted, entry);
  } catch (error) {
    const why = `${store.name} could not be read (${messageOf(error)})`;
    log.warning(
      `Restoring the size of base ${wanted.baseSha} failed: ${why}. The run goes on without it.`,
    );
    return { ...wanted, unavailable: why };
  }
}

/** The growth verdict for a pull request; undefined for runs with nothing to compare. */
export function growthOf(
  restored: RestoredHistory,
  report: SlimpyReport,
  settings: Pick<Settings, 'maxGrowth' | 'budgetMetric'>,
): GrowthVerdict | undefined {
  if (!restored.baseline) return undefined;
  return growthVerdict(
    settings.maxGrowth,
    restored.baseline,
    deliveredSize(report),
    settings.budgetMetric,
  );
}

/** Saves this run's report as its commit's entry, then the layer cache when it grew. */
export async function recordHistory(
  history: SizeHistory,
  restored: RestoredHistory,
  report: SlimpyReport,
  settings: Settings,
): Promise<void> {
  if (restored.off) return;
  await recordReport(history, report, settings);
  await saveLayerCache(history, restored);
}

async function recordReport(
  history: SizeHistory,
  report: SlimpyReport,
  settings: Settings,
): Promise<void> {
  const { store, log, plan } = history;
  const record = plan.record;
  if (!record) {
    log.info('The commit is unknown (no GITHUB_SHA): this run is not recorded in the size history');
    return;
  }
  const key = reportKey(historyId(history.commentKey), record.kind, record.sha);
  await attempt(log, `Recording the size of ${record.sha} in ${store.name}`, async () => {
    const dir = entryDir(history);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const entry = createEntry(report, settings, { ...record, commentKey: history.commentKey });
    await writeFile(path.join(dir, ENTRY_FILE), `${JSON.stringify(entry)}\n`);
    const outcome = await store.save([dir], key);
    log.info(
      outcome === 'saved'
        ? `Size of ${record.sha} recorded as ${key}`
        : `Size of ${record.sha} was already recorded as ${key}; the first record stays`,
    );
  });
}

/**
 * Saves the layer cache under a new key when this run added records (entries are immutable, so
 * a grown cache needs a new entry; the next run restores the newest by prefix).
 */
export async function saveLayerCache(
  history: SizeHistory,
  restored: RestoredHistory,
): Promise<void> {
  if (restored.off) return;
  const { store, log } = history;
  const now = await layerRecordNames(history.layerCacheDir);
  const added = [...now].filter((record) => !restored.layerRecords.has(record)).length;
  if (added === 0) {
    log.info('Layer-size cache unchanged: not saved again');
    return;
  }
  const key = layerCacheKey(history.runUnique);
  await attempt(log, `Saving the layer-size cache to ${store.name}`, async () => {
    const outcome = await store.save([history.layerCacheDir], key);
    log.info(
      outcome === 'saved'
        ? `Layer-size cache saved as ${key} (${added} new of ${now.size} layers)`
        : `Layer-size cache already saved as ${key}`,
    );
  });
}

function entryDir(history: SizeHistory): string {
  return path.join(history.stagingDir, historyId(history.commentKey));
}

async function layerRecordNames(dir: string): Promise<Set<string>> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const records = new Set<string>();
  for (const name of names.filter((file) => file.endsWith('.json'))) {
    const size = await stat(path.join(dir, name)).then(
      (info) => info.size,
      () => undefined,
    );
    if (size !== undefined) records.add(`${name}:${size}`);
  }
  return records;
}

async function attempt(log: HistoryLog, what: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    log.warning(`${what} failed: ${messageOf(error)}. The run goes on without it.`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
