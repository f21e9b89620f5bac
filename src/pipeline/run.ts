/**
 * The ordered steps of one run, shared by the action and the CLI through the session:
 * build -> measure -> findings -> (slim mode) rebuild slimmed -> smoke -> culprit search -> measure
 * -> cold start. In slim mode the original's traced smoke test runs as soon as it is measured, and the
 * slimmed image's smoke test and measurement start as soon as it is built (slim.ts). It returns
 * the report's facts, with the time each step took; verdicts, the report file and publishing
 * belong to the session.
 */
import * as path from 'node:path';
import { isConnectionError, EngineLostError } from '../engine/docker.js';
import { imageFindings } from '../measure/findings.js';
import type { MeasuredImage } from '../measure/sizes.js';
import {
  REPORT_VERSION,
  type Finding,
  type ReportFiles,
  type SlimpyReport,
} from '../model/report.js';
import { workspacePath } from '../model/workspace.js';
import { wordFindings } from '../report/findings-wording.js';
import { SmokeBrokenError } from './errors.js';
import { asSettled } from './settled-findings.js';
import { givenImage } from './given-image.js';
import type { PipelineHooks } from './hooks.js';
import { prepare, type RunContext } from './prepare.js';
import { slim, startSmoke, type SmokeStart } from './slim.js';
import { startStep, step, type BackgroundStep } from './steps.js';
import { buildVariant, completeVariant, COMPRESS_FIRST_BYTES, measureVariant } from './variant.js';

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
  const given = run.settings.image;
  const original = given
    ? await step(run, 'Take the given image', () => givenImage(run, given))
    : await step(run, 'Build the image', () => buildVariant(run, undefined));
  return measureAndSlim(run, original);
}

async function measureAndSlim(run: RunContext, original: string): Promise<PipelineResult> {
  const slimMode = run.settings.mode === 'slim';
  // Slimming only needs the layers' index to plan: big layers are compressed while it builds.
  const later = slimMode && run.settings.compressed;
  const measuring = step(run, 'Measure the image', () =>
    measureVariant(run, original, later ? COMPRESS_FIRST_BYTES : undefined),
  );
  // The original's smoke test (traced) needs the image and its file index: it runs while the
  // findings and the fix rules' facts are worked out.
  const smoke = slimMode ? startSmoke(run, original, measuring) : undefined;
  try {
    return await slimMeasured(run, await measuring, smoke, later);
  } catch (error) {
    await smoke?.cancel();
    throw error;
  }
}

async function slimMeasured(
  run: RunContext,
  first: MeasuredImage,
  smoke: SmokeStart | undefined,
  /** The original's compressed sizes are still to come (measureAndSlim left big layers out). */
  later: boolean,
): Promise<PipelineResult> {
  const report = initialReport(run, first);
  report.findings = await findings(run, first, report.warnings);
  const files: ReportFiles = { report: path.join(run.settings.outputDir, 'slimpy-report.json') };
  if (!smoke) return { report: { ...report, timings: run.clock.timings() }, files };
  const complete = later
    ? startStep(run, 'Measure the image: compressed sizes', (background) =>
        completeVariant(background, first),
      )
    : undefined;
  try {
    const slimmed = await slim(run, first, report.findings, smoke, complete?.result ?? first);
    const result = await completed(run, { ...report, ...slimmed.outcome }, first, complete);
    return { report: result, files: { ...files, ...slimmed.files } };
  } catch (error) {
    // Broken smoke test: the report still says what was measured and what the test printed.
    if (error instanceof SmokeBrokenError) {
      const partial = await completed(run, { ...report, ...error.outcome }, first, complete);
      error.partial = { report: partial, files };
    } else {
      await complete?.cancel();
    }
    throw error;
  }
}

/**
 * The report with the original's whole measurement: every compressed size, and the findings'
 * compressed estimates that depend on them (the plan only needed the rest).
 */
async function completed(
  run: RunContext,
  report: SlimpyReport,
  first: MeasuredImage,
  complete: BackgroundStep<MeasuredImage> | undefined,
): Promise<SlimpyReport> {
  if (complete) {
    const before = await complete.join();
    if (report.after === report.before) report.after = before.measurement;
    report.before = before.measurement;
    const settled = report.findings;
    if (settled && first !== before) {
      const fresh = await findingsOf(run, before).catch(() => undefined);
      if (fresh) report.findings = asSettled(fresh, settled);
    }
  }
  return { ...report, timings: run.clock.timings() };
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
  return step(run, 'Look for what else makes the image heavy', () => findingsOf(run, before)).catch(
    (error: unknown) => {
      warnings.push(
        `Findings not computed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return undefined;
    },
  );
}

async function findingsOf(run: RunContext, before: MeasuredImage): Promise<Finding[]> {
  const facts = await imageFindings(run.docker, before, {
    dockerfile: run.dockerfileText,
    target: run.settings.target,
    buildArgs: run.settings.buildArgs,
    baseImage: run.baseImage,
  });
  return wordFindings(facts);
}

/** Why the run stopped, in the user's terms: a cancellation or a lost engine, not "aborted". */
function stoppedBy(run: RunContext, error: unknown): unknown {
  if (run.signal.aborted) return run.signal.reason;
  if (isConnectionError(error)) return new EngineLostError(run.step.current, error);
  return error;
}
