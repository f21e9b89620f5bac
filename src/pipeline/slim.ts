/**
 * Slim mode: plan the rewrite, build the slimmed variant, smoke-test both images, fall back to a
 * variant without the rule that broke the test, measure what is delivered.
 */
import type { SlimPlan } from '../dockerfile/plan.js';
import type { MeasuredImage } from '../measure/sizes.js';
import type { ReportFiles, SlimpyReport, SmokeRun, SlimResult } from '../model/report.js';
import { measureSavings } from '../slim/savings.js';
import type { ScriptSettings } from '../slim/script.js';
import { runSmoke } from '../smoke/smoke.js';
import { describeRule, findCulprit, planFor, smokeRequest } from './culprit.js';
import { SmokeBrokenError } from './errors.js';
import { writeSlimmedFiles } from './files.js';
import type { RunContext } from './prepare.js';
import { buildVariant, measureVariant } from './variant.js';

/** What slim mode adds to the report. */
export type SlimOutcome = Pick<SlimpyReport, 'slim' | 'smoke' | 'after'>;

export interface SlimStep {
  outcome: SlimOutcome;
  files: Pick<ReportFiles, 'dockerfile' | 'patch'>;
}

/** Runs slim mode; a SmokeBrokenError thrown from here carries the outcome so far. */
export async function slim(run: RunContext, before: MeasuredImage): Promise<SlimStep> {
  const wanted: ScriptSettings = {
    strip: run.settings.strip,
    prune: run.settings.prune,
    keep: run.settings.keep,
  };
  const plan = planFor(run, wanted);
  for (const line of plan.notes) run.hooks.info(line);
  const step: SlimStep = { outcome: { slim: slimResult(plan, wanted) }, files: {} };
  try {
    await saveFiles(run, wanted, step);
    await slimAndTest(run, before, plan, wanted, step);
    return step;
  } catch (error) {
    if (error instanceof SmokeBrokenError) error.outcome = step.outcome;
    throw error;
  }
}

function slimResult(plan: SlimPlan, wanted: ScriptSettings): SlimResult {
  return {
    strategy: plan.strategy,
    notes: plan.notes,
    skipped: [...plan.skipped],
    variant: { strip: wanted.strip, prune: [...wanted.prune] },
    savings: [],
    strippedTop: [],
    dockerfilePath: '',
    patchPath: '',
    patch: '',
    warnings: [],
  };
}

/** The slimmed Dockerfile and the patch of the variant delivered, as a team would commit them. */
async function saveFiles(run: RunContext, script: ScriptSettings, step: SlimStep): Promise<void> {
  const written = await writeSlimmedFiles(run.settings, run.dockerfileText, script);
  step.files = written.files;
  const result = step.outcome.slim;
  if (!result) return;
  result.dockerfilePath = written.files.dockerfile;
  result.patchPath = written.files.patch;
  result.patch = written.patch;
}

async function slimAndTest(
  run: RunContext,
  before: MeasuredImage,
  plan: SlimPlan,
  wanted: ScriptSettings,
  step: SlimStep,
): Promise<void> {
  const { hooks, settings } = run;
  const originalId = before.measurement.id;
  const result = step.outcome.slim as SlimResult;
  if (plan.strategy === 'none') {
    step.outcome.smoke = await hooks.group('Smoke test', () =>
      runSmoke(run.docker, smokeRequest(run, originalId, undefined)),
    );
    if (!step.outcome.smoke.before.passed) throw brokenBeforeSlimming(step.outcome.smoke.before);
    return;
  }
  let slimmedId = await hooks.group('Build the slimmed image', () => buildVariant(run, plan));
  const smoke = await hooks.group('Smoke test: original and slimmed image', () =>
    runSmoke(run.docker, smokeRequest(run, originalId, slimmedId)),
  );
  step.outcome.smoke = smoke;
  if (!smoke.before.passed) throw brokenBeforeSlimming(smoke.before);
  if (smoke.after && !smoke.after.passed) {
    if (settings.strict) {
      throw new SmokeBrokenError(
        `Slimming breaks the smoke test and \`strict\` is on. Output in the slimmed image:\n${smoke.after.output.slice(-2000)}`,
      );
    }
    const fallback = await hooks.group('Find what breaks the smoke test', () =>
      findCulprit(run, wanted, before.measurement.id),
    );
    if (!fallback) {
      result.skipped.push(
        'No slimmed variant passes the smoke test; the original image is delivered unchanged.',
      );
      result.variant = { strip: false, prune: [] };
      step.outcome.after = before.measurement;
      return;
    }
    result.culprit = fallback.culprit;
    result.variant = { strip: fallback.script.strip, prune: [...fallback.script.prune] };
    result.skipped.push(
      `${describeRule(fallback.culprit)} breaks the smoke test; delivered the variant without it.`,
    );
    slimmedId = fallback.imageId;
    step.outcome.smoke = await runSmoke(run.docker, smokeRequest(run, originalId, slimmedId));
    await saveFiles(run, fallback.script, step);
  }
  const after = await hooks.group('Measure the slimmed image', () =>
    measureVariant(run, slimmedId),
  );
  step.outcome.after = after.measurement;
  const { savings, strippedTop } = measureSavings(before.files, after.files);
  result.savings = savings;
  result.strippedTop = strippedTop;
}

/** Slimming is not to blame for a test that already fails: no culprit search, the image's output. */
function brokenBeforeSlimming(before: SmokeRun): SmokeBrokenError {
  const how = before.timedOut
    ? 'it did not finish within `smoke-timeout` and was killed'
    : `exit ${before.exitCode}`;
  return new SmokeBrokenError(
    `The smoke test is broken before slimming: it fails on the original image (${how}), so slimpy ` +
      'did not look for a culprit. Fix the image or the `smoke-test` command. Output:\n' +
      before.output.slice(-2000),
  );
}
