/**
 * Runs runtime-needs.py (beside this file; beside the bundle once bundled) with an image's own
 * Python, in a container of the image: no network, no capabilities, removed afterwards, nothing
 * added to the image. The script's text goes in as `python3 -c` argument.
 */
import { readFileSync } from 'node:fs';
import type Docker from 'dockerode';
import { ContainerStartError, runContainer } from '../engine/containers.js';

const PROBE_TIMEOUT_MS = 5 * 60_000;
/** The answer lists every needed library and every path asked about: far below this. */
const PROBE_OUTPUT_BYTES = 16 * 1024 * 1024;

let cached: string | undefined;

export function loadRuntimeProbe(): string {
  if (cached !== undefined) return cached;
  for (const candidate of ['./runtime-needs.py', './measure/runtime-needs.py']) {
    try {
      cached = readFileSync(new URL(candidate, import.meta.url), 'utf8');
      return cached;
    } catch {
      // try the next place
    }
  }
  throw new Error(
    'runtime-needs.py is missing beside the slimpy bundle; reinstall or rebuild slimpy (npm run bundle).',
  );
}

export class ProbeError extends Error {
  override readonly name = 'ProbeError';
}

export interface ProbeOptions {
  labels: Record<string, string>;
  signal?: AbortSignal;
}

/** The script's JSON answer for `args` in `image`, with whichever of python3 and python it has. */
export async function runProbe(
  docker: Docker,
  image: string,
  args: readonly string[],
  options: ProbeOptions,
): Promise<unknown> {
  const script = loadRuntimeProbe();
  for (const python of ['python3', 'python']) {
    try {
      const run = await runContainer(docker, {
        image,
        entrypoint: [python, '-c', script],
        cmd: [...args],
        // Root reads every file; capabilities stay dropped and the network off.
        user: '0:0',
        timeoutMs: PROBE_TIMEOUT_MS,
        maxOutputBytes: PROBE_OUTPUT_BYTES,
        labels: options.labels,
        signal: options.signal,
      });
      return probeAnswer(image, run.exitCode, run.output);
    } catch (error) {
      if (error instanceof ContainerStartError && error.executableMissing) continue;
      throw error;
    }
  }
  throw new ProbeError(
    `${image} has no python3 or python on its PATH to read which libraries its files need`,
  );
}

/** The last line of output that is a JSON object: the script prints one, Python may warn before it. */
export function probeAnswer(image: string, exitCode: number | null, output: string): unknown {
  const line = output
    .split('\n')
    .reverse()
    .find((text) => text.startsWith('{'));
  if (exitCode !== 0 || line === undefined) {
    throw new ProbeError(
      `reading the runtime needs of ${image} failed (exit ${String(exitCode)}): ${output.slice(-1000)}`,
    );
  }
  return JSON.parse(line) as unknown;
}
