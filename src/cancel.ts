/**
 * Cancellation, for the action and the CLI: Ctrl-C in a terminal, or a cancelled workflow (the
 * runner sends SIGINT, then SIGTERM 7.5 s later, then SIGKILL). The run's signal aborts, so every
 * step stops at once; the containers and images this run created (found by its run label, never
 * anything else) are removed; the process exits with 128 + the signal's number, as a shell
 * reports it. What a SIGKILL leaves behind, the action's post step removes.
 */
import { connectEngine } from './engine/docker.js';
import { removeOwnObjects } from './engine/images.js';
import { RUN_LABEL } from './engine/labels.js';

export class CancelledError extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`slimpy was cancelled (${signal}); the containers and images of this run are removed.`);
    this.name = 'CancelledError';
  }
}

export interface CancelLog {
  info(line: string): void;
  warning(message: string): void;
}

const EXIT_CODES: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };
/** A container create or an image commit in flight when the signal came lands after one sweep. */
const SECOND_SWEEP_DELAY_MS = 1_000;

/**
 * Installs the signal handlers and returns the signal to pass to the pipeline. Once it has
 * aborted, the handler owns the exit: the caller must not `process.exit` itself.
 * `runId()` is asked when a signal comes (undefined while nothing can have been created).
 */
export function cancelOnSignals(runId: () => string | undefined, log: CancelLog): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => {
    // The runner's SIGTERM after its SIGINT: the cleanup is already under way.
    if (controller.signal.aborted) return;
    controller.abort(new CancelledError(signal));
    log.info(
      `slimpy: ${signal} received; stopping and removing the containers and images of this run`,
    );
    void removeRunObjects(runId(), log).finally(() => process.exit(EXIT_CODES[signal]));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

async function removeRunObjects(runId: string | undefined, log: CancelLog): Promise<void> {
  if (!runId) return;
  try {
    const docker = connectEngine();
    const first = await removeOwnObjects(docker, runId);
    await new Promise((resolve) => setTimeout(resolve, SECOND_SWEEP_DELAY_MS));
    const second = await removeOwnObjects(docker, runId);
    log.info(
      `Removed ${first.containers + second.containers} container(s) and ` +
        `${first.images + second.images} image(s) of run ${runId}`,
    );
  } catch (error) {
    log.warning(
      `Removing the containers and images of run ${runId} failed (${error instanceof Error ? error.message : String(error)}); ` +
        `remove them with: docker rm -f $(docker ps -aq --filter label=${RUN_LABEL}=${runId}); ` +
        `docker rmi $(docker images -q --filter label=${RUN_LABEL}=${runId})`,
    );
  }
}
