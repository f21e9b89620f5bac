/**
 * Vitest global setup for the integration and e2e suites: a real engine, a Python base image,
 * the example's wheels. In CI a missing engine fails the run; locally the suites skip with one
 * loud line saying why.
 */
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    baseImage: string;
    engineMissing: string;
  }
}

function engineAnswers(): boolean {
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], {
      stdio: 'ignore',
      timeout: 15_000,
    });
    return true;
  } catch {
    return false;
  }
}

export default function setup(project: TestProject): void {
  if (!engineAnswers()) {
    const why =
      'no Docker engine answers (DOCKER_HOST or /var/run/docker.sock); run scripts/engine.sh';
    if (process.env.CI) throw new Error(`integration tests need an engine in CI: ${why}`);
    console.error(`\n!!! SKIPPING integration tests: ${why}\n`);
    project.provide('engineMissing', why);
    project.provide('baseImage', '');
    return;
  }
  const baseImage = execFileSync('bash', ['scripts/base-image.sh'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  execFileSync('bash', ['scripts/fetch-wheels.sh'], { stdio: ['ignore', 'ignore', 'inherit'] });
  project.provide('engineMissing', '');
  project.provide('baseImage', baseImage);
}
