/**
 * How the action shows a result: outputs, annotations on the Dockerfile, the job summary, and the
 * sticky comment on the pull request when asked and possible.
 */
import * as core from '@actions/core';
import type { CommentMode } from '../model/settings.js';
import type { ReportFiles, SlimpyReport } from '../model/report.js';
import { annotateFindings, annotateMissingRoots } from './annotations.js';
import { CommentPermissionError, upsertComment } from './comment.js';
import { renderReport } from './markdown.js';
import { createOctokit } from './octokit.js';

export interface ActionsPublishOptions {
  comment: CommentMode;
  commentKey: string;
  token: string;
  /** `owner/name` */
  repository?: string;
  pullRequest?: { number: number };
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
  core.setOutput('comment-url', (await postComment(body, options)) ?? '');
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
    });
    core.info(`PR comment ${comment.action}: ${comment.url}`);
    return comment.url;
  } catch (error) {
    core.warning(commentFailure(error));
    return undefined;
  }
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
