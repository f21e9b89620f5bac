/**
 * The sticky PR comment: one per comment key, found again by its hidden marker AND its author (the
 * token's own identity) and edited in place, so a PR that is pushed to twenty times still has one
 * slimpy comment per image, and a comment someone else wrote with the marker is never touched.
 */
import { commentMarker } from './markdown.js';
import type { GitHubClient } from './octokit.js';

export interface UpsertCommentRequest {
  owner: string;
  repo: string;
  issueNumber: number;
  /** The hidden marker (`<!-- slimpy:key -->`), or a bare comment key that becomes one. */
  marker: string;
  /** The comment body; the marker is put in front when it is not already there. */
  body: string;
  /** The login whose marked comment is ours; default: the token's identity ({@link tokenLogin}). */
  author?: string;
}

export interface UpsertedComment {
  /** The comment's page URL (`https://github.com/o/r/pull/58#issuecomment-…`). */
  url: string;
  id: number;
  action: 'created' | 'updated';
  /** Who GitHub says wrote it: the login the next run must look for. */
  author: string;
  /** The login this run looked for; when it is not `author`, the next run will not find it. */
  lookedFor: string;
}

/** The author of comments made with a workflow's GITHUB_TOKEN (the GitHub Actions app's bot). */
export const ACTIONS_BOT_LOGIN = 'github-actions[bot]';

/**
 * GitHub refused to create or edit the comment (HTTP 403 or 404): typically a pull request from a
 * fork, whose token is read-only, or a job without `pull-requests: write`. Callers turn this into
 * a warning; the report is still in the job summary.
 */
export class CommentPermissionError extends Error {
  constructor(
    readonly status: number,
    readonly operation: string,
    reason: string,
  ) {
    super(`GitHub answered HTTP ${status} to ${operation}: ${reason}`);
    this.name = 'CommentPermissionError';
  }
}

interface ExistingComment {
  id: number;
  body?: string;
  created_at: string;
  user?: { login?: string } | null;
}

export async function upsertComment(
  octokit: GitHubClient,
  request: UpsertCommentRequest,
): Promise<UpsertedComment> {
  const { owner, repo, issueNumber } = request;
  const marker = request.marker.startsWith('<!--') ? request.marker : commentMarker(request.marker);
  const body = request.body.trimStart().startsWith(marker)
    ? request.body
    : `${marker}\n${request.body}`;
  const author = request.author ?? (await tokenLogin(octokit));
  const existing = await findMarkedComment(octokit, { owner, repo, issueNumber, marker, author });
  if (existing) {
    const { data } = await permissionChecked(
      `update comment ${existing.id} on ${owner}/${repo}#${issueNumber}`,
      () => octokit.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body }),
    );
    const wrote = data.user?.login ?? author;
    return { url: data.html_url, id: data.id, action: 'updated', author: wrote, lookedFor: author };
  }
  const { data } = await permissionChecked(
    `create a comment on ${owner}/${repo}#${issueNumber}`,
    () => octokit.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body }),
  );
  const wrote = data.user?.login ?? author;
  return { url: data.html_url, id: data.id, action: 'created', author: wrote, lookedFor: author };
}

/**
 * The login GitHub writes as the author of this token's comments. A user's token (personal
 * access token, OAuth or GitHub App user token) reads it from `GET /user`. An app installation
 * token, the workflow's GITHUB_TOKEN among them, is refused there (403 "Resource not accessible
 * by integration") and no REST call names the app behind it: that is the GitHub Actions bot,
 * unless the `comment-author` input names another app's bot.
 */
export async function tokenLogin(octokit: GitHubClient): Promise<string> {
  try {
    const { data } = await octokit.rest.users.getAuthenticated();
    return data.login;
  } catch (error) {
    if (httpStatus(error) === 403 && !isRateLimit(error)) return ACTIONS_BOT_LOGIN;
    throw error;
  }
}

/**
 * The newest comment by `author` whose body starts with `marker`, reading every page (a busy PR
 * has hundreds of comments, and an older slimpy version may have left duplicates). Starting with
 * the marker, not merely containing it, keeps a person's comment that quotes ours from being
 * overwritten; the author keeps anyone else's comment that starts with it (which slimpy's token
 * could not edit anyway) from being taken for ours.
 */
export async function findMarkedComment(
  octokit: GitHubClient,
  where: { owner: string; repo: string; issueNumber: number; marker: string; author: string },
): Promise<ExistingComment | undefined> {
  const { owner, repo, issueNumber, marker } = where;
  const author = where.author.toLowerCase();
  const comments: ExistingComment[] = await permissionChecked(
    `list comments on ${owner}/${repo}#${issueNumber}`,
    () =>
      octokit.paginate(octokit.rest.issues.listComments, {
        owner,
        repo,
        issue_number: issueNumber,
        per_page: 100,
      }),
  );
  let newest: ExistingComment | undefined;
  for (const comment of comments) {
    if (!(comment.body ?? '').trimStart().startsWith(marker)) continue;
    if ((comment.user?.login ?? '').toLowerCase() !== author) continue;
    if (!newest || isNewer(comment, newest)) newest = comment;
  }
  return newest;
}

function isNewer(a: ExistingComment, b: ExistingComment): boolean {
  const byTime = Date.parse(a.created_at) - Date.parse(b.created_at);
  return byTime !== 0 ? byTime > 0 : a.id > b.id;
}

/** Runs a request, turning 403/404 (but not a rate limit, which is also a 403) into a CommentPermissionError. */
async function permissionChecked<T>(operation: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    const status = httpStatus(error);
    if ((status === 403 || status === 404) && !isRateLimit(error)) {
      throw new CommentPermissionError(status, operation, errorReason(error));
    }
    throw error;
  }
}

interface HttpErrorShape {
  status?: unknown;
  message?: unknown;
  response?: { headers?: Record<string, unknown>; data?: unknown };
}

function httpStatus(error: unknown): number | undefined {
  const status = (error as HttpErrorShape | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

function isRateLimit(error: unknown): boolean {
  const shape = error as HttpErrorShape;
  return (
    shape.response?.headers?.['x-ratelimit-remaining'] === '0' ||
    /rate limit/i.test(errorReason(error))
  );
}

function errorReason(error: unknown): string {
  const data = (error as HttpErrorShape).response?.data;
  if (
    typeof data === 'object' &&
    data !== null &&
    typeof (data as { message?: unknown }).message === 'string'
  ) {
    return (data as { message: string }).message;
  }
  return error instanceof Error ? error.message : String(error);
}
