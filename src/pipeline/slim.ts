/**
 * Slim mode: plan the rewrite (prune and fix rules), check the original image with the smoke
 * test under a trace (what it uses is what `pycache` and `unused` keep), build the slimmed
 * variant, smoke-test it, fall back to a variant without the rule that broke the test or the
 * build, measure what is delivered and where the bytes went.
 */
import type { SlimPlan } from '../dockerfile/plan.js';
import { BuildError } from '../engine/build.js';
import { fixFacts } from '../measure/fix-facts.js';
import type { MeasuredImage } from '../measure/sizes.js';
import type { Finding, ReportFiles, SlimpyReport, SmokeRun, SlimResult } from '../model/report.js';
import { formatBytes } from '../report/format.js';
import { measureSavings } from '../slim/savings.js';
import { pruneScriptText } from '../slim/script.js';
import { stripKeptFromLog } from '../slim/strip-log.js';
import { runSmoke } from '../smoke/smoke.js';
import {
  culpritCandidates,
  describeRule,
  findCulprit,
  planFor,
  smokeRequest,
  type Fallback,
  type OriginalImage,
  type Variant,
} from './culprit.js';
import { SmokeBrokenError } from './errors.js';
import { allVariantsFailed, missingRoots, readPruneLog, unchangedReason } from './outcome.js';
import { writeSlimmedFiles } from './files.js';
import type { RunContext } from './prepare.js';
import { checkOriginal, tracedScript } from './trace.js';
import { buildVariant, measureVariant } from './variant.js';

/** What slim mode adds to the report. */
export type SlimOutcome = Pick<SlimpyReport, 'slim' | 'smoke' | 'after' | 'trace'>;

export interface SlimStep {
  outcome: SlimOutcome;
  files: Pick<ReportFiles, 'dockerfile' | 'patch'>;
}

/**
 * Runs slim mode; a SmokeBrokenError thrown from here carries the outcome so far. The original
 * image's smoke-test check runs first, traced, because the slimmed build goes by what it used.
 */
export async function slim(
  run: RunContext,
  before: MeasuredImage,
  findings: readonly Finding[] | undefined,
): Promise<SlimStep> {
  const requested: Variant = {
    strip: run.settings.strip,
    prune: run.settings.prune,
    keep: run.settings.keep,
    fix: run.settings.fix,
  };
  const original: OriginalImage = originalFacts(run, before, findings);
  let plan = planFor(run, requested, original); // a Dockerfile it cannot plan for fails first
  const step: SlimStep = { outcome: { slim: slimResult(plan, requested) }, files: {} };
  try {
    const check = await checkOriginal(run, before);
    step.outcome.trace = check.report;
    step.outcome.smoke = { command: check.checked.run.command, before: check.checked.run };
    original.checked = check.checked;
    original.prunable = check.usage?.prunable;
    const result = step.outcome.slim as SlimResult;
    const wanted = tracedScript(requested, check, run.settings.keepPackages, result);
    if (wanted.prune.length !== requested.prune.length) {
      plan = planFor(run, wanted, original);
      result.notes = plan.notes;
    }
    result.variant = variantOf(wanted);
    for (const line of plan.notes) run.hooks.info(line);
    await saveFiles(run, plan, step, wanted);
    await slimAndTest(run, { before, original }, { plan, variant: wanted }, step);
    return step;
  } catch (error) {
    if (error instanceof SmokeBrokenError) error.outcome = step.outcome;
    throw error;
  }
}

function originalFacts(
  run: RunContext,
  before: MeasuredImage,
  findings: readonly Finding[] | undefined,
): OriginalImage {
  const facts = fixFacts({
    layers: before.layers,
    history: before.history,
    baseLayerCount: before.measurement.layers.filter((layer) => layer.base).length,
    dockerfile: run.dockerfileText,
    target: run.settings.target,
    buildArgs: run.settings.buildArgs,
  });
  return { findings: findings ?? [], facts, imageId: before.measurement.id };
}

function slimResult(plan: SlimPlan, wanted: Variant): SlimResult {
  return {
    strategy: plan.strategy,
    notes: plan.notes,
    skipped: [...plan.skipped],
    variant: variantOf(wanted),
    savings: [],
    strippedTop: [],
    dockerfilePath: '',
    patchPath: '',
    patch: '',
    warnings: [],
  };
}

function variantOf(variant: Variant): SlimResult['variant'] {
  return { strip: variant.strip, prune: [...variant.prune], fix: [...variant.fix] };
}

async function saveFiles(
  run: RunContext,
  plan: SlimPlan,
  step: SlimStep,
  variant: Variant,
): Promise<void> {
  const written = await writeSlimmedFiles(
    run.settings,
    run.dockerfileText,
    plan,
    pruneScriptText(variant),
  );
  step.files = written.files;
  const result = step.outcome.slim;
  if (!result) return;
  result.dockerfilePath = written.files.dockerfile;
  result.patchPath = written.files.patch;
  result.patch = written.patch;
}

interface Images {
  before: MeasuredImage;
  original: OriginalImage;
}

/** A variant as built: its plan, and its image and build log once built. */
interface Built {
  plan: SlimPlan;
  variant: Variant;
  imageId?: string;
  log?: string[];
}

async function slimAndTest(
  run: RunContext,
  images: Images,
  wanted: Built,
  step: SlimStep,
): Promise<void> {
  const { hooks } = run;
  const originalId = images.original.imageId;
  const result = step.outcome.slim as SlimResult;
  const checked = images.original.checked;
  // The check run (checkOriginal) is the smoke test of an image with nothing to slim.
  if (wanted.plan.edits.length === 0) {
    result.unchanged = unchangedReason(wanted.plan, readPruneLog([]), result);
  }
  if (checked && !checked.run.passed) throw brokenBeforeSlimming(checked.run);
  if (wanted.plan.edits.length === 0) return;
  const buildError = await hooks.group('Build the slimmed image', () => buildWanted(run, wanted));
  const missing = missingRoots(wanted.plan, readPruneLog(wanted.log ?? []));
  if (missing.length > 0) result.missingRoots = missing;
  const smoke = await hooks.group('Smoke test: original and slimmed image', () =>
    runSmoke(run.docker, { ...smokeRequest(run, originalId, wanted.imageId), checked }),
  );
  step.outcome.smoke = smoke;
  let delivered = wanted;
  if (buildError !== undefined || (smoke.after && !smoke.after.passed)) {
    const fallback = await fallBack(run, images, wanted, step, buildError);
    if (fallback === undefined) return;
    delivered = fallback;
  }
  await measureDelivered(run, images, delivered, step);
}

/**
 * Builds the wanted variant. A build that a fix rule may have broken is not the end: the culprit
 * search tries the variants without each rule (the error is returned); any other failure is.
 */
async function buildWanted(run: RunContext, wanted: Built): Promise<BuildError | undefined> {
  const log: string[] = [];
  try {
    wanted.imageId = await buildVariant(
      run,
      wanted.plan,
      (line) => log.push(line),
      pruneScriptText(wanted.variant),
    );
    wanted.log = log;
    return undefined;
  } catch (error) {
    if (!(error instanceof BuildError) || wanted.plan.fixes.length === 0) throw error;
    run.hooks.warning(`The slimmed Dockerfile does not build: ${error.reason}`);
    return error;
  }
}

/** The culprit search, or `strict`'s failure; undefined when the original is delivered. */
async function fallBack(
  run: RunContext,
  images: Images,
  wanted: Built,
  step: SlimStep,
  buildError: BuildError | undefined,
): Promise<Built | undefined> {
  const result = step.outcome.slim as SlimResult;
  const breaks = buildError ? 'the build' : 'the smoke test';
  if (run.settings.strict) {
    const output = buildError ? buildError.message : (step.outcome.smoke?.after?.output ?? '');
    throw new SmokeBrokenError(
      `Slimming breaks ${breaks} and \`strict\` is on. Output in the slimmed image:\n${output.slice(-2000)}`,
    );
  }
  const active = wanted.plan.fixes.map((fix) => fix.rule);
  const fallback = await run.hooks.group(`Find what breaks ${breaks}`, () =>
    findCulprit(run, wanted.variant, images.original, active),
  );
  if (!fallback) {
    result.skipped.push(
      'No slimmed variant passes the smoke test; the original image is delivered unchanged.',
    );
    const rules = culpritCandidates(wanted.variant, active).map((candidate) => candidate.culprit);
    result.unchanged = allVariantsFailed(step.outcome.smoke?.after?.exitCode ?? null, rules);
    result.variant = { strip: false, prune: [], fix: [] };
    step.outcome.after = images.before.measurement;
    return undefined;
  }
  describeFallback(result, fallback, breaks);
  result.variant = variantOf(fallback.script);
  const plan = planFor(run, fallback.script, images.original);
  step.outcome.smoke = await runSmoke(run.docker, {
    ...smokeRequest(run, images.original.imageId, fallback.imageId),
    checked: images.original.checked,
  });
  await saveFiles(run, plan, step, fallback.script);
  result.notes = plan.notes;
  return { plan, variant: fallback.script, imageId: fallback.imageId, log: fallback.log };
}

/** A restore keeps `unused` with some distributions whole; any other fallback drops a rule. */
function describeFallback(result: SlimResult, fallback: Fallback, breaks: string): void {
  if (fallback.restored) {
    result.restored = fallback.restored;
    result.skipped.push(
      `\`unused\` removal breaks ${breaks} without the files of ${fallback.restored.join(', ')}: slimpy kept those distributions whole (found in ${fallback.builds ?? 0} builds) and delivered the rest.`,
    );
    return;
  }
  result.culprit = fallback.culprit;
  result.skipped.push(
    `${describeRule(fallback.culprit)} breaks ${breaks}; delivered the variant without it.`,
  );
}

async function measureDelivered(
  run: RunContext,
  images: Images,
  delivered: Built,
  step: SlimStep,
): Promise<void> {
  const result = step.outcome.slim as SlimResult;
  const imageId = delivered.imageId as string;
  const after = await run.hooks.group('Measure the slimmed image', () =>
    measureVariant(run, imageId),
  );
  step.outcome.after = after.measurement;
  const savings = measureSavings({
    before: images.before,
    after,
    fixes: delivered.plan.fixes,
    facts: images.original.facts,
    unused: delivered.variant.prune.includes('unused'),
  });
  result.savings = savings.savings;
  result.strippedTop = savings.strippedTop;
  if (savings.stillShipped.length > 0) result.stillShipped = savings.stillShipped;
  const kept = stripKeptFromLog(delivered.log ?? [], after.files);
  if (kept) result.stripKept = kept;
  result.unchanged = unchangedReason(delivered.plan, readPruneLog(delivered.log ?? []), result);
  logSavings(run, result, images.before.measurement.size - after.measurement.size);
}

/** The same figures as the report's "Where the bytes went", in the log. */
function logSavings(run: RunContext, result: SlimResult, delta: number): void {
  for (const saving of result.savings) {
    run.hooks.info(
      `saved: ${saving.category.padEnd(14)} ${formatBytes(saving.bytes).padStart(10)}  (${saving.files} files)`,
    );
  }
  const total = result.savings.reduce((sum, saving) => sum + saving.bytes, 0);
  run.hooks.info(
    `saved: ${'total'.padEnd(14)} ${formatBytes(total).padStart(10)}  (image: ${formatBytes(delta)} smaller)`,
  );
  for (const shipped of result.stillShipped ?? []) {
    run.hooks.info(
      `still shipped in layer ${shipped.layer}: ${formatBytes(shipped.bytes)} (${shipped.files} files deleted later, not saved)`,
    );
  }
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
