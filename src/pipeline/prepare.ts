/** Before any build: the user's paths and Dockerfile, the engine and its builder, the guards. */
import { readFile, stat } from 'node:fs/promises';
import type Docker from 'dockerode';
import { buildKitOnlyUses, describeUses } from '../dockerfile/buildkit-only.js';
import { finalBaseImage } from '../dockerfile/plan.js';
import { chooseBuilder, connectEngine, engineFacts } from '../engine/docker.js';
import { watchEngine, type EngineWatchdog } from '../engine/watchdog.js';
import type { EngineFacts } from '../model/report.js';
import type { Settings } from '../model/settings.js';
import { secretBuildArgValues } from '../report/redact.js';
import { BuildKitRequiredError, ContextMissingError, DockerfileMissingError } from './errors.js';
import { guardedHooks, type PipelineHooks } from './hooks.js';
import { StepClock } from './steps.js';

/** Everything the steps of one run share. */
export interface RunContext {
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
  /** Times every step for the report. */
  clock: StepClock;
}

export async function prepare(
  settings: Settings,
  hooks: PipelineHooks,
  cancel: AbortSignal | undefined,
): Promise<RunContext> {
  // The user's paths and Dockerfile first: their mistakes are named whatever the engine does.
  const clock = new StepClock();
  const dockerfileText = await readUserFiles(settings);
  const baseImage = finalBaseImage(dockerfileText, {
    target: settings.target,
    buildArgs: settings.buildArgs,
  });
  const docker = connectEngine();
  const engine = await describeEngine(docker, hooks);
  const needsBuildKit =
    engine.builder === 'classic' && !buildsNothing(settings)
      ? buildKitOnlyUses(dockerfileText)
      : [];
  if (needsBuildKit.length > 0) {
    throw new BuildKitRequiredError(
      describeUses(needsBuildKit),
      engine.builderReason ?? 'the engine has no BuildKit.',
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
    clock,
  };
}

/** Measure mode on a given image: no build at all, so the Dockerfile is only read for findings. */
export function buildsNothing(settings: Settings): boolean {
  return settings.image !== undefined && settings.mode === 'measure';
}

async function readUserFiles(settings: Settings): Promise<string> {
  // Without a Dockerfile the findings still come, only without the lines that caused them.
  if (buildsNothing(settings)) return readFile(settings.file, 'utf8').catch(() => '');
  const isDirectory = await stat(settings.context).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (!isDirectory) throw new ContextMissingError(settings.context);
  return readFile(settings.file, 'utf8').catch(() => {
    throw new DockerfileMissingError(settings.file);
  });
}

async function describeEngine(docker: Docker, hooks: PipelineHooks): Promise<EngineFacts> {
  const facts = await engineFacts(docker);
  const choice = chooseBuilder(facts);
  const engine: EngineFacts = { ...facts, builder: choice.builder, builderReason: choice.reason };
  hooks.info(
    `Engine ${engine.version} (API ${engine.apiVersion}), ${engine.store} image store (${engine.storageDriver}), ${engine.builder} builder`,
  );
  if (choice.reason) hooks.warning(choice.reason);
  return engine;
}
