/**
 * What a run does with the size history, from its event: which commit it records its report
 * under (and as what kind of entry), and which base commit it compares with. Pure.
 */
import type { EntryKind } from './keys.js';

export interface HistoryPlan {
  /** Where this run's report is recorded; undefined when the commit is unknown. */
  record?: { kind: EntryKind; sha: string; ref?: string; event?: string };
  /** The base to compare with; undefined outside pull requests and merge queues. */
  compare?: { baseSha: string; baseRef?: string };
}

export interface RunFacts {
  /** GITHUB_EVENT_NAME */
  eventName?: string;
  /** The parsed event payload (GITHUB_EVENT_PATH). */
  payload?: unknown;
  /** GITHUB_SHA: for a pull request, the test merge commit. */
  sha?: string;
  /** GITHUB_REF */
  ref?: string;
}

const SHA = /^[0-9a-f]{7,64}$/i;

/**
 * Pull requests (and merge-queue groups) compare with their base commit and record their own
 * report apart from the baselines; every other run (a push to main, a schedule, a dispatch)
 * records a baseline. The Actions cache scopes entries by branch, so a push to a feature branch
 * is only ever seen from that branch.
 */
export function planFromEvent(facts: RunFacts): HistoryPlan {
  const sha = facts.sha && SHA.test(facts.sha) ? facts.sha.toLowerCase() : undefined;
  const compare = baseOf(facts.eventName, facts.payload);
  const kind: EntryKind =
    compare || isPullRequestEvent(facts.eventName) ? 'pull-request' : 'baseline';
  return {
    record: sha
      ? { kind, sha, ref: facts.ref || undefined, event: facts.eventName || undefined }
      : undefined,
    compare,
  };
}

function isPullRequestEvent(eventName: string | undefined): boolean {
  return (
    eventName === 'pull_request' ||
    eventName === 'pull_request_target' ||
    eventName === 'merge_group'
  );
}

function baseOf(eventName: string | undefined, payload: unknown): HistoryPlan['compare'] {
  if (!isPullRequestEvent(eventName) || !isRecord(payload)) return undefined;
  if (eventName === 'merge_group') {
    const group = payload.merge_group;
    if (!isRecord(group)) return undefined;
    return base(group.base_sha, group.base_ref);
  }
  const pull = payload.pull_request;
  if (!isRecord(pull) || !isRecord(pull.base)) return undefined;
  return base(pull.base.sha, pull.base.ref);
}

function base(sha: unknown, ref: unknown): HistoryPlan['compare'] {
  if (typeof sha !== 'string' || !SHA.test(sha)) return undefined;
  return {
    baseSha: sha.toLowerCase(),
    baseRef: typeof ref === 'string' && ref !== '' ? ref : undefined,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
