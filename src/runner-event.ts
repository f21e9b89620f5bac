/** The runner's event, read once: what the history plans from and what the comment goes on. */
import { readFileSync } from 'node:fs';
import type { RunFacts } from './history/plan.js';

export interface RunnerEvent extends RunFacts {
  /** The pull request the run is about, when the event has one. */
  pullRequest?: { number: number; baseSha?: string };
  /** `owner/name` (GITHUB_REPOSITORY). */
  repository?: string;
}

export function readRunnerEvent(env: NodeJS.ProcessEnv = process.env): RunnerEvent {
  const payload = readPayload(env.GITHUB_EVENT_PATH);
  return {
    eventName: env.GITHUB_EVENT_NAME,
    payload,
    sha: env.GITHUB_SHA,
    ref: env.GITHUB_REF,
    repository: env.GITHUB_REPOSITORY,
    pullRequest: pullRequestOf(payload),
  };
}

function readPayload(eventPath: string | undefined): unknown {
  if (!eventPath) return undefined;
  try {
    return JSON.parse(readFileSync(eventPath, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function pullRequestOf(payload: unknown): RunnerEvent['pullRequest'] {
  const pull = (payload as { pull_request?: { number?: unknown; base?: { sha?: unknown } } })
    ?.pull_request;
  if (typeof pull?.number !== 'number') return undefined;
  const baseSha = pull.base?.sha;
  return { number: pull.number, baseSha: typeof baseSha === 'string' ? baseSha : undefined };
}
