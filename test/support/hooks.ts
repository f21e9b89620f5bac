/** Pipeline hooks and a session host for tests: every line logged, in order, for assertions. */
import type { PipelineHooks } from '../../src/pipeline/hooks.js';
import type { SessionHost, SessionResult } from '../../src/session.js';

export function collectingHooks(): { hooks: PipelineHooks; logs: string[] } {
  const logs: string[] = [];
  const hooks: PipelineHooks = {
    info: (line) => logs.push(line),
    warning: (message) => logs.push(`warning: ${message}`),
    group: (title, work) => {
      logs.push(`== ${title}`);
      return work();
    },
  };
  return { hooks, logs };
}

/** A session host that keeps what was published (no history, no terminal, no GitHub). */
export function testHost(
  hooks: PipelineHooks,
  extra: Partial<SessionHost> = {},
): SessionHost & { published: SessionResult[] } {
  const published: SessionResult[] = [];
  return {
    hooks,
    publish: async (result) => {
      published.push(result);
    },
    ...extra,
    published,
  };
}
