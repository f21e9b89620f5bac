/**
 * The ordered steps of one run, shared by the action and the CLI through the session:
 * build -> measure -> findings -> (slim mode) rebuild slimmed -> smoke -> culprit search -> measure.
 * It returns the report's facts; verdicts, the report file and publishing belong to the session.
 */
import * as path from 'node:path';
import { isConnectionError, EngineLostError } from '../engine/docker.js';
import { imageFindings } from '../measure/findings.js';
import type { MeasuredImage } from '../measure/sizes.js';
import { REPORT_VERSION, type ReportFiles, type SlimpyReport } from '../model/report.js';
import { workspacePath } from '../model/workspace.js';
import { SmokeBrokenError } from './errors.js';
import { givenImage } from './given-image.js';
import type { PipelineHooks } from './hooks.js';
import { prepare, type RunContext } from './prepare.js';
import { slim } from './slim.js';
import { buildVariant, measureVariant } from './variant.js';

export interface PipelineResult {
  report: SlimpyReport;
  files: ReportFiles;
}

/**
 * Runs every step; `signal` cancels the run (each step stops waiting at once). A SmokeBrokenError
 * carries the report so far in `partial`.
 */
export async function runPipeline(
  settings: RunContext['settings'],
  hooks: PipelineHooks,
  signal?: AbortSignal,
): Promise<PipelineResult> {
  const run = await prepare(settings, hooks, signal);
  try {
    return await runSteps(run);
  } catch (error) {
    throw stoppedBy(run, error);
  } finally {
    run.watchdog.stop();
  }
}

async function runSteps(run: RunContext): Promise<PipelineResult> {
  const { settings, hooks } = run;
  const given = settings.image;
  const original = given
    ? await hooks.group('Take the given image', () => givenImage(run, given))
    : await hooks.group('Build the image', () => buildVariant(run, undefined));
  const before = await hooks.group('Measure the image', () => measureVariant(run, original));
  const report = initialReport(run, before);
  report.findings = await findings(run, before, report.warnings);
  const files: ReportFiles = { report: path.join(settings.outputDir, 'slimpy-report.json') };
  if (settings.mode !== 'slim') return { report, files };
  try {
    const step = await slim(run, before);
    return { report: { ...report, ...step.outcome }, files: { ...files, ...step.files } };
  } catch (error) {
    // Broken smoke test: the report still says what was measured and what the test printed.
    if (error instanceof SmokeBrokenError)
      error.partial = { report: { ...report, ...error.outcome }, files };
    throw error;
  }
}

function initialReport(run: RunContext, before: MeasuredImage): SlimpyReport {
  const { settings } = run;
  return {
    version: REPORT_VERSION,
    mode: settings.mode,
    dockerfile: workspacePath(settings.workspace, settings.file),
    target: settings.target,
    ...(settings.image ? { image: settings.image } : {}),
    engine: run.engine,
    before: before.measurement,
    warnings: run.engine.builderReason ? [run.engine.builderReason] : [],
  };
}

/** Advice only: a failure here is a warning in the report, never the end of the run. */
async function findings(
  run: RunContext,
  before: MeasuredImage,
  warnings: string[],
): Promise<SlimpyReport['findings']> {
  return run.hooks
    .group('Look for what else makes the image heavy', () =>
      imageFindings(run.docker, before, {
        dockerfile: run.dockerfileText,
        target: run.settings.target,
        buildArgs: run.settings.buildArgs,
        baseImage: run.baseImage,
      }),
    )
    .catch((error: unknown) => {
      warnings.push(
        `Findings not computed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return undefined;
    });
}

/** Why the run stopped, in the user's terms: a cancellation or a lost engine, not "aborted". */
function stoppedBy(run: RunContext, error: unknown): unknown {
  if (run.signal.aborted) return run.signal.reason;
  if (isConnectionError(error)) return new EngineLostError(run.step.current, error);
  return error;
}
