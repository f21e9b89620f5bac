/**
 * The one GitHub client slimpy uses: `@actions/github`'s Octokit with the retry plugin (5xx and
 * network errors) and the throttling plugin (primary and secondary rate limits).
 *
 * No single wait is longer than `maxRetryWaitMs` (env `SLIMPY_MAX_RETRY_WAIT_MS`, default 60 s):
 * not a retry backoff, not a rate limit's reset (one that resets in 40 minutes should cost the job
 * a minute and a warning), not GitHub's recommended spacing between writes (1 s, 3 s for writes
 * that notify). Tests set it to a few milliseconds.
 */
import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import type BottleneckClass from 'bottleneck';
// @ts-expect-error -- bottleneck ships types for its full build only; this light build (the one the octokit plugins use) has the same API.
import BottleneckLight from 'bottleneck/light.js';

const Bottleneck = BottleneckLight as typeof BottleneckClass;

export type GitHubClient = ReturnType<typeof getOctokit>;

/** Octokit's logger shape; `@actions/core`'s debug/info/warning fit it. */
export interface OctokitLog {
  debug: (message: string) => void;
  info: (message: string) => void;
  warn: (message: string) => void;
  error: (message: string) => void;
}

export interface CreateOctokitOptions {
  /** REST API root; default `GITHUB_API_URL`, then `https://api.github.com`. */
  baseUrl?: string;
  log?: OctokitLog;
  /** Longest single wait before a retry; default from `SLIMPY_MAX_RETRY_WAIT_MS`, else 60 s. */
  maxRetryWaitMs?: number;
}

export const DEFAULT_MAX_RETRY_WAIT_MS = 60_000;
/** Retries after a rate limit; a third limit in a row means the job should give up on it. */
const RATE_LIMIT_RETRIES = 2;
/** Retries after a 5xx (the retry plugin leaves other errors alone). */
const SERVER_ERROR_RETRIES = 3;
/** GitHub's advice: at least 1 s between writes, and more for writes that send notifications. */
const WRITE_SPACING_MS = 1_000;
const NOTIFYING_WRITE_SPACING_MS = 3_000;

/** Reads `SLIMPY_MAX_RETRY_WAIT_MS`; an unset or invalid value means the default. */
export function maxRetryWaitFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SLIMPY_MAX_RETRY_WAIT_MS?.trim();
  if (!raw) return DEFAULT_MAX_RETRY_WAIT_MS;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : DEFAULT_MAX_RETRY_WAIT_MS;
}

export function createOctokit(token: string, options: CreateOctokitOptions = {}): GitHubClient {
  const maxWaitMs = options.maxRetryWaitMs ?? maxRetryWaitFromEnv();
  const baseUrl = options.baseUrl ?? process.env.GITHUB_API_URL ?? 'https://api.github.com';
  const onLimit =
    (kind: string) =>
    async (
      retryAfterSeconds: number,
      request: { method: string; url: string },
      _octokit: unknown,
      retryCount: number,
    ) => {
      const waitMs = Math.min(retryAfterSeconds * 1000, maxWaitMs);
      const what = `GitHub ${kind} on ${request.method} ${request.url}`;
      if (retryCount >= RATE_LIMIT_RETRIES) {
        options.log?.warn(`${what}; giving up after ${retryCount} retries`);
        return false;
      }
      options.log?.warn(
        `${what}; retrying in ${(waitMs / 1000).toFixed(1)} s (GitHub asked for ${retryAfterSeconds} s)`,
      );
      await sleep(waitMs);
      return true;
    };
  return getOctokit(
    token,
    {
      baseUrl,
      ...(options.log ? { log: options.log } : {}),
      retry: {
        retries: SERVER_ERROR_RETRIES,
        // Rate limits (403, 429) are the throttling plugin's: it honours `retry-after`.
        doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
        // The plugin waits (n + 1)² × base before retry n; the last wait must fit under the cap.
        retryAfterBaseValue: Math.min(1000, maxWaitMs / SERVER_ERROR_RETRIES ** 2),
      },
      throttle: {
        // The handlers below do the (capped) waiting, so the plugin itself must not wait again.
        retryAfterBaseValue: 0,
        write: new Bottleneck.Group({
          maxConcurrent: 1,
          minTime: Math.min(WRITE_SPACING_MS, maxWaitMs),
        }),
        notifications: new Bottleneck.Group({
          maxConcurrent: 1,
          minTime: Math.min(NOTIFYING_WRITE_SPACING_MS, maxWaitMs),
        }),
        onRateLimit: onLimit('rate limit'),
        onSecondaryRateLimit: onLimit('secondary rate limit'),
      },
    },
    retry,
    throttling,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
