/**
 * Slim mode: plan the rewrite (prune and fix rules), check the original image with the smoke
 * test under a trace (what it uses is what `pycache` and `unused` keep), build the slimmed
 * variant, smoke-test it, fall back to a variant without the rule that broke the test or the
 * build, measure what is delivered and where the bytes went, time cold start.
 *
 * What can overlap does: the original's traced check starts as soon as it is measured (while
 * the findings and the fix rules' facts are worked out); the slimmed image's smoke test and
 * measurement start as soon as it is built. Cold
 * start is timed last, alone (anything running beside it would be in the figure), and only when
 * slimming removed bytecode: nothing else slimpy does can slow imports down.
 */
import type { SlimPlan } from '../dockerfile/plan.js';
import { BuildError } from '../engine/build.js';
import { fixFacts } from '../measure/fix-facts.js';
import type { MeasuredImage } from '../measure/sizes.js';
import type { Finding, ReportFiles, SlimpyReport, SmokeRun, SlimResult } from '../model/report.js';
import { formatBytes } from '../report/format.js';
import { measureSavings, removesBytecode } from '../slim/savings.js';
import { pruneScriptText } from '../slim/script.js';
import { stripKeptFromLog } from '../slim/strip-log.js';
import type { SmokeProbe } from '../smoke/auto.js';
import { DEFAULT_TIMED_RUNS, SmokeRunner } from '../smoke/smoke.js';
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
import { readPackages, reportKept, wantedScript, type PackageFacts } from './packages.js';
import type { RunContext } from './prepare.js';
import { startStep, step as timedStep, type BackgroundStep } from './steps.js';
import { settleFindings } from './settled-findings.js';
import { measureToolchain } from './toolchain.js';
import { checkOriginal, tracedScript, type OriginalCheck } from './trace.js';
import { buildVariant, measureVariant } from './variant.js';

/** What slim mode adds to the report (the findings, once the fix rules say what they removed). */
export type SlimOutcome = Pick<SlimpyReport, 'slim' | 'smoke' | 'after' | 'findings' | 'trace'>;

export interface SlimStep {
  outcome: SlimOutcome;
  files: Pick<ReportFiles, 'dockerfile' | 'patch'>;
  /** The plan of the image delivered; undefined when the original is. */
  delivered?: SlimPlan;
}

/** The smoke test under way: the original's traced check, started once the original is measured. */
export interface SmokeStart {
  runner: SmokeRunner;
  originalCheck: BackgroundStep<OriginalCheck>;
  /** Stops it (the run failed elsewhere). */
  cancel(): Promise<void>;
}

export function startSmoke(
  run: RunContext,
  originalId: string,
  measured: Promise<MeasuredImage>,
): SmokeStart {
  const runner = new SmokeRunner(run.docker, smokeRequest(run, originalId, undefined));
  const originalCheck = startStep(
    run,
    'Smoke test: the original image, traced',
    async (background) => checkOriginal(background, await measured),
    measured,
  );
  return { runner, originalCheck, cancel: () => originalCheck.cancel() };
}

/** Runs slim mode; a SmokeBrokenError thrown from here carries the outcome so far. */
export async function slim(
  run: RunContext,
  before: MeasuredImage,
  findings: readonly Finding[] | undefined,
  smoke: SmokeStart,
  /** The original's measurement with every compressed size (it may still be under way). */
  complete: MeasuredImage | Promise<MeasuredImage>,
): Promise<SlimStep> {
  const { script, bytecode } = wantedScript(run);
  const requested: Variant = { ...script, fix: run.settings.fix };
  const original: OriginalImage = await originalFacts(run, before, findings);
  let plan = planFor(run, requested, original); // a Dockerfile it cannot plan for fails first
  const step: SlimStep = { outcome: { slim: slimResult(plan, requested) }, files: {} };
  try {
    const check = await smoke.originalCheck.join();
    const checkedRun = smoke.runner.adopt(original.imageId, check.checked);
    step.outcome.trace = check.report;
    step.outcome.smoke = smoke.runner.report(checkedRun);
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
    await saveFiles(run, plan, step, wanted, original);
    const packages: PackageFacts =
      plan.edits.length === 0
        ? { bytecode, environments: [], exceptions: [], probes: [] }
        : await timedStep(run, 'Read the package exceptions', () =>
            readPackages(run, before, wanted, bytecode),
          );
    if (checkedRun.passed && smoke.runner.useProbes(packages.probes)) {
      // The probes need the original's word too: its check again, with them.
      const probed = await timedStep(run, 'Smoke test: original image, package probes', () =>
        smoke.runner.check('before', original.imageId),
      );
      original.checked = { run: probed, attempt: smoke.runner.attempt(original.imageId) };
      step.outcome.smoke = smoke.runner.report(probed);
    }
    const images: Images = {
      before,
      original: { ...original, probes: packages.probes },
      packages,
      runner: smoke.runner,
      complete: Promise.resolve(complete),
    };
    await slimAndTest(run, images, { plan, variant: wanted }, step);
    if (findings !== undefined) {
      step.outcome.findings = settleFindings(findings, {
        rulesOn: wanted.fix,
        wanted: plan,
        delivered: step.delivered,
        culprit: step.outcome.slim?.culprit,
      });
    }
    return step;
  } catch (error) {
    if (error instanceof SmokeBrokenError) error.outcome = step.outcome;
    throw error;
  }
}

async function originalFacts(
  run: RunContext,
  before: MeasuredImage,
  findings: readonly Finding[] | undefined,
): Promise<OriginalImage> {
  const facts = fixFacts({
    layers: before.layers,
    history: before.history,
    baseLayerCount: before.measurement.layers.filter((layer) => layer.base).length,
    dockerfile: run.dockerfileText,
    target: run.settings.target,
    buildArgs: run.settings.buildArgs,
  });
  const toolchain = await measureToolchain(run, before, findings ?? []);
  return {
    findings: findings ?? [],
    facts: { ...facts, ...toolchain },
    imageId: before.measurement.id,
  };
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
  original: Pick<OriginalImage, 'findings' | 'facts'>,
): Promise<void> {
  const written = await writeSlimmedFiles(run.settings, run.dockerfileText, variant, {
    plan,
    scriptText: pruneScriptText(variant),
    fixes: { rules: variant.fix, findings: original.findings, facts: original.facts },
  });
  step.files = written.files;
  const result = step.outcome.slim;
  if (!result) return;
  result.dockerfilePath = written.files.dockerfile;
  result.patchPath = written.files.patch;
  result.patch = written.patch;
}

interface Images {
  before: MeasuredImage;
  original: OriginalImage & { probes: SmokeProbe[] };
  packages: PackageFacts;
  runner: SmokeRunner;
  /** `before` with every compressed size: the slimmed image is measured after it. */
  complete: Promise<MeasuredImage>;
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
  const { runner } = images;
  const result = step.outcome.slim as SlimResult;
  step.delivered = wanted.plan;
  const before = images.original.checked?.run as SmokeRun;
  // The original's check (traced) is the smoke test of an image with nothing to slim.
  if (wanted.plan.edits.length === 0) {
    result.unchanged = unchangedReason(wanted.plan, readPruneLog([]), result);
  }
  if (!before.passed) throw brokenBeforeSlimming(before);
  if (wanted.plan.edits.length === 0) return;
  const slimmed = startSlimmed(run, images, wanted, before);
  const buildError = await slimmed.build.join();
  const missing = missingRoots(wanted.plan, readPruneLog(wanted.log ?? []));
  if (missing.length > 0) result.missingRoots = missing;
  const check = await slimmed.check.join();
  step.outcome.smoke = runner.report(before, check);
  let delivered: Built | undefined = wanted;
  let measured: MeasuredImage | undefined;
  if (buildError !== undefined || (check && !check.passed)) {
    await slimmed.measure.cancel();
    delivered = await fallBack(run, images, wanted, step, buildError);
    step.delivered = delivered?.plan;
  } else {
    measured = await slimmed.measure.join();
  }
  if (delivered === undefined) return;
  await measureDelivered(run, images, delivered, step, measured);
  await timeColdStart(run, images, delivered, step);
}

/** The slimmed image's build, then its smoke test and its measurement, each as soon as it can. */
interface SlimmedSteps {
  /** Resolves to the build's error when a fix rule may have broken it (see `buildWanted`). */
  build: BackgroundStep<BuildError | undefined>;
  /** Undefined when it did not build or the original fails its own smoke test. */
  check: BackgroundStep<SmokeRun | undefined>;
  measure: BackgroundStep<MeasuredImage>;
}

function startSlimmed(
  run: RunContext,
  images: Images,
  wanted: Built,
  before: SmokeRun,
): SlimmedSteps {
  const { runner } = images;
  const build = startStep(run, 'Build the slimmed image', (background) =>
    buildWanted(background, wanted),
  );
  const check = startStep(
    run,
    'Smoke test: slimmed image',
    async (background) => {
      if ((await build.result) !== undefined) return undefined;
      return runner.check('after', wanted.imageId as string, before, background.signal);
    },
    build.result,
  );
  const measure = startStep(
    run,
    'Measure the slimmed image',
    async (background) => {
      if ((await build.result) !== undefined) throw new Error('the slimmed image did not build');
      return measureVariant(background, wanted.imageId as string);
    },
    // After the original's: the layers they share are read and compressed once.
    Promise.all([build.result, images.complete]),
  );
  return { build, check, measure };
}

/**
 * Times cold start when slimming removed bytecode, alone; a timed run that fails where the check
 * passed is a flaky test, handled like a failing one (the fallback's variant is measured again).
 */
async function timeColdStart(
  run: RunContext,
  images: Images,
  delivered: Built,
  step: SlimStep,
): Promise<void> {
  const smoke = step.outcome.smoke;
  const result = step.outcome.slim as SlimResult;
  if (!smoke?.after?.passed || !removesBytecode(result.savings)) return;
  const { runner } = images;
  const timed = await timedStep(run, 'Time cold start: original and slimmed image', () =>
    runner.timeColdStart(smoke.before, smoke.after as SmokeRun, DEFAULT_TIMED_RUNS),
  );
  step.outcome.smoke = timed;
  if (timed.after?.passed !== false) return;
  const fallback = await fallBack(run, images, delivered, step, undefined);
  step.delivered = fallback?.plan;
  if (fallback) {
    await measureDelivered(run, images, fallback, step, undefined);
    return;
  }
  // The original is delivered: nothing was saved after all.
  Object.assign(result, { savings: [], strippedTop: [] });
  delete result.stillShipped;
  delete result.stripKept;
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
  const fallback = await timedStep(run, `Find what breaks ${breaks}`, () =>
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
  const before = step.outcome.smoke?.before as SmokeRun;
  const check = await timedStep(run, 'Smoke test: the variant delivered', () =>
    images.runner.check('after', fallback.imageId, before),
  );
  step.outcome.smoke = images.runner.report(before, check);
  await saveFiles(run, plan, step, fallback.script, images.original);
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

/** Measures the delivered image (unless it already was) and where the bytes went. */
async function measureDelivered(
  run: RunContext,
  images: Images,
  delivered: Built,
  step: SlimStep,
  measured: MeasuredImage | undefined,
): Promise<void> {
  const result = step.outcome.slim as SlimResult;
  const imageId = delivered.imageId as string;
  const after =
    measured ??
    (await timedStep(run, 'Measure the slimmed image', async () => {
      await images.complete;
      return measureVariant(run, imageId);
    }));
  step.outcome.after = after.measurement;
  const savings = measureSavings({
    before: images.before,
    after,
    fixes: delivered.plan.fixes,
    facts: images.original.facts,
    unused: delivered.variant.prune.includes('unused'),
    // Bytecode can also go by the planned bytecode edits (packages.ts), outside the prune list.
    categories: [...delivered.variant.prune, 'pycache'],
  });
  result.savings = savings.savings;
  result.strippedTop = savings.strippedTop;
  if (savings.stillShipped.length > 0) result.stillShipped = savings.stillShipped;
  const kept = stripKeptFromLog(delivered.log ?? [], after.files);
  if (kept) result.stripKept = kept;
  reportKept(run, result, images.packages, { before: images.before, after });
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
