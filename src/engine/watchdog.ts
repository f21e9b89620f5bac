/**
 * Watches the engine while a run talks to it. A build can be silent for an hour (a RUN that prints
 * nothing), so a quiet stream proves nothing; a ping the engine does not answer does. When one
 * goes unanswered (or the socket is gone), the watchdog's signal aborts with an EngineLostError,
 * and every step that takes the signal stops instead of waiting forever.
 */
import type Docker from 'dockerode';
import { EngineLostError, engineTimeoutMs, pingEngine } from './docker.js';

const MAX_INTERVAL_MS = 15_000;

export interface EngineWatchdog {
  signal: AbortSignal;
  stop(): void;
}

export function watchEngine(
  docker: Docker,
  during: () => string,
  timeoutMs: number = engineTimeoutMs(),
): EngineWatchdog {
  const controller = new AbortController();
  const intervalMs = Math.min(MAX_INTERVAL_MS, timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (): void => {
    if (stopped) return;
    // Unref'd: the watchdog alone never keeps the process alive.
    timer = setTimeout(() => void check(), intervalMs).unref();
  };
  const check = async (): Promise<void> => {
    try {
      await pingEngine(docker, timeoutMs);
    } catch (error) {
      if (!answered(error)) {
        const why =
          (error as { name?: unknown }).name === 'AbortError'
            ? `no answer to a ping within ${timeoutMs / 1000} s`
            : error;
        if (!stopped) controller.abort(new EngineLostError(during(), why));
        return;
      }
    }
    schedule();
  };
  schedule();
  return {
    signal: controller.signal,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** An HTTP error status is still an answer: the engine is there. */
function answered(error: unknown): boolean {
  return typeof (error as { statusCode?: unknown } | null)?.statusCode === 'number';
}
