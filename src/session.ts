/**
 * One run of slimpy, whatever the front end: restore the size history, run the pipeline, make
 * every verdict (budget, growth), write the report once, tag, publish through the host, record
 * the history. The action (main.ts) and the CLI (cli.ts) only supply a host.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { connectEngine } from './engine/docker.js';
import { tagImage } from './engine/images.js';
import { growthFailure } from './history/growth.js';
import {
  growthOf,
  recordHistory,
  restoreHistory,
  saveLayerCache,
  type RestoredHistory,
  type SizeHistory,
} from './history/history.js';
import type { ReportFiles, SlimpyReport } from './model/report.js';
import type { Settings } from './model/settings.js';
import { budgetFailure, budgetVerdict } from './pipeline/budget.js';
import { SmokeBrokenError } from './pipeline/errors.js';
import type { PipelineHooks } from './pipeline/hooks.js';
import { runPipeline, type PipelineResult } from './pipeline/run.js';
import { redactDeep, redactText, secretBuildArgValues } from './report/redact.js';

export interface SessionResult {
  /** The report as written to `files.report`: verdicts made, secrets redacted. */
  report: SlimpyReport;
  files: ReportFiles;
  /** Why the run fails, one message each (broken smoke test, budget, growth); empty: it passes. */
  failures: string[];
}

/** What a front end gives a session. */
export interface SessionHost {
  hooks: PipelineHooks;
  /** The size history (Actions cache or a local directory); none: no growth check, no record. */
  history?: SizeHistory;
  /** Shows the result: job summary, outputs, comment / terminal text or JSON. */
  publish(result: SessionResult): Promise<void>;
  /** The images the run delivers, for the host's cleanup to keep. */
  keepImages?(ids: string[]): void;
  signal?: AbortSignal;
}

export async function runSession(settings: Settings, host: SessionHost): Promise<SessionResult> {
  const history = host.history;
  const restored = history
    ? await host.hooks.group('Restore the size history', () => restoreHistory(history))
    : undefined;
  const outcome = await pipelineOutcome(settings, host, restored);
  const result = await concludeRun(settings, outcome, restored);
  // A broken smoke test delivers nothing: the post step removes the run's images.
  if (outcome.broken === undefined)
    host.keepImages?.([result.report.before.id, result.report.after?.id ?? ''].filter(Boolean));
  if (settings.tag && result.report.after && outcome.broken === undefined)
    await tagDelivered(settings.tag, result.report.after.id, host.hooks);
  await host.publish(result);
  if (history && restored) await recordHistory(history, restored, result.report, settings);
  return result;
}

interface Outcome extends PipelineResult {
  /** The message of a broken smoke test, which still publishes what was measured. */
  broken?: string;
}

async function pipelineOutcome(
  settings: Settings,
  host: SessionHost,
  restored: RestoredHistory | undefined,
): Promise<Outcome> {
  try {
    return await runPipeline(settings, host.hooks, host.signal);
  } catch (error) {
    if (error instanceof SmokeBrokenError && error.partial)
      return { ...error.partial, broken: error.message };
    // What was measured is not compressed again by the next run.
    if (host.history && restored) await saveLayerCache(host.history, restored);
    throw error;
  }
}

/** Every verdict in one place, then the report file, written once. */
async function concludeRun(
  settings: Settings,
  outcome: Outcome,
  restored: RestoredHistory | undefined,
): Promise<SessionResult> {
  const report = { ...outcome.report };
  const delivered = report.after ?? report.before;
  report.budget = budgetVerdict(settings, delivered.size, delivered.compressed);
  report.growth = restored ? growthOf(restored, report, settings) : undefined;
  // What is published (report file, comment, summary, history) never carries a secret build arg.
  const published = redactDeep(report, secretBuildArgValues(settings.buildArgs));
  await mkdir(path.dirname(outcome.files.report), { recursive: true });
  await writeFile(outcome.files.report, `${JSON.stringify(published, null, 2)}\n`);
  const failures: string[] = [];
  if (outcome.broken !== undefined)
    failures.push(redactText(outcome.broken, secretBuildArgValues(settings.buildArgs)));
  if (published.budget?.over) failures.push(budgetFailure(published.budget));
  if (published.growth?.over) failures.push(growthFailure(published.growth));
  return { report: published, files: outcome.files, failures };
}

async function tagDelivered(tag: string, imageId: string, hooks: PipelineHooks): Promise<void> {
  await tagImage(connectEngine(), imageId, tag);
  hooks.info(`Tagged the delivered image ${imageId.slice(0, 19)} as ${tag}`);
}
