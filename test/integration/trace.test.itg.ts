/**
 * The smoke-test trace against the real engine (docs/trace.md): what it sees (a dlopen, a
 * subprocess, an import by a computed name) as a non-root user with every capability dropped, in
 * an image with nothing but Python, where it cannot run, and the restore-by-distribution search
 * that repairs `prune: all,unused` when the smoke test takes a path the trace did not see.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '../../src/engine/build.js';
import { createContextTar } from '../../src/engine/context.js';
import { removeOwnObjects } from '../../src/engine/images.js';
import { slimpyLabels } from '../../src/engine/labels.js';
import { readSettings } from '../../src/inputs.js';
import { measureImage } from '../../src/measure/sizes.js';
import { runSession } from '../../src/session.js';
import { runTracedSmoke } from '../../src/smoke/trace.js';
import { pythonEnvironments, traceUsage, type ImageFiles } from '../../src/smoke/usage.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';
import { collectingHooks, testHost } from '../support/hooks.js';

const FIXTURE = 'test/fixtures/trace';
const SITE = '/opt/venv/lib/python3.11/site-packages';
const docker = testDocker();
const runId = `test-trace-${process.pid}`;
const labels = slimpyLabels(runId);
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-trace-'));
const images = { app: '', noShell: '' };

async function build(dockerfile: string, buildArgs: Record<string, string>): Promise<string> {
  const context = await createContextTar(FIXTURE, { dockerfile, builder: 'buildkit' });
  return buildImage(docker, {
    context: context.stream,
    dockerfile: context.dockerfileInContext,
    buildArgs,
    network: 'none',
    // BuildKit: the classic builder would leave the builder stage behind as an unlabelled image.
    builder: 'buildkit',
    labels,
    onLine: () => undefined,
  });
}

function settingsFor(inputs: Record<string, string>, context: string) {
  return readSettings((name) => inputs[name] ?? '', {
    workspace: context,
    outputDir: path.join(work, 'out', path.basename(context)),
    cacheDir: path.join(work, 'layer-cache'),
    runId,
  });
}

async function traceOf(image: string, command: string) {
  const measured = await measureImage(docker, image, { compressed: false, baseImage: baseImage() });
  const files: ImageFiles = {
    files: measured.files,
    baseLayers: measured.measurement.layers.filter((layer) => layer.base).length,
  };
  const environments = pythonEnvironments(files);
  const traced = await runTracedSmoke(docker, {
    before: image,
    command,
    timeoutMs: 120_000,
    labels,
    environments,
  });
  if (traced.trace.status !== 'traced') throw new Error(`not traced: ${traced.trace.reason}`);
  return {
    ...traced,
    output: traced.trace.output,
    usage: traceUsage(files, environments, traced.trace.output),
  };
}

beforeAll(async () => {
  if (engineMissing()) return;
  images.app = await build('Dockerfile', { BASE: baseImage() });
  images.noShell = await build('no-shell.Dockerfile', { FROM_IMAGE: images.app });
});

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  if (!engineMissing()) await removeOwnObjects(docker, runId);
});

describe.skipIf(engineMissing())('the smoke-test trace', () => {
  it('sees a dlopen, a subprocess and an import by a computed name, as a non-root user', async () => {
    const { run, output, usage } = await traceOf(images.app, 'python3 /app/smoke.py');
    expect(run.passed).toBe(true);
    expect(run.output).toContain('trace fixture ok, uid 65534');
    expect(output.paths).toContain(`${SITE}/natlib/libdemo.so`);
    expect(output.paths).toContain(`${SITE}/childonly/__init__.py`);
    expect(output.paths).toContain(`${SITE}/plugin_a/__init__.py`);
    expect(output.paths).not.toContain(`${SITE}/plugin_b/__init__.py`);
    // the shell, the app's Python and the subprocess's Python
    expect(output.processes).toBeGreaterThanOrEqual(3);
    expect(usage.kept).toEqual(
      expect.arrayContaining([
        'natlib/libdemo.so',
        'childonly/__init__.py',
        'plugin_a/__init__.py',
      ]),
    );
    expect(usage.kept).not.toContain('plugin_b/__init__.py');
    expect(usage.report.packages.map((p) => p.name)).toContain('plugin-b');
  });

  it('runs in an image with nothing but Python: no shell, no utilities', async () => {
    const { run, attempt, output } = await traceOf(images.noShell, 'python3 /app/smoke.py');
    expect(run.passed).toBe(true);
    expect(attempt).toBe(1); // /bin/sh is gone: the shell-free start attempt ran
    expect(output.paths).toContain(`${SITE}/natlib/libdemo.so`);
  });

  it('a run goes on when the trace cannot: the report says why', async () => {
    const context = path.join(work, 'no-python');
    cpSync(path.join(FIXTURE, 'no-python'), context, { recursive: true });
    const { report } = await runSession(
      settingsFor(
        {
          context,
          'build-args': `BASE=${baseImage()}`,
          network: 'none',
          'smoke-test': 'test -d /usr',
          'compressed-size': 'false',
        },
        context,
      ),
      testHost(collectingHooks().hooks),
    );
    expect(report.smoke?.before.passed).toBe(true);
    expect(report.trace?.status).toBe('unavailable');
    expect(report.trace?.reason).toContain('neither python3 nor python');
  });

  it('prune all,unused: restores the one distribution the trace missed, in at most 1 + ceil(log2 n) builds', async () => {
    const context = path.join(work, 'app');
    cpSync(FIXTURE, context, { recursive: true });
    const { hooks, logs } = collectingHooks();
    const { report } = await runSession(
      settingsFor(
        {
          context,
          'build-args': `BASE=${baseImage()}`,
          'smoke-test': 'python3 /app/smoke.py --hidden',
          network: 'none',
          prune: 'all,unused',
          strip: 'false',
          'compressed-size': 'false',
        },
        context,
      ),
      testHost(hooks),
    );
    expect(report.trace?.status).toBe('traced');
    expect(report.slim?.restored).toEqual(['hidden']);
    expect(report.slim?.variant.prune).toContain('unused');
    expect(report.smoke?.after?.passed).toBe(true);
    const builds = logs.filter((line) => line.startsWith('Trying `unused` with')).length;
    const n = 8; // every fixture distribution loses a file the test never opened
    expect(builds).toBeLessThanOrEqual(1 + Math.ceil(Math.log2(n)));
    expect(report.slim?.savings.find((s) => s.category === 'unused')?.files).toBeGreaterThan(0);
    expect(report.after!.size).toBeLessThan(report.before.size);
  });
});
