/** How a run talks to its host (the Actions log or a terminal), and the guards around it. */
import { redactText } from '../report/redact.js';

export interface PipelineHooks {
  info(line: string): void;
  warning(message: string, where?: { file: string; line?: number }): void;
  group<T>(title: string, work: () => Promise<T>): Promise<T>;
}

/** The host's hooks, with secret build-arg values masked and every group stopping on abort. */
export function guardedHooks(
  hooks: PipelineHooks,
  signal: AbortSignal,
  secrets: string[],
  step: { current: string },
): PipelineHooks {
  return {
    info: (line) => hooks.info(redactText(line, secrets)),
    warning: (message, where) => hooks.warning(redactText(message, secrets), where),
    group: (title, work) => {
      step.current = title;
      return hooks.group(title, () => untilAborted(signal, work));
    },
  };
}

/**
 * Rejects with the abort reason as soon as `signal` aborts, without waiting for `work` to notice:
 * an export or a compression that takes no signal must not hold a cancelled run.
 */
export async function untilAborted<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  signal.throwIfAborted();
  const running = work();
  running.catch(() => undefined); // abandoned after an abort: its late failure changes nothing
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([running, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
