/** The action: inputs -> one session (src/session.ts) -> outputs, summary, comment, verdicts. */
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import * as core from '@actions/core';
import { cancelOnSignals } from './cancel.js';
import { DockerfileError } from './dockerfile/parse.js';
import { BuildError } from './engine/build.js';
import { actionsSizeHistory } from './history/actions-cache.js';
import { readMode, readPostCommentInputs, readSettings } from './inputs.js';
import type { Settings } from './model/settings.js';
import { workspacePath } from './model/workspace.js';
import type { PipelineHooks } from './pipeline/hooks.js';
import { publishArtifactComments, publishToActions } from './report/actions-publish.js';
import { redactText, secretBuildArgValues } from './report/redact.js';
import { readRunnerEvent, type RunnerEvent } from './runner-event.js';
import { runSession } from './session.js';
import { saveRunState } from './state.js';

export async function run(): Promise<void> {
  let settings: Settings | undefined;
  const cancelled = cancelOnSignals(() => settings?.runId, {
    info: (line) => core.info(line),
    warning: (message) => core.warning(message),
  });
  try {
    const token = core.getInput('github-token');
    if (token) core.setSecret(token);
    const read = (name: string): string => core.getInput(name);
    const event = readRunnerEvent();
    if (readMode(read) === 'post-comment') {
      const { repository, workflowRun: run } = event;
      await publishArtifactComments({ token, repository, run, ...readPostCommentInputs(read) });
    } else {
      settings = actionSettings();
      await runPipelineSession(settings, token, event, cancelled);
    }
  } catch (error) {
    reportFailure(error, settings);
  }
  // Exit deliberately: retrying HTTP clients and the engine's keep-alive sockets can hold Node open.
  // A cancelled run exits from its signal handler, once this run's objects are removed.
  if (!cancelled.aborted) process.exit(process.exitCode ?? 0);
}

async function runPipelineSession(
  settings: Settings,
  token: string,
  event: RunnerEvent,
  signal: AbortSignal,
): Promise<void> {
  // The runner masks these in its log; the report, comment and history never get them at all.
  for (const secret of secretBuildArgValues(settings.buildArgs)) core.setSecret(secret);
  const { runId, comment, commentKey, commentAuthor } = settings;
  saveRunState(runId, []);
  const hooks = actionHooks();
  const result = await runSession(settings, {
    hooks,
    history: actionsSizeHistory(settings, event, hooks),
    signal,
    keepImages: (ids) => saveRunState(runId, ids),
    publish: (done) =>
      publishToActions(done, {
        ...{ comment, commentKey, commentAuthor, token },
        repository: event.repository,
        pullRequest: event.pullRequest,
      }),
  });
  for (const failure of result.failures) core.setFailed(failure);
}

function actionSettings(): Settings {
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
  const temp = process.env.RUNNER_TEMP ?? os.tmpdir();
  const runId = randomUUID().slice(0, 12);
  return readSettings((name) => core.getInput(name), {
    workspace,
    outputDir: path.join(temp, `slimpy-${runId}`),
    cacheDir: path.join(process.env.RUNNER_TOOL_CACHE ?? temp, 'slimpy-layer-cache'),
    runId,
  });
}

function actionHooks(): PipelineHooks {
  return {
    info: (line) => core.info(line),
    warning: (message, where) =>
      core.warning(message, where ? { file: where.file, startLine: where.line } : undefined),
    group: (title, work) => core.group(title, work),
  };
}

/** One top-level catch: a thrown non-Error still fails the step; Dockerfile errors get an annotation. */
function reportFailure(error: unknown, settings: Settings | undefined): void {
  const secrets = settings ? secretBuildArgValues(settings.buildArgs) : [];
  const message = redactText(
    error instanceof Error ? error.message : `slimpy failed: ${String(error)}`,
    secrets,
  );
  if ((error instanceof DockerfileError || error instanceof BuildError) && settings) {
    // On the Dockerfile line at fault when it is known; the first line says what went wrong.
    core.error(message.split('\n')[0] ?? message, {
      file: workspacePath(settings.workspace, settings.file),
      startLine: error.line,
    });
  }
  core.setFailed(message);
}
