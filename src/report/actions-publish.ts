/**
 * How the action shows a result: outputs, annotations on the Dockerfile, the job summary, and the
 * sticky comment on the pull request when asked and possible, or the comment as an artifact for
 * a `workflow_run` workflow to post (pull requests from forks), and that workflow's posting.
 */
import * as core from '@actions/core';
import type { CommentMode } from '../model/settings.js';
import type { ReportFiles, SlimpyReport } from '../model/report.js';
import { annotateFindings, annotateMissingRoots } from './annotations.js';
import { CommentPermissionError, upsertComment, type UpsertedComment } from './comment.js';
import { uploadCommentArtifact } from './comment-artifact.js';
import { renderReport } from './markdown.js';
import { createOctokit } from './octokit.js';
import { postCommentArtifacts, type FinishedRun } from './post-comment.js';

export interface ActionsPublishOptions {
  comment: CommentMode;
  commentKey: string;
  token: string;
  /** `owner/name` */
  repository?: string;
  pullRequest?: { number: number; headSha?: string };
  /** The login whose marked comment is slimpy's; default the token's identity. */
  commentAuthor?: string;
}

export async function publishToActions(
  result: { report: SlimpyReport; files: ReportFiles },
  options: ActionsPublishOptions,
): Promise<void> {
  setOutputs(result.report, result.files);
  annotateFindings(result.report);
  annotateMissingRoots(result.report);
  const body = renderReport(result.report, { commentKey: options.commentKey });
  await core.summary.addRaw(body, true).write();
  core.setOutput('comment-body', body);
  const url = options.comment === 'artifact' ? await saveForLater(body, options) : undefined;
  core.setOutput('comment-url', url ?? (await postComment(body, options)) ?? '');
}

/** `comment: artifact`: the comment waits in an artifact for the workflow_run workflow. */
async function saveForLater(body: string, options: ActionsPublishOptions): Promise<string> {
  const pull = options.pullRequest;
  if (!pull) {
    core.warning(
      '`comment: artifact` needs a pull_request event to write the comment for; this event has none. The job summary has the report.',
    );
    return '';
  }
  try {
    const { name } = await uploadCommentArtifact({
      pullRequest: pull.number,
      ...(pull.headSha ? { headSha: pull.headSha } : {}),
      commentKey: options.commentKey,
      body,
    });
    core.info(
      `Wrote the comment for PR #${pull.number} as the artifact ${name}; a workflow_run workflow with \`mode: post-comment\` posts it.`,
    );
  } catch (error) {
    core.warning(
      `Writing the comment artifact failed: ${error instanceof Error ? error.message : String(error)}. The job summary has the report.`,
    );
  }
  return '';
}

function setOutputs(report: SlimpyReport, files: ReportFiles): void {
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

/** The comment's URL; undefined when none was asked for or possible (a warning says why). */
async function postComment(
  body: string,
  options: ActionsPublishOptions,
): Promise<string | undefined> {
  const pull = options.pullRequest;
  if (options.comment === 'never' || (options.comment === 'auto' && !pull)) return undefined;
  if (!pull) {
    core.warning(
      '`comment: always` needs a pull request to comment on; this event has none. The job summary has the report.',
    );
    return undefined;
  }
  const [owner = '', repo = ''] = (options.repository ?? '').split('/');
  try {
    const octokit = createOctokit(options.token, {});
    const comment = await upsertComment(octokit, {
      owner,
      repo,
      issueNumber: pull.number,
      marker: options.commentKey,
      body,
      author: options.commentAuthor,
    });
    core.info(`PR comment ${comment.action}: ${comment.url}`);
    warnOnOtherAuthor(comment);
    return comment.url;
  } catch (error) {
    core.warning(commentFailure(error));
    return undefined;
  }
}

/** A token of another GitHub App comments as its own bot, which slimpy cannot learn by itself. */
function warnOnOtherAuthor(comment: UpsertedComment): void {
  if (comment.author.toLowerCase() === comment.lookedFor.toLowerCase()) return;
  core.warning(
    `GitHub wrote the comment as ${comment.author}, but slimpy looked for ${comment.lookedFor}'s: set \`comment-author: ${comment.author}\` so the next run edits this comment instead of adding one.`,
  );
}

/** `mode: post-comment`: posts what the triggering pull_request run left; sets `comment-url`. */
export async function publishArtifactComments(options: {
  token: string;
  repository?: string;
  run?: FinishedRun;
  commentAuthor?: string;
}): Promise<void> {
  const [owner = '', repo = ''] = (options.repository ?? '').split('/');
  if (!options.run) {
    throw new Error(
      '`mode: post-comment` posts the comment a pull_request run left as an artifact: run it in a workflow triggered by `workflow_run` (see examples/workflows/slimpy-comment.yml).',
    );
  }
  const posted = await postCommentArtifacts({
    token: options.token,
    owner,
    repo,
    run: options.run,
    commentAuthor: options.commentAuthor,
    log: { info: (line) => core.info(line), warning: (message) => core.warning(message) },
  });
  core.setOutput('comment-url', posted[0]?.url ?? '');
}

function commentFailure(error: unknown): string {
  if (error instanceof CommentPermissionError) {
    return (
      `Cannot comment on the pull request (${error.message}). Pull requests from forks get a read-only token; ` +
      'the report is in the job summary. Same-repository PRs need `permissions: pull-requests: write`.'
    );
  }
  return `Posting the PR comment failed: ${error instanceof Error ? error.message : String(error)}`;
}
