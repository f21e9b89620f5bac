/**
 * The loopback package index (scripts/wheel-index.py) for builds that download with pip: the
 * bench serves the single-stage example's pyarrow from it, and the integration tests use it too.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** From bench/ (tests import this file) or from .cache/bench/ (the bundled bench). */
const SCRIPT = ['../scripts/wheel-index.py', '../../scripts/wheel-index.py']
  .map((candidate) => fileURLToPath(new URL(candidate, import.meta.url)))
  .find((file) => existsSync(file)) as string;

export interface WheelIndex {
  /** `http://127.0.0.1:PORT/`: what pip's --find-links takes. */
  url: string;
  stop(): void;
}

/** Serves `dir` on a free loopback port until `stop()`. */
export async function startWheelIndex(dir: string): Promise<WheelIndex> {
  const child = spawn('python3', [SCRIPT, dir, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the wheel index did not start in 60 s')),
      60_000,
    );
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`the wheel index exited (${code})`)));
  });
  return { url, stop: () => child.kill() };
}
