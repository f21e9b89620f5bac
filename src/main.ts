/** The action: inputs -> pipeline -> outputs, job summary, PR comment, budget verdict. */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as core from '@actions/core';
import { cancelOnSignals } from './cancel.js';
import { DockerfileError } from './dockerfile/parse.js';
import { BuildError } from './engine/build.js';
import { connectEngine } from './engine/docker.js';
import { tagImage } from './engine/images.js';
import { actionsSizeHistory } from './history/actions-cache.js';
import { growthFailure } from './history/growth.js';
import { growthOf, recordHistory, restoreHistory, saveLayerCache } from './history/history.js';
import { readSettings, type Settings } from './inputs.js';
import {
  runPipeline,
  SmokeBrokenError,
  type PipelineHooks,
  type PipelineResult,
} from './pipeline.js';
import { annotateFindings } from './report/annotations.js';
import { CommentPermissionError, upsertComment } from './report/comment.js';
import { formatBytes } from './report/format.js';
import { renderReport } from './report/markdown.js';
import type { SlimpyReport } from './report/model.js';
import { createOctokit } from './report/octokit.js';
import { redactText, secretBuildArgValues } from './report/redact.js';
import { saveRunState } from './state.js';

interface PullRequestEvent {
  number: number;
  baseSha?: string;
}

export async function run(): Promise<void> {
  let settings: Settings | undefined;
  const cancelled = cancelOnSignals(() => settings?.runId, {
    info: (line) => core.info(line),
    warning: (message) => core.warning(message),
  });
  try {
    const token = core.getInput('github-token');
    if (token) core.setSecret(token);
    settings = actionSettings();
    // The runner masks these in its log; the report, comment and history never get them at all.
    for (const secret of secretBuildArgValues(settings.buildArgs)) core.setSecret(secret);
    saveRunState(settings.runId, []);
    // Size history (src/history): layer-size cache and base commit's size, from the Actions cache.
    const history = actionsSizeHistory(settings, core.getInput('comment-key'), actionHooks());
    const restored = await core.group('Restore the size history', () => restoreHistory(history));
    const result = await runPipeline(settings, actionHooks(), cancelled).catch(
      async (error: unknown) => {
        await saveLayerCache(history, restored); // what was measured is not compressed again
        if (error instanceof SmokeBrokenError && error.result && settings) {
          // The user still gets the sizes and the smoke output, in the summary and on the PR.
          setOutputs(error.result);
          await publish(settings, error.result.report);
        }
        throw error;
      },
    );
    result.report.growth = growthOf(restored, result.report, settings);
    if (result.report.growth) {
      await writeFile(result.files.report, `${JSON.stringify(result.report, null, 2)}\n`);
    }
    saveRunState(
      settings.runId,
      [result.report.before.id, result.report.after?.id ?? ''].filter(Boolean),
    );
    setOutputs(result);
    annotateFindings(result.report);
    await publish(settings, result.report);
    await recordHistory(history, restored, result.report, settings);
    if (settings.tag && result.report.after)
      await tagDelivered(settings.tag, result.report.after.id);
    const budget = result.report.budget;
    if (budget?.over) {
      core.setFailed(
        `The image is over its size budget: ${formatBytes(budget.actual)} ${budget.metric} > budget ${formatBytes(budget.limit)} ` +
          `(${budget.actual} > ${budget.limit} bytes).`,
      );
    }
    if (result.report.growth?.over) core.setFailed(growthFailure(result.report.growth));
  } catch (error) {
    reportFailure(error, settings);
  }
  // Exit deliberately: retrying HTTP clients and the engine's keep-alive sockets can hold Node open.
  // A cancelled run exits from its signal handler, once this run's objects are removed.
  if (!cancelled.aborted) process.exit(process.exitCode ?? 0);
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

function setOutputs({ report, files }: PipelineResult): void {
  const after = report.after ?? report.before;
  core.setOutput('size-before', report.before.size);
  core.setOutput('size-after', after.size);
  core.setOutput('size-saved', report.before.size - after.size);
  core.setOutput('compressed-before', report.before.compressed ?? '');
  core.setOutput('compressed-after', after.compressed ?? '');
  core.setOutput('image-before', report.before.id);
  core.setOutput('image-after', after.id);
  core.setOutput('dockerfile', files.dockerfile ?? '');
  core.setOutput('patch', files.patch ?? '');
  core.setOutput('report', files.report);
  core.setOutput('over-budget', report.budget?.over ? 'true' : 'false');
}

/** Job summary always; the sticky PR comment when asked and possible. */
async function publish(settings: Settings, report: SlimpyReport): Promise<void> {
  const commentKey =
    core.getInput('comment-key') ||
    `${report.dockerfile}${report.target ? `#${report.target}` : ''}`;
  const body = renderReport(report, { commentKey });
  await core.summary.addRaw(body, true).write();
  const event = pullRequestEvent();
  const mode = core.getInput('comment') || 'auto';
  if (mode === 'never' || (mode === 'auto' && !event)) {
    core.setOutput('comment-url', '');
    return;
  }
  if (!event) {
    core.warning(
      '`comment: always` needs a pull request to comment on; this event has none. The job summary has the report.',
    );
    core.setOutput('comment-url', '');
    return;
  }
  const [owner = '', repo = ''] = (process.env.GITHUB_REPOSITORY ?? '').split('/');
  try {
    const octokit = createOctokit(core.getInput('github-token'), {});
    const comment = await upsertComment(octokit, {
      owner,
      repo,
      issueNumber: event.number,
      marker: commentKey,
      body,
    });
    core.info(`PR comment ${comment.action}: ${comment.url}`);
    core.setOutput('comment-url', comment.url);
  } catch (error) {
    core.setOutput('comment-url', '');
    if (error instanceof CommentPermissionError) {
      core.warning(
        `Cannot comment on the pull request (${error.message}). Pull requests from forks get a read-only token; ` +
          'the report is in the job summary. Same-repository PRs need `permissions: pull-requests: write`.',
      );
      return;
    }
    core.warning(
      `Posting the PR comment failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function pullRequestEvent(): PullRequestEvent | undefined {
  const eventPath = process.env.GITHUB_EVENT_PATH;
  if (!eventPath) return undefined;
  try {
    const payload = JSON.parse(readFileSync(eventPath, 'utf8')) as {
      pull_request?: { number?: number; base?: { sha?: string } };
    };
    const number = payload.pull_request?.number;
    return typeof number === 'number'
      ? { number, baseSha: payload.pull_request?.base?.sha }
      : undefined;
  } catch {
    return undefined;
  }
}

async function tagDelivered(tag: string, imageId: string): Promise<void> {
  await tagImage(connectEngine(), imageId, tag);
  core.info(`Tagged the slimmed image ${imageId.slice(0, 19)} as ${tag}`);
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
      file: path.relative(settings.workspace, settings.file),
      startLine: error.line,
    });
  }
  core.setFailed(message);
}
