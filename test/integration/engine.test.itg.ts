import { describe, expect, it } from 'vitest';
import { BuildError, buildImage } from '../../src/engine/build.js';
import { createContextTar } from '../../src/engine/context.js';
import { chooseBuilder, engineFacts } from '../../src/engine/docker.js';
import { removeOwnObjects } from '../../src/engine/images.js';
import { slimpyLabels } from '../../src/engine/labels.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';

const docker = testDocker();
const runId = `test-engine-${process.pid}`;

async function build(
  fixture: string,
  builder: 'buildkit' | 'classic',
  lines: string[] = [],
): Promise<string> {
  const context = await createContextTar(`test/fixtures/engine/${fixture}`, {
    dockerfile: 'Dockerfile',
  });
  return buildImage(docker, {
    context: context.stream,
    dockerfile: context.dockerfileInContext,
    buildArgs: { PYTHON_IMAGE: baseImage() },
    network: 'host',
    builder,
    labels: slimpyLabels(runId),
    onLine: (line) => lines.push(line),
  });
}

describe.skipIf(engineMissing())('engine', () => {
  it('reports version, image store and a builder choice', async () => {
    const facts = await engineFacts(docker);
    expect(facts.version).toMatch(/^\d+\.\d+/);
    expect(['classic', 'containerd']).toContain(facts.store);
    expect(chooseBuilder(facts).builder).toBe('buildkit');
  });

  it('builds a BuildKit-only Dockerfile (RUN --mount=from=)', async () => {
    const id = await build('buildkit-only', 'buildkit');
    const info = await docker.getImage(id).inspect();
    expect(info.Config.Labels).toMatchObject(slimpyLabels(runId));
  });

  it.each(['buildkit', 'classic'] as const)(
    'names the failing RUN instruction (%s builder)',
    async (builder) => {
      const lines: string[] = [];
      const failure = await build('failing-run', builder, lines).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(BuildError);
      const error = failure as BuildError;
      expect(error.instruction).toContain('exit 7');
      expect(error.message).toContain('exit 7');
      expect(error.logTail.join('\n')).toContain('about to fail');
      // The step after the failure never ran: its output never appears.
      expect(lines.map((l) => l.trim())).not.toContain('never reached');
    },
  );

  it('removes only objects carrying its run label', async () => {
    const removed = await removeOwnObjects(docker, runId);
    expect(removed.images).toBeGreaterThan(0);
    const left = await docker.listImages({ filters: { label: [`dev.slimpy.run=${runId}`] } });
    expect(left).toHaveLength(0);
    await expect(docker.getImage(baseImage()).inspect()).resolves.toBeTruthy();
  });
});
