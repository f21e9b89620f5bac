/** Pipeline hooks for tests: every line the pipeline logs, in order, for assertions. */
import type { PipelineHooks } from '../../src/pipeline.js';

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
