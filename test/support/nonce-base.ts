/**
 * A test suite's own base image: the suite's Python base plus what its Dockerfile lines add, and
 * a layer holding a nonce of this run. The nonce changes the cache key of every step built on the
 * base, so no step is replayed from an earlier run's build cache: each is built for real, and
 * the prune's log lines (which the tests read) are those of a real run.
 */
import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { buildImage } from '../../src/engine/build.js';
import { createContextTar } from '../../src/engine/context.js';
import type { EngineFacts } from '../../src/model/report.js';
import { baseImage } from './engine.js';

export interface NonceBase {
  /** Directory of the build context (files the `lines` COPY). */
  dir: string;
  /** Dockerfile lines after `FROM <the suite's base>`. */
  lines: string[];
  runId: string;
  /** Value of the `dev.slimpy.test` label. */
  label: string;
  tag: string;
  builder: EngineFacts['builder'];
}

export async function buildNonceBase(docker: Docker, base: NonceBase): Promise<void> {
  const dockerfile = [
    `FROM ${baseImage()}`,
    ...base.lines,
    'COPY nonce /etc/slimpy-test-nonce',
    '',
  ].join('\n');
  const context = await createContextTar(base.dir, {
    dockerfile: 'Dockerfile',
    extraFiles: [
      { path: 'Dockerfile', content: dockerfile },
      { path: 'nonce', content: `${base.runId} ${randomUUID()}\n` },
    ],
    builder: base.builder,
  });
  await buildImage(docker, {
    context: context.stream,
    dockerfile: context.dockerfileInContext,
    buildArgs: {},
    network: 'host', // apt-get; the engine has no bridge network
    builder: base.builder,
    labels: { 'dev.slimpy.test': base.label },
    tag: base.tag,
  });
}

/** `apt-get install` of `packages` in one RUN that leaves no package lists behind. */
export function aptInstall(packages: string): string[] {
  return [
    'RUN apt-get update -qq \\',
    ` && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${packages} \\`,
    ' && rm -rf /var/lib/apt/lists/*',
  ];
}
