/**
 * Issue 18: slimpy's variable expansion against the engine's. Each case of the table
 * (test/support/expansion-cases.ts) is built with BuildKit and its probe read back from the image;
 * the values must be the recorded ones the unit test holds slimpy to. With
 * SLIMPY_RECORD_EXPANSION=1 the values are written to the recording instead (done once, by hand).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '../../src/engine/build.js';
import { runContainer } from '../../src/engine/containers.js';
import { createContextTar } from '../../src/engine/context.js';
import { removeOwnObjects } from '../../src/engine/images.js';
import { slimpyLabels } from '../../src/engine/labels.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';
import { EXPANSION_CASES, PROBE_BASE, probeDockerfile } from '../support/expansion-cases.js';

const docker = testDocker();
const runId = `test-expansion-${process.pid}`;
const RECORDING = fileURLToPath(new URL('../fixtures/expansion/recorded.json', import.meta.url));
const record = process.env.SLIMPY_RECORD_EXPANSION === '1';
const recorded = record
  ? {}
  : (JSON.parse(readFileSync(RECORDING, 'utf8')) as Record<string, string>);
const seen: Record<string, string> = {};
/** An empty build context: the probes copy nothing. */
const emptyContext = mkdtempSync(path.join(tmpdir(), 'slimpy-expansion-'));

beforeAll(async () => {
  if (engineMissing()) return;
  const [repo = '', tag = ''] = PROBE_BASE.split(':');
  await docker.getImage(baseImage()).tag({ repo, tag });
});

afterAll(async () => {
  if (engineMissing()) return;
  await removeOwnObjects(docker, runId);
  await docker
    .getImage(PROBE_BASE)
    .remove()
    .catch(() => undefined);
  rmSync(emptyContext, { recursive: true, force: true });
  if (record) writeFileSync(RECORDING, `${JSON.stringify(seen, null, 2)}\n`);
});

/** Builds the case with BuildKit and returns what its probe wrote. */
async function probe(c: (typeof EXPANSION_CASES)[number]): Promise<string> {
  const dockerfile = probeDockerfile(c).replace(/^FROM base\b/gm, `FROM ${PROBE_BASE}`);
  const context = await createContextTar(emptyContext, {
    dockerfile: 'Dockerfile',
    extraFiles: [{ path: 'Dockerfile', content: dockerfile }],
    builder: 'buildkit',
  });
  const image = await buildImage(docker, {
    context: context.stream,
    dockerfile: context.dockerfileInContext,
    buildArgs: c.buildArgs ?? {},
    network: 'none',
    builder: 'buildkit',
    labels: slimpyLabels(runId),
  });
  const run = await runContainer(docker, {
    image,
    cmd: ['cat', '/slimpy-probe'],
    timeoutMs: 60_000,
    labels: slimpyLabels(runId),
  });
  expect(run.exitCode, run.output).toBe(0);
  return run.output;
}

describe.skipIf(engineMissing())('variable expansion: BuildKit gives the recorded values', () => {
  it.each(EXPANSION_CASES)('$name', async (c) => {
    const value = await probe(c);
    seen[c.name] = value;
    if (!record) expect(value).toBe(recorded[c.name]);
  });
});
