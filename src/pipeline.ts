/**
 * The ordered steps, shared by the action and the CLI:
 * build -> measure -> plan the rewrite -> rebuild slimmed -> smoke -> (culprit search) -> report.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { buildKitOnlyUses, describeUses } from './dockerfile/buildkit-only.js';
import { finalBaseImage, planSlim, type SlimPlan } from './dockerfile/plan.js';
import { unifiedDiff } from './dockerfile/diff.js';
import { instructionLine } from './dockerfile/parse.js';
import { BuildError, buildImage } from './engine/build.js';
import { createContextTar } from './engine/context.js';
import {
  chooseBuilder,
  connectEngine,
  EngineLostError,
  engineFacts,
  isConnectionError,
} from './engine/docker.js';
import { slimpyLabels } from './engine/labels.js';
import { watchEngine, type EngineWatchdog } from './engine/watchdog.js';
import type { Settings } from './inputs.js';
import { imageFindings } from './measure/findings.js';
import { measureImage, type MeasuredImage } from './measure/sizes.js';
import type {
  BudgetVerdict,
  EngineFacts,
  SlimResult,
  SlimpyReport,
  SmokeRun,
} from './report/model.js';
import { REPORT_VERSION } from './report/model.js';
import { redactDeep, redactText, secretBuildArgValues } from './report/redact.js';
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

export class ContextMissingError extends Error {
  constructor(context: string) {
    super(
      `The build context ${context} does not exist or is not a directory. ` +
        'Set `context` (--context) to the directory your Dockerfile builds from.',
    );
    this.name = 'ContextMissingError';
  }
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

/** The smoke test fails where it must pass; `result` holds what was measured, for the report. */
export class SmokeBrokenError extends Error {
  result: PipelineResult | undefined;
  constructor(message: string) {
    super(message);
    this.name = 'SmokeBrokenError';
  }
}

interface RunContext {
  settings: Settings;
  /** The host's hooks with secrets masked and every group stopping when `signal` aborts. */
  hooks: PipelineHooks;
  docker: Docker;
  engine: EngineFacts;
  runId: string;
  dockerfileText: string;
  baseImage: string | undefined;
  /** Aborts when the caller cancels the run or the engine stops answering. */
  signal: AbortSignal;
  watchdog: EngineWatchdog;
  /** The title of the step running now, for error messages. */
  step: { current: string };
}

export interface PipelineResult {
  report: SlimpyReport;
  /** Paths written: the JSON report, and in slim mode the slimmed Dockerfile and the patch. */
  files: { report: string; dockerfile?: string; patch?: string };
}

/** Runs every step; `signal` cancels the run (each step stops waiting at once). */
export async function runPipeline(
  settings: Settings,
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
  const { settings } = run;
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
  // Advice only: a failure here is a warning, never the end of the run.
  report.findings = await run.hooks
    .group('Look for what else makes the image heavy', () =>
      imageFindings(run.docker, before, {
        dockerfile: run.dockerfileText,
        target: settings.target,
        buildArgs: settings.buildArgs,
        baseImage: run.baseImage,
      }),
    )
    .catch((error: unknown) => {
      report.warnings.push(
        `Findings not computed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return undefined;
    });
  const files: PipelineResult['files'] = {
    report: path.join(settings.outputDir, 'slimpy-report.json'),
  };
  try {
    if (settings.mode === 'slim') await slim(run, report, before, files);
  } catch (error) {
    // Broken smoke test: the report still says what was measured and what the test printed.
    if (error instanceof SmokeBrokenError)
      error.result = await writeReport(report, files, settings);
    throw error;
  }
  return writeReport(report, files, settings);
}

async function writeReport(
  report: SlimpyReport,
  files: PipelineResult['files'],
  settings: Settings,
): Promise<PipelineResult> {
  const delivered = report.after ?? report.before;
  report.budget = budgetVerdict(settings, delivered.size, delivered.compressed);
  // What is published (report file, comment, summary, history) never carries a secret build arg.
  const published = redactDeep(report, secretBuildArgValues(settings.buildArgs));
  await mkdir(settings.outputDir, { recursive: true });
  await writeFile(files.report, JSON.stringify(published, null, 2) + '\n');
  return { report: published, files };
}

/** Why the run stopped, in the user's terms: a cancellation or a lost engine, not "aborted". */
function stoppedBy(run: RunContext, error: unknown): unknown {
  if (run.signal.aborted) return run.signal.reason;
  if (isConnectionError(error)) return new EngineLostError(run.step.current, error);
  return error;
}

/** The host's hooks, with secret build-arg values masked and every group stopping on abort. */
function guardedHooks(
  hooks: PipelineHooks,
  signal: AbortSignal,
  secrets: string[],
  step: { current: string },
): PipelineHooks {
  return {
    info: (line) => hooks.info(redactText(line, secrets)),
    warning: (message, where) => hooks.warning(redactText(message, secrets), where),
    group: (title, work) => {
      step.current = title;
      return hooks.group(title, () => untilAborted(signal, work));
    },
  };
}

/**
 * Rejects with the abort reason as soon as `signal` aborts, without waiting for `work` to notice:
 * an export or a compression that takes no signal must not hold a cancelled run.
 */
async function untilAborted<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  signal.throwIfAborted();
  const running = work();
  running.catch(() => undefined); // abandoned after an abort: its late failure changes nothing
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([running, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function prepare(
  settings: Settings,
  hooks: PipelineHooks,
  cancel: AbortSignal | undefined,
): Promise<RunContext> {
  // The user's paths and Dockerfile first: their mistakes are named whatever the engine does.
  const isDirectory = await stat(settings.context).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (!isDirectory) throw new ContextMissingError(settings.context);
  const dockerfileText = await readFile(settings.file, 'utf8').catch(() => {
    throw new DockerfileMissingError(settings.file);
  });
  const baseImage = finalBaseImage(dockerfileText, {
    target: settings.target,
    buildArgs: settings.buildArgs,
  });
  const docker = connectEngine();
  const facts = await engineFacts(docker);
  const choice = chooseBuilder(facts);
  const engine: EngineFacts = { ...facts, builder: choice.builder, builderReason: choice.reason };
  hooks.info(
    `Engine ${engine.version} (API ${engine.apiVersion}), ${engine.store} image store (${engine.storageDriver}), ${engine.builder} builder`,
  );
  if (choice.reason) hooks.warning(choice.reason);
  const needsBuildKit = engine.builder === 'classic' ? buildKitOnlyUses(dockerfileText) : [];
  if (needsBuildKit.length > 0) {
    throw new BuildKitRequiredError(
      describeUses(needsBuildKit),
      choice.reason ?? 'the engine has no BuildKit.',
    );
  }
  const step = { current: 'Connect to the engine' };
  const watchdog = watchEngine(docker, () => step.current);
  const signal = cancel ? AbortSignal.any([cancel, watchdog.signal]) : watchdog.signal;
  return {
    settings,
    hooks: guardedHooks(hooks, signal, secretBuildArgValues(settings.buildArgs), step),
    docker,
    engine,
    runId: settings.runId,
    dockerfileText,
    baseImage,
    signal,
    watchdog,
    step,
  };
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
  // The slimmed Dockerfile travels as an extra file and is the one the build reads.
  const context = await createContextTar(settings.context, {
    dockerfile: plan ? '.slimpy/Dockerfile' : settings.file,
    extraFiles,
    builder: run.engine.builder,
  });
  return buildImage(run.docker, {
    context: context.stream,
    dockerfile: context.dockerfileInContext,
    target: plan?.buildTarget !== undefined ? String(plan.buildTarget) : settings.target,
    buildArgs: settings.buildArgs,
    network: settings.network,
    builder: run.engine.builder,
    labels: slimpyLabels(run.runId),
    onLine: (line) => run.hooks.info(line),
    signal: run.signal,
  }).catch((error: unknown) => {
    // Lines of a slimmed variant are lines of the rewritten file; only the user's own count.
    if (error instanceof BuildError) {
      error.line = plan
        ? undefined
        : (error.line ?? instructionLine(run.dockerfileText, error.instruction ?? ''));
    }
    throw error;
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
    if (!report.smoke.before.passed) throw brokenBeforeSlimming(report.smoke.before);
    return;
  }
  let slimmedId = await hooks.group('Build the slimmed image', () => buildVariant(run, plan));
  let smoke = await hooks.group('Smoke test: original and slimmed image', () =>
    runSmoke(run.docker, smokeRequest(run, before.measurement.id, slimmedId)),
  );
  report.smoke = smoke;
  if (!smoke.before.passed) throw brokenBeforeSlimming(smoke.before);
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
    signal: run.signal,
  };
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
