/**
 * `mode: post-comment`: in a `workflow_run` workflow of the base repository, posts the comments a
 * fork's `pull_request` run left as artifacts (src/report/comment-artifact.ts). It reads them
 * through the REST API and never checks out or runs anything of the fork's; a comment goes only
 * on the pull request whose head is the commit that run measured.
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { DefaultArtifactClient, type Artifact } from '@actions/artifact';
import { upsertComment } from './comment.js';
import {
  COMMENT_ARTIFACT_PREFIX,
  CommentArtifactError,
  MAX_COMMENT_ARTIFACT_BYTES,
  parseCommentArtifact,
  type CommentArtifact,
} from './comment-artifact.js';
import { createOctokit, type GitHubClient } from './octokit.js';

/** The run whose artifacts are posted (the `workflow_run` event's `workflow_run`). */
export interface FinishedRun {
  id: number;
  event?: string;
  headSha?: string;
}

export interface PostCommentOptions {
  token: string;
  owner: string;
  repo: string;
  run: FinishedRun;
  /** The login whose comments are slimpy's; default the token's identity. */
  commentAuthor?: string;
  log: { info(line: string): void; warning(message: string): void };
}

export interface PostedComment {
  pullRequest: number;
  url: string;
  action: 'created' | 'updated';
}

export async function postCommentArtifacts(options: PostCommentOptions): Promise<PostedComment[]> {
  const { run, log } = options;
  if (run.event !== undefined && run.event !== 'pull_request') {
    log.info(`Run ${run.id} ran on ${run.event}, not pull_request: no comment to post.`);
    return [];
  }
  const findBy = {
    token: options.token,
    workflowRunId: run.id,
    repositoryOwner: options.owner,
    repositoryName: options.repo,
  };
  const client = new DefaultArtifactClient();
  const { artifacts } = await client.listArtifacts({ latest: true, findBy });
  const ours = artifacts.filter((artifact) => artifact.name.startsWith(COMMENT_ARTIFACT_PREFIX));
  if (ours.length === 0) {
    log.info(
      `Run ${run.id} left no ${COMMENT_ARTIFACT_PREFIX}* artifact (its slimpy step did not run with \`comment: artifact\`, or failed before the report).`,
    );
    return [];
  }
  const octokit = createOctokit(options.token);
  const posted: PostedComment[] = [];
  for (const artifact of ours) {
    const comment = await readCommentArtifact(client, artifact, findBy).catch((error: unknown) => {
      if (error instanceof CommentArtifactError) return log.warning(error.message);
      throw error;
    });
    if (!comment) continue;
    const mismatch = await headMismatch(octokit, options, comment);
    if (mismatch) {
      log.warning(mismatch);
      continue;
    }
    const result = await upsertComment(octokit, {
      owner: options.owner,
      repo: options.repo,
      issueNumber: comment.pullRequest,
      marker: comment.commentKey,
      body: comment.body,
      author: options.commentAuthor,
    });
    log.info(`PR #${comment.pullRequest} comment ${result.action}: ${result.url}`);
    posted.push({ pullRequest: comment.pullRequest, url: result.url, action: result.action });
  }
  return posted;
}

/** Downloads the artifact as it was uploaded (never unzipped: a fork chose its bytes). */
async function readCommentArtifact(
  client: DefaultArtifactClient,
  artifact: Artifact,
  findBy: NonNullable<Parameters<DefaultArtifactClient['downloadArtifact']>[1]>['findBy'],
): Promise<CommentArtifact> {
  if (artifact.size > MAX_COMMENT_ARTIFACT_BYTES)
    throw new CommentArtifactError(artifact.name, `${artifact.size} bytes is too large`);
  const dir = await mkdtemp(path.join(process.env.RUNNER_TEMP ?? os.tmpdir(), 'slimpy-post-'));
  await client.downloadArtifact(artifact.id, { path: dir, skipDecompress: true, findBy });
  const files = await readdir(dir);
  if (files.length !== 1 || files[0] === undefined)
    throw new CommentArtifactError(artifact.name, `it holds ${files.length} files, not one`);
  return parseCommentArtifact(artifact.name, await readFile(path.join(dir, files[0])));
}

/**
 * Why the comment must not go on the pull request it names, if so: the PR's head must be the
 * commit the triggering run measured, so a run can only comment on its own pull request (and a
 * run superseded by a newer push does not overwrite the newer comment).
 */
async function headMismatch(
  octokit: GitHubClient,
  options: PostCommentOptions,
  comment: CommentArtifact,
): Promise<string | undefined> {
  const { data } = await octokit.rest.pulls.get({
    owner: options.owner,
    repo: options.repo,
    pull_number: comment.pullRequest,
  });
  const runSha = options.run.headSha;
  const skip = `Not posting on PR #${comment.pullRequest}`;
  if (runSha === undefined) return `${skip}: the workflow_run event names no head commit.`;
  if (comment.headSha !== undefined && comment.headSha !== runSha)
    return `${skip}: the artifact says it measured ${comment.headSha.slice(0, 7)}, but run ${options.run.id} ran on ${runSha.slice(0, 7)}.`;
  if (data.head.sha !== runSha)
    return `${skip}: its head is ${data.head.sha.slice(0, 7)}, not ${runSha.slice(0, 7)} which run ${options.run.id} measured (a newer push comments for itself).`;
  return undefined;
}
