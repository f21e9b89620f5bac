/**
 * Labels on every image and container slimpy creates, so cleanup removes exactly its own
 * objects and nothing else on a shared engine.
 */
export const MANAGED_LABEL = 'dev.slimpy.managed';
export const RUN_LABEL = 'dev.slimpy.run';

export function slimpyLabels(runId: string): Record<string, string> {
  return { [MANAGED_LABEL]: 'true', [RUN_LABEL]: runId };
}
