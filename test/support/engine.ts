/** Helpers for tests that drive the real engine. */
import Docker from 'dockerode';
import { inject } from 'vitest';

/** Name of the Python 3.11 base image the suites build on (official or the local equivalent). */
export function baseImage(): string {
  return inject('baseImage');
}

/** Non-empty when no engine answers locally (in CI global setup fails instead). */
export function engineMissing(): string {
  return inject('engineMissing');
}

export function testDocker(): Docker {
  return new Docker();
}
