/**
 * The ordered steps, shared by the action and the CLI:
 * build -> measure -> plan the rewrite -> rebuild slimmed -> smoke -> (culprit search) -> report.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { buildKitOnlyUses, describeUses } from './dockerfile/buildkit-only.js';
import { finalBaseImage, planSlim, type SlimPlan } from './dockerfile/plan.js';
import { unifiedDiff } from './dockerfile/diff.js';
import { buildImage } from './engine/build.js';
import { createContextTar } from './engine/context.js';
import { chooseBuilder, connectEngine, engineFacts } from './engine/docker.js';
import { slimpyLabels } from './engine/labels.js';
import type { Settings } from './inputs.js';
import { measureImage, type MeasuredImage } from './measure/sizes.js';
import type { BudgetVerdict, EngineFacts, SlimResult, SlimpyReport } from './report/model.js';
import { REPORT_VERSION } from './report/model.js';
import { measureSavings } from './slim/savings.js';
import {
  loadPruneScript,
  PRUNE_SCRIPT_PATH,
  pruneScriptArgs,
  type ScriptSettings,
} from './slim/script.js';
import { runSmoke } from './smoke/smoke.js';

/** How the pipeline talks to its host (the Actions log or a terminal). */
export interface PipelineHooks {
  info(line: string): void;
  warning(message: string, where?: { file: string; line?: number }): void;
  group<T>(title: string, work: () => Promise<T>): Promise<T>;
}

export class DockerfileMissingError extends Error {
  constructor(file: string) {
    super(
      `No Dockerfile at ${file}. Set \`file\` (--file) to the Dockerfile's path, or \`context\` to its directory.`,
    );
    this.name = 'DockerfileMissingError';
  }
}

/** The Dockerfile needs BuildKit and this engine only gets the classic builder from slimpy. */
export class BuildKitRequiredError extends Error {
  constructor(uses: string, why: string) {
    super(
      `The Dockerfile needs BuildKit (${uses}), but slimpy has to use the classic builder on this engine: ${why} ` +
        'Run slimpy on Docker Engine >= 27.5 or on the classic (overlay2) image store, or avoid those features.',
    );
    this.name = 'BuildKitRequiredError';
  }
}

export class SmokeBrokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmokeBrokenError';
  }
}

interface RunContext {
  settings: Settings;
  hooks: PipelineHooks;
  docker: Docker;
  engine: EngineFacts;
  runId: string;
  dockerfileText: string;
  baseImage: string | undefined;
}

export interface PipelineResult {
  report: SlimpyReport;
  /** Paths written: the JSON report, and in slim mode the slimmed Dockerfile and the patch. */
  files: { report: string; dockerfile?: string; patch?: string };
}

export async function runPipeline(
  settings: Settings,
  hooks: PipelineHooks,
): Promise<PipelineResult> {
  const run = await prepare(settings, hooks);
  const original = await run.hooks.group('Build the image', () => buildVariant(run, undefined));
  const before = await run.hooks.group('Measure the image', () => measure(run, original));
  const report: SlimpyReport = {
    version: REPORT_VERSION,
    mode: settings.mode,
    dockerfile: workspacePath(settings, settings.file),
    target: settings.target,
    engine: run.engine,
    before: before.measurement,
    warnings: [],
  };
  if (run.engine.builderReason) report.warnings.push(run.engine.builderReason);
  const files: PipelineResult['files'] = {
    report: path.join(settings.outputDir, 'slimpy-report.json'),
  };
  if (settings.mode === 'slim') await slim(run, report, before, files);
  const delivered = report.after ?? report.before;
  report.budget = budgetVerdict(settings, delivered.size, delivered.compressed);
  await mkdir(settings.outputDir, { recursive: true });
  await writeFile(files.report, JSON.stringify(report, null, 2) + '\n');
  return { report, files };
}

async function prepare(settings: Settings, hooks: PipelineHooks): Promise<RunContext> {
  const docker = connectEngine();
  const facts = await engineFacts(docker);
  const choice = chooseBuilder(facts);
  const engine: EngineFacts = { ...facts, builder: choice.builder, builderReason: choice.reason };
  hooks.info(
    `Engine ${engine.version} (API ${engine.apiVersion}), ${engine.store} image store (${engine.storageDriver}), ${engine.builder} builder`,
  );
  if (choice.reason) hooks.warning(choice.reason);
  const dockerfileText = await readFile(settings.file, 'utf8').catch(() => {
    throw new DockerfileMissingError(settings.file);
  });
  const needsBuildKit = engine.builder === 'classic' ? buildKitOnlyUses(dockerfileText) : [];
  if (needsBuildKit.length > 0) {
    throw new BuildKitRequiredError(
      describeUses(needsBuildKit),
      choice.reason ?? 'the engine has no BuildKit.',
    );
  }
  const baseImage = finalBaseImage(dockerfileText, {
    target: settings.target,
    buildArgs: settings.buildArgs,
  });
  return { settings, hooks, docker, engine, runId: settings.runId, dockerfileText, baseImage };
}

/** Builds the user's Dockerfile as it is (plan undefined) or a slimmed variant of it. */
async function buildVariant(run: RunContext, plan: SlimPlan | undefined): Promise<string> {
  const { settings } = run;
  const extraFiles = plan
    ? [
        { path: PRUNE_SCRIPT_PATH, content: loadPruneScript(), mode: 0o755 },
        { path: '.slimpy/Dockerfile', content: plan.text },
      ]
    : [];
  const context = await createContextTar(settings.context, {
    dockerfile: settings.file,
    extraFiles,
  });
  return buildImage(run.docker, {
    context: context.stream,
    dockerfile: plan ? '.slimpy/Dockerfile' : context.dockerfileInContext,
    target: plan?.buildTarget !== undefined ? String(plan.buildTarget) : settings.target,
    buildArgs: settings.buildArgs,
    network: settings.network,
    builder: run.engine.builder,
    labels: slimpyLabels(run.runId),
    onLine: (line) => run.hooks.info(line),
  });
}

async function measure(run: RunContext, imageId: string): Promise<MeasuredImage> {
  const measured = await measureImage(run.docker, imageId, {
    compressed: run.settings.compressed,
    cacheDir: run.settings.cacheDir,
    baseImage: run.baseImage,
    store: run.engine.store,
  });
  const m = measured.measurement;
  run.hooks.info(
    `${imageId.slice(0, 19)}: ${m.size} bytes uncompressed` +
      (m.compressed !== undefined
        ? `, ${m.compressed} bytes compressed (${m.compressedFromCache} of ${m.layers.length} layers from cache)`
        : ''),
  );
  return measured;
}

function planFor(run: RunContext, script: ScriptSettings): SlimPlan {
  return planSlim(run.dockerfileText, {
    target: run.settings.target,
    buildArgs: run.settings.buildArgs,
    buildKit: run.engine.builder === 'buildkit',
    scriptPath: PRUNE_SCRIPT_PATH,
    scriptArgs: pruneScriptArgs(script),
  });
}

async function slim(
  run: RunContext,
  report: SlimpyReport,
  before: MeasuredImage,
  files: PipelineResult['files'],
): Promise<void> {
  const { settings, hooks } = run;
  const wanted: ScriptSettings = {
    strip: settings.strip,
    prune: settings.prune,
    keep: settings.keep,
  };
  const plan = planFor(run, wanted);
  for (const line of plan.notes) hooks.info(line);
  const slimResult: SlimResult = {
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
  report.slim = slimResult;
  await writeSlimmedFiles(run, plan, slimResult, files);
  if (plan.strategy === 'none') {
    report.smoke = await hooks.group('Smoke test', () =>
      runSmoke(run.docker, smokeRequest(run, before.measurement.id, undefined)),
    );
    return;
  }
  let slimmedId = await hooks.group('Build the slimmed image', () => buildVariant(run, plan));
  let smoke = await hooks.group('Smoke test: original and slimmed image', () =>
    runSmoke(run.docker, smokeRequest(run, before.measurement.id, slimmedId)),
  );
  report.smoke = smoke;
  if (!smoke.before.passed) {
    throw new SmokeBrokenError(
      `The smoke test fails on the original image, before any slimming (exit ${smoke.before.exitCode}` +
        `${smoke.before.timedOut ? ', timed out' : ''}): fix the image or set \`smoke-test\`. Output:\n${smoke.before.output.slice(-2000)}`,
    );
  }
  if (smoke.after && !smoke.after.passed) {
    if (settings.strict) {
      throw new SmokeBrokenError(
        `Slimming breaks the smoke test and \`strict\` is on. Output in the slimmed image:\n${smoke.after.output.slice(-2000)}`,
      );
    }
    const fallback = await hooks.group('Find what breaks the smoke test', () =>
      findCulprit(run, wanted, before),
    );
    if (!fallback) {
      slimResult.skipped.push(
        'No slimmed variant passes the smoke test; the original image is delivered unchanged.',
      );
      slimResult.variant = { strip: false, prune: [] };
      report.after = before.measurement;
      return;
    }
    slimResult.culprit = fallback.culprit;
    slimResult.variant = { strip: fallback.script.strip, prune: [...fallback.script.prune] };
    slimResult.skipped.push(
      `${describeRule(fallback.culprit)} breaks the smoke test; delivered the variant without it.`,
    );
    slimmedId = fallback.imageId;
    smoke = await runSmoke(run.docker, smokeRequest(run, before.measurement.id, slimmedId));
    report.smoke = smoke;
    await writeSlimmedFiles(run, planFor(run, fallback.script), slimResult, files);
  }
  const after = await hooks.group('Measure the slimmed image', () => measure(run, slimmedId));
  report.after = after.measurement;
  const { savings, strippedTop } = measureSavings(before.files, after.files);
  slimResult.savings = savings;
  slimResult.strippedTop = strippedTop;
}

function smokeRequest(run: RunContext, before: string, after: string | undefined) {
  return {
    before,
    after,
    command: run.settings.smokeTest,
    timeoutMs: run.settings.smokeTimeoutMs,
    labels: slimpyLabels(run.runId),
  };
}

interface Fallback {
  culprit: string;
  script: ScriptSettings;
  imageId: string;
}

/**
 * Rebuilds with one rule off at a time (strip first, then each category) and keeps the first
 * variant whose smoke test passes; that rule is the culprit.
 */
async function findCulprit(
  run: RunContext,
  wanted: ScriptSettings,
  before: MeasuredImage,
): Promise<Fallback | undefined> {
  const candidates: Array<{ culprit: string; script: ScriptSettings }> = [];
  if (wanted.strip) candidates.push({ culprit: 'strip', script: { ...wanted, strip: false } });
  for (const category of wanted.prune) {
    candidates.push({
      culprit: category,
      script: { ...wanted, prune: wanted.prune.filter((c) => c !== category) },
    });
  }
  for (const candidate of candidates) {
    run.hooks.info(`Trying without ${describeRule(candidate.culprit)}`);
    const imageId = await buildVariant(run, planFor(run, candidate.script));
    const smoke = await runSmoke(run.docker, {
      ...smokeRequest(run, before.measurement.id, imageId),
      runs: 1,
    });
    if (smoke.after?.passed) {
      run.hooks.warning(
        `${describeRule(candidate.culprit)} breaks the smoke test; slimpy delivers the variant without it.`,
      );
      return { ...candidate, imageId };
    }
  }
  return undefined;
}

function describeRule(rule: string): string {
  return rule === 'strip' ? 'Stripping debug symbols' : `\`${rule}\` removal`;
}

async function writeSlimmedFiles(
  run: RunContext,
  plan: SlimPlan,
  result: SlimResult,
  files: PipelineResult['files'],
): Promise<void> {
  const { settings } = run;
  await mkdir(settings.outputDir, { recursive: true });
  const dockerfileRel = workspacePath(settings, settings.file);
  const scriptRel = workspacePath(settings, path.join(settings.context, PRUNE_SCRIPT_PATH));
  const patch =
    plan.strategy === 'none'
      ? ''
      : unifiedDiff(run.dockerfileText, plan.text, dockerfileRel) +
        newFileDiff(scriptRel, loadPruneScript());
  files.dockerfile = path.join(settings.outputDir, `${path.basename(settings.file)}.slimpy`);
  files.patch = path.join(settings.outputDir, 'slimpy.patch');
  await writeFile(files.dockerfile, plan.text);
  await writeFile(files.patch, patch);
  result.dockerfilePath = files.dockerfile;
  result.patchPath = files.patch;
  result.patch = patch;
}

/** A `git apply`-able diff that creates a file. */
export function newFileDiff(file: string, content: string): string {
  const lines = content.endsWith('\n') ? content.slice(0, -1).split('\n') : content.split('\n');
  return [
    `diff --git a/${file} b/${file}`,
    'new file mode 100755',
    '--- /dev/null',
    `+++ b/${file}`,
    `@@ -0,0 +1,${lines.length} @@`,
    ...lines.map((line) => `+${line}`),
    ...(content.endsWith('\n') ? [] : ['\\ No newline at end of file']),
    '',
  ].join('\n');
}

/** A path as the user's repository names it (relative to the workspace, POSIX). */
function workspacePath(settings: Settings, file: string): string {
  const relative = path.relative(settings.workspace, path.resolve(file));
  return relative.startsWith('..') ? path.resolve(file) : relative.split(path.sep).join('/');
}

export function budgetVerdict(
  settings: Settings,
  size: number,
  compressed: number | undefined,
): BudgetVerdict | undefined {
  if (settings.budget === undefined) return undefined;
  const actual = settings.budgetMetric === 'compressed' ? compressed : size;
  if (actual === undefined) return undefined;
  return {
    metric: settings.budgetMetric,
    limit: settings.budget,
    actual,
    over: actual > settings.budget,
  };
}
