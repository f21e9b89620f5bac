/**
 * The PR comment as a workflow artifact, for pull requests from forks. Their `pull_request` run
 * gets a read-only token, so it cannot comment; it writes the comment (body, comment key, PR
 * number, head commit) as an artifact instead (`comment: artifact`), and a `workflow_run`
 * workflow of the base repository, which has a write token and never runs the fork's code, posts
 * it (`mode: post-comment`, src/report/post-comment.ts).
 *
 * Everything read back is untrusted: the fork's run could have written any bytes under that name.
 * `parseCommentArtifact` accepts only the shape below, within GitHub's comment size.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { DefaultArtifactClient } from '@actions/artifact';
import { sanitizeMarkerKey } from './escape.js';
import { GITHUB_COMMENT_LIMIT } from './markdown.js';

/** Every comment artifact's name starts with this; the comment key makes it unique in a run. */
export const COMMENT_ARTIFACT_PREFIX = 'slimpy-comment-';
const FORMAT_VERSION = 1;
/** A comment's JSON is a little over its body; anything much larger is not one of ours. */
export const MAX_COMMENT_ARTIFACT_BYTES = 4 * GITHUB_COMMENT_LIMIT + 4096;

export interface CommentArtifact {
  version: typeof FORMAT_VERSION;
  /** The pull request the comment goes on. */
  pullRequest: number;
  /** The PR's head commit the run measured: the posting side checks the PR still names it. */
  headSha?: string;
  /** The sticky comment's key (its marker). */
  commentKey: string;
  /** The markdown, marker first. */
  body: string;
}

/**
 * `slimpy-comment-<key>-<hash>.json`: readable, within the characters artifact names allow, and
 * one per comment key, so several images in one workflow run each leave their own.
 */
export function commentArtifactName(commentKey: string): string {
  const readable = sanitizeMarkerKey(commentKey)
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 60);
  const hash = createHash('sha256').update(commentKey).digest('hex').slice(0, 8);
  return `${COMMENT_ARTIFACT_PREFIX}${readable}-${hash}.json`;
}

/** Uploads the comment as a single-file (not zipped) artifact; returns its name. */
export async function uploadCommentArtifact(
  comment: Omit<CommentArtifact, 'version'>,
): Promise<{ name: string; id?: number }> {
  const name = commentArtifactName(comment.commentKey);
  const dir = await mkdtemp(path.join(process.env.RUNNER_TEMP ?? os.tmpdir(), 'slimpy-comment-'));
  const file = path.join(dir, name);
  const artifact: CommentArtifact = { version: FORMAT_VERSION, ...comment };
  await writeFile(file, `${JSON.stringify(artifact)}\n`);
  const uploaded = await new DefaultArtifactClient().uploadArtifact(name, [file], dir, {
    skipArchive: true,
    retentionDays: 1,
  });
  return { name, id: uploaded.id };
}

export class CommentArtifactError extends Error {
  constructor(name: string, why: string) {
    super(`The artifact ${name} is not a slimpy comment: ${why}. It was left unposted.`);
    this.name = 'CommentArtifactError';
  }
}

/** Parses an artifact's bytes, accepting only a comment of the shape slimpy writes. */
export function parseCommentArtifact(name: string, bytes: Buffer): CommentArtifact {
  if (bytes.length > MAX_COMMENT_ARTIFACT_BYTES)
    throw new CommentArtifactError(name, `${bytes.length} bytes is too large for a comment`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new CommentArtifactError(name, 'it is not JSON');
  }
  const data = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  const { version, pullRequest, headSha, commentKey, body } = data;
  if (version !== FORMAT_VERSION)
    throw new CommentArtifactError(name, `version ${String(version)}`);
  if (typeof pullRequest !== 'number' || !Number.isSafeInteger(pullRequest) || pullRequest < 1)
    throw new CommentArtifactError(name, 'no pull request number');
  if (headSha !== undefined && (typeof headSha !== 'string' || !/^[0-9a-f]{40,64}$/.test(headSha)))
    throw new CommentArtifactError(name, 'the head commit is not a commit SHA');
  if (typeof commentKey !== 'string' || commentKey.trim() === '' || commentKey.length > 1000)
    throw new CommentArtifactError(name, 'no comment key');
  if (typeof body !== 'string' || body.trim() === '' || [...body].length > GITHUB_COMMENT_LIMIT)
    throw new CommentArtifactError(name, 'no comment body within GitHub’s size limit');
  return {
    version: FORMAT_VERSION,
    pullRequest,
    ...(headSha === undefined ? {} : { headSha }),
    commentKey,
    body,
  };
}
