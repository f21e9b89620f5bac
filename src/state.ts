/**
 * The post step: removes what a killed or cancelled main step left behind (smoke containers,
 * variant images of this run), found by the run id the main step saved. Failures are warnings.
 */
import * as core from '@actions/core';
import { connectEngine } from './engine/docker.js';
import { removeOwnObjects } from './engine/images.js';

const RUN_ID = 'run-id';
const KEEP = 'keep-images';

export function saveRunState(runId: string, keepImages: string[]): void {
  core.saveState(RUN_ID, runId);
  core.saveState(KEEP, JSON.stringify(keepImages));
}

export async function cleanup(): Promise<void> {
  const runId = core.getState(RUN_ID);
  if (!runId) return;
  try {
    const keep = JSON.parse(core.getState(KEEP) || '[]') as string[];
    const removed = await removeOwnObjects(connectEngine(), runId, keep);
    core.info(
      `slimpy cleanup: removed ${removed.containers} container(s) and ${removed.images} image(s) of run ${runId}`,
    );
  } catch (error) {
    core.warning(
      `slimpy cleanup failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
