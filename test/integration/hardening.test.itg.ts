/**
 * Hardening against the real engine, below the action: the classic builder's unclipped build log
 * (BuildKit clips a step's log in the engine, the classic builder streams all of it), and cleanup
 * that touches only its own run's objects on an engine shared with other runs and other people.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { buildImage } from '../../src/engine/build.js';
import { ImageRemovedError, runContainer } from '../../src/engine/containers.js';
import { createContextTar } from '../../src/engine/context.js';
import { removeOwnObjects } from '../../src/engine/images.js';
import { slimpyLabels } from '../../src/engine/labels.js';
import { startNode } from '../support/action-process.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';

const docker = testDocker();
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-hardening-itg-'));
const runs = {
  mine: `hardening-${randomUUID().slice(0, 8)}`,
  other: `hardening-${randomUUID().slice(0, 8)}`,
  log: `hardening-${randomUUID().slice(0, 8)}`,
};

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  if (engineMissing()) return;
  for (const runId of Object.values(runs)) await removeOwnObjects(docker, runId);
});

function contextDir(name: string, dockerfile: string): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

/**
 * A process that builds with src/engine/build.ts and writes every log line to stdout, as the
 * action's core.info does: bundled here, because the action itself always gets BuildKit.
 */
async function buildLogHarness(): Promise<string> {
  const source = [
    "import Docker from 'dockerode';",
    "import { buildImage } from './src/engine/build.ts';",
    "import { createContextTar } from './src/engine/context.ts';",
    'const [dir, base, nonce, labels] = process.argv.slice(2);',
    "const context = await createContextTar(dir!, { dockerfile: 'Dockerfile' });",
    'let lines = 0;',
    'const id = await buildImage(new Docker(), {',
    '  context: context.stream,',
    '  dockerfile: context.dockerfileInContext,',
    '  buildArgs: { BASE: base!, NONCE: nonce! },',
    "  network: 'none',",
    "  builder: 'classic',",
    '  labels: JSON.parse(labels!),',
    '  onLine: (line) => { lines++; process.stdout.write(`${line}\\n`); },',
    '});',
    'process.stdout.write(`built ${id} from ${lines} log lines\\n`);',
    'process.exit(0);',
  ].join('\n');
  const outfile = path.join(work, 'harness.mjs');
  await build({
    stdin: { contents: source, resolveDir: process.cwd(), loader: 'ts', sourcefile: 'harness.ts' },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
    external: ['cpu-features', '*.node'],
    // As scripts/bundle.mjs: bundled CommonJS dependencies need require() and __dirname.
    banner: {
      js: [
        "import { createRequire } from 'node:module';",
        "import { dirname } from 'node:path';",
        "import { fileURLToPath } from 'node:url';",
        'const require = createRequire(import.meta.url);',
        'var __filename = fileURLToPath(import.meta.url);',
        'var __dirname = dirname(__filename);',
      ].join('\n'),
    },
  });
  return outfile;
}

describe.skipIf(engineMissing())('a build log of hundreds of MB (classic builder)', () => {
  it('streams 300 MB of RUN output through the log with memory bounded', async () => {
    const nonce = randomUUID().slice(0, 8);
    const dir = contextDir(
      'big-log',
      'ARG BASE\nFROM ${BASE}\nARG NONCE\nRUN yes 0123456789abcdef | head -c 300000000 && echo "end-$NONCE"\n',
    );
    const harness = await buildLogHarness();
    // A heap too small to hold the log: accumulating it anywhere would crash the build.
    const run = await startNode(
      '--max-old-space-size=128',
      [harness, dir, baseImage(), nonce, JSON.stringify(slimpyLabels(runs.log))],
      {},
      { maxOutputBytes: 64 * 1024 },
    ).finished;
    expect(run.code, run.output.slice(-2000)).toBe(0);
    const built = /built (sha256:[0-9a-f]{64}) from (\d+) log lines/.exec(run.output);
    expect(built, run.output.slice(-2000)).not.toBeNull();
    // 300 MB in 17-byte lines: the whole log went through, line by line.
    expect(Number(built![2])).toBeGreaterThan(10_000_000);
    expect(run.output).toContain(`end-${nonce}`);
    expect(run.peakRssKiB).toBeLessThan(400 * 1024);
  });
});

describe.skipIf(engineMissing())('cleanup on a shared engine', () => {
  it("removes this run's containers and images, and nothing of another run's or anyone else's", async () => {
    const made: Record<'mine' | 'other' | 'nobody', { image: string; container: string }> =
      {} as never;
    for (const owner of ['mine', 'other', 'nobody'] as const) {
      const labels = owner === 'nobody' ? {} : slimpyLabels(runs[owner]);
      const dir = contextDir(`owned-${owner}`, `FROM scratch\nCOPY owner.txt /owner.txt\n`);
      writeFileSync(path.join(dir, 'owner.txt'), `${owner} ${randomUUID()}\n`);
      const context = await createContextTar(dir, { dockerfile: 'Dockerfile' });
      const image = await buildImage(docker, {
        context: context.stream,
        dockerfile: context.dockerfileInContext,
        buildArgs: {},
        network: 'none',
        builder: 'buildkit',
        labels,
      });
      const container = await docker.createContainer({
        Image: image,
        Cmd: ['/owner.txt'],
        Labels: labels,
        HostConfig: { NetworkMode: 'none' },
      });
      made[owner] = { image, container: container.id };
    }
    // Containers first, so each image is free to go; the run's own container used its own image.
    const removed = await removeOwnObjects(docker, runs.mine);
    expect(removed).toEqual({ containers: 1, images: 1 });
    await expect(docker.getImage(made.mine.image).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
    await expect(docker.getContainer(made.mine.container).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
    for (const owner of ['other', 'nobody'] as const) {
      await expect(docker.getImage(made[owner].image).inspect()).resolves.toBeTruthy();
      await expect(docker.getContainer(made[owner].container).inspect()).resolves.toBeTruthy();
    }
    await docker.getContainer(made.nobody.container).remove({ force: true });
    await docker.getImage(made.nobody.image).remove({ force: true });
  });
});

describe.skipIf(engineMissing())('an image removed from under the run', () => {
  it('says the image was removed, and by whom it can have been, instead of a bare 404', async () => {
    // An image of this run that something else removes mid-run (a cleanup, `docker image prune`).
    const labels = slimpyLabels(runs.mine);
    const source = await docker.createContainer({
      Image: baseImage(),
      Cmd: ['true'],
      Labels: labels,
    });
    const { Id: gone } = (await source.commit({ comment: 'removed before use' })) as { Id: string };
    await source.remove({ force: true });
    await docker.getImage(gone).remove({ force: true });
    const error = await runContainer(docker, {
      image: gone,
      entrypoint: ['true'],
      timeoutMs: 60_000,
      labels,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageRemovedError);
    expect((error as Error).message).toContain(gone);
    expect((error as Error).message).toMatch(/removed it while slimpy was using it/);
  });
});
