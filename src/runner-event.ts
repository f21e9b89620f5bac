/** The runner's event, read once: what the history plans from and what the comment goes on. */
import { readFileSync } from 'node:fs';
import type { RunFacts } from './history/plan.js';

export interface RunnerEvent extends RunFacts {
  /** The pull request the run is about, when the event has one. */
  pullRequest?: { number: number; baseSha?: string; headSha?: string };
  /** `owner/name` (GITHUB_REPOSITORY). */
  repository?: string;
  /** On `workflow_run`: the run that triggered this one (post-comment reads its artifacts). */
  workflowRun?: TriggeringRun;
}

export interface TriggeringRun {
  id: number;
  /** The event that started it, e.g. `pull_request`. */
  event?: string;
  headSha?: string;
  /** PRs GitHub links to it; empty for a PR from a fork (GitHub leaves those out). */
  pullRequests: number[];
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
    workflowRun: workflowRunOf(payload),
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
  const pull = (
    payload as {
      pull_request?: { number?: unknown; base?: { sha?: unknown }; head?: { sha?: unknown } };
    }
  )?.pull_request;
  if (typeof pull?.number !== 'number') return undefined;
  return { number: pull.number, baseSha: text(pull.base?.sha), headSha: text(pull.head?.sha) };
}

function workflowRunOf(payload: unknown): TriggeringRun | undefined {
  const run = (payload as { workflow_run?: Record<string, unknown> })?.workflow_run;
  if (typeof run?.id !== 'number') return undefined;
  const pulls = Array.isArray(run.pull_requests) ? (run.pull_requests as unknown[]) : [];
  return {
    id: run.id,
    event: text(run.event),
    headSha: text(run.head_sha),
    pullRequests: pulls.flatMap((pull) => {
      const number = (pull as { number?: unknown } | null)?.number;
      return typeof number === 'number' ? [number] : [];
    }),
  };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
