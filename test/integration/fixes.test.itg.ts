/**
 * Issue 11, "Done when": the fix rules on the real engine. Each fixture is slimmed with the
 * defaults; each test asserts that the bytes the rule targets really left the image (engine
 * sizes and the layer table), that the patch applies with `git apply`, that the smoke test
 * passes, and that the rows of "Where the bytes went" add up to the measured change.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runContainer } from '../../src/engine/containers.js';
import { removeOwnObjects } from '../../src/engine/images.js';
import { slimpyLabels } from '../../src/engine/labels.js';
import { readSettings } from '../../src/inputs.js';
import type { LayerRow, SlimpyReport } from '../../src/model/report.js';
import { runSession, type SessionResult } from '../../src/session.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';
import { collectingHooks, testHost } from '../support/hooks.js';
import { startWheelIndex, type WheelIndex } from '../../bench/wheel-index.js';

const docker = testDocker();
const runId = `test-fixes-${process.pid}`;
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-fixes-'));
const FIXTURES = fileURLToPath(new URL('../fixtures/fixes/', import.meta.url));
const WHEELS = fileURLToPath(new URL('../../examples/pyarrow-duckdb/wheels/', import.meta.url));
const SITE = '/app/.venv/lib/python3.11/site-packages';
let index: WheelIndex | undefined;

/** A wheel of the example's by distribution name (scripts/fetch-wheels.sh fetched them). */
function wheel(name: string): string {
  const found = readdirSync(WHEELS).find((file) => file.startsWith(`${name}-`));
  if (!found) throw new Error(`no ${name} wheel in ${WHEELS}; run scripts/fetch-wheels.sh`);
  return path.join(WHEELS, found);
}

beforeAll(async () => {
  if (engineMissing()) return;
  // pip downloads prometheus_client from here, so its cache is written as from PyPI.
  const served = path.join(work, 'index');
  mkdirSync(served);
  copyFileSync(
    wheel('prometheus_client'),
    path.join(served, path.basename(wheel('prometheus_client'))),
  );
  index = await startWheelIndex(served);
});

afterAll(async () => {
  index?.stop();
  rmSync(work, { recursive: true, force: true });
  if (!engineMissing()) await removeOwnObjects(docker, runId);
});

let runs = 0;

/** A scratch build context: the fixture, and `wheels/` holding the named wheels and `requirements`. */
function prepareContext(fixture: string, wheels: string[], requirements?: string): string {
  runs += 1;
  const context = path.join(work, `${runs}-${fixture}`);
  cpSync(path.join(FIXTURES, fixture), context, { recursive: true });
  mkdirSync(path.join(context, 'wheels'));
  for (const name of wheels) {
    copyFileSync(wheel(name), path.join(context, 'wheels', path.basename(wheel(name))));
  }
  if (requirements) writeFileSync(path.join(context, 'wheels', 'requirements.txt'), requirements);
  return context;
}

/** Slims a prepared context with the defaults and `inputs` over them. */
async function slim(
  context: string,
  inputs: Record<string, string>,
): Promise<SessionResult & { logs: string[]; context: string }> {
  const values: Record<string, string> = {
    context,
    'build-args': `PYTHON_IMAGE=${baseImage()}\nWHEEL_INDEX=${index?.url ?? ''}`,
    network: 'host',
    'compressed-size': 'false',
    ...inputs,
  };
  const settings = readSettings((name) => values[name] ?? '', {
    workspace: context,
    outputDir: path.join(work, `out-${path.basename(context)}`),
    cacheDir: path.join(work, 'layer-cache'),
    runId,
  });
  const { hooks, logs } = collectingHooks();
  const result = await runSession(settings, testHost(hooks));
  if (result.failures.length > 0) {
    throw new Error(`${result.failures.join('\n')}\n${logs.slice(-80).join('\n')}`);
  }
  return { ...result, logs, context };
}

/** The patch applies to a fresh copy of the context and gives the slimmed Dockerfile. */
function expectPatchApplies(result: SessionResult & { context: string }): void {
  const checkout = `${result.context}-checkout`;
  cpSync(result.context, checkout, { recursive: true });
  execFileSync('git', ['init', '-q'], { cwd: checkout });
  const patch = `${checkout}.diff`;
  writeFileSync(patch, result.report.slim?.patch ?? '');
  execFileSync('git', ['apply', patch], { cwd: checkout });
  expect(readFileSync(path.join(checkout, 'Dockerfile'), 'utf8')).toBe(
    readFileSync(result.files.dockerfile ?? '', 'utf8'),
  );
}

async function engineSize(id: string): Promise<number> {
  return (await docker.getImage(id).inspect()).Size;
}

/** What every slimmed fixture promises: both smoke runs pass, the rows add up to the change. */
async function expectSlimmedAndAddingUp(report: SlimpyReport): Promise<number> {
  expect(report.smoke?.before.passed, report.smoke?.before.output).toBe(true);
  expect(report.smoke?.after?.passed, report.smoke?.after?.output).toBe(true);
  const after = report.after;
  if (!after) throw new Error('no slimmed image in the report');
  const delta = (await engineSize(report.before.id)) - (await engineSize(after.id));
  expect(delta).toBe(report.before.size - after.size);
  expect(delta).toBeGreaterThan(0);
  const rows = (report.slim?.savings ?? []).reduce((sum, saving) => sum + saving.bytes, 0);
  expect(Math.abs(rows - delta)).toBeLessThanOrEqual(0.01 * delta);
  return delta;
}

function saved(report: SlimpyReport, category: string): number {
  return report.slim?.savings.find((saving) => saving.category === category)?.bytes ?? 0;
}

function findingBytes(report: SlimpyReport, kind: string, line: number): number {
  const found = report.findings?.find((f) => f.kind === kind && f.line === line);
  expect(found, `a ${kind} finding at line ${line}`).toBeDefined();
  return found?.bytes ?? 0;
}

function layerOf(layers: readonly LayerRow[], text: string): LayerRow | undefined {
  const found = layers.filter((layer) => layer.createdBy.includes(text));
  expect(found.length, `layers made by ${text}`).toBeLessThanOrEqual(1);
  return found[0];
}

/** Runs `script` in the image (network none) and returns its output; it must exit 0. */
async function shell(image: string, script: string): Promise<string> {
  const run = await runContainer(docker, {
    image,
    cmd: ['sh', '-c', script],
    timeoutMs: 120_000,
    labels: slimpyLabels(runId),
  });
  expect(run.exitCode, run.output).toBe(0);
  return run.output.trim();
}

describe.skipIf(engineMissing())('fix rules on the real engine', () => {
  it('a single stage with every fix: each one’s bytes leave, and the table adds up to the change', async () => {
    const context = prepareContext('single-stage', ['numpy'], 'numpy\nprometheus_client\n');
    const result = await slim(context, { 'smoke-test': '/app/.venv/bin/python app.py' });
    const { report } = result;
    const after = report.after!;
    expect(report.slim?.strategy).toBe('same-run');
    expect(report.slim?.variant.fix).toEqual([
      'leftovers',
      'install-inputs',
      'duplicates',
      'earlier-layers',
      'toolchain',
    ]);
    await expectSlimmedAndAddingUp(report);

    // leftovers: apt's lists and cache left the RUN that wrote them; so did pip's cache.
    const apt = findingBytes(report, 'package-leftovers', 6);
    const aptBefore = layerOf(report.before.layers, 'apt-get update')!.size;
    const aptAfter = layerOf(after.layers, 'apt-get update')!.size;
    expect(aptBefore - aptAfter).toBeGreaterThanOrEqual(0.99 * apt);
    expect(saved(report, 'leftovers')).toBeGreaterThanOrEqual(0.99 * apt);
    expect(await shell(report.before.id, 'du -sk /root/.cache/pip | cut -f1')).not.toBe('0');
    await shell(after.id, 'test ! -e /root/.cache/pip && test -z "$(ls /var/lib/apt/lists)"');

    // install-inputs: the COPY's layer is gone; the wheels were mounted for the install only.
    const inputs = findingBytes(report, 'install-inputs', 10);
    expect(layerOf(report.before.layers, 'COPY wheels/')).toBeDefined();
    expect(layerOf(after.layers, 'COPY wheels/')).toBeUndefined();
    expect(saved(report, 'install-inputs')).toBeGreaterThanOrEqual(0.99 * inputs);
    // An older BuildKit (Docker 20.10) leaves the mount point behind, empty.
    await shell(after.id, 'test -z "$(ls -A /tmp/wheels 2>/dev/null)"');

    // earlier-layers: the venv's RUN layer itself is smaller; pip stays there, and says why.
    const venvBefore = layerOf(report.before.layers, 'python3 -m venv')!.size;
    const venvAfter = layerOf(after.layers, 'python3 -m venv')!.size;
    expect(venvBefore - venvAfter).toBeGreaterThan(1_000_000);
    expect(saved(report, 'earlier-layers')).toBeGreaterThan(1_000_000);
    expect(
      report.slim?.notes.some((note) =>
        /pip, setuptools and wheel stay there: the RUN at line 13/.test(note),
      ),
    ).toBe(true);
    const venvShipped = report.slim?.stillShipped?.find((entry) => entry.line === 9);
    expect(venvShipped?.categories.map((part) => part.category)).toContain('packaging');

    // duplicates: the two identical files are one inode now, stored once.
    const [a, b] = (
      await shell(
        after.id,
        `stat -c %i ${SITE}/prometheus_client/model.bin ${SITE}/prometheus_client/model-copy.bin`,
      )
    ).split('\n');
    expect(a).toBe(b);
    expect(saved(report, 'duplicates')).toBeGreaterThanOrEqual(1_500_000);

    expectPatchApplies(result);
  });

  it('an app that reads the COPYed wheels at run time: the culprit search delivers the image without that fix', async () => {
    const context = prepareContext('reads-wheels', ['numpy', 'prometheus_client']);
    const smoke = '/opt/venv/bin/python /app/app.py';
    const result = await slim(context, { 'smoke-test': smoke, strip: 'false' });
    const { report, logs } = result;
    expect(logs).toContain('== Find what breaks the smoke test');
    expect(logs.filter((line) => line.startsWith('Trying without'))).toEqual([
      'Trying without `install-inputs` fix',
    ]);
    expect(report.slim?.culprit).toBe('install-inputs');
    expect(report.slim?.variant.fix).not.toContain('install-inputs');
    expect(report.slim?.variant.fix).toContain('earlier-layers');
    expect(report.slim?.skipped).toContain(
      '`install-inputs` fix breaks the smoke test; delivered the variant without it.',
    );
    await expectSlimmedAndAddingUp(report);
    expect(saved(report, 'install-inputs')).toBe(0);
    expect(saved(report, 'earlier-layers')).toBeGreaterThan(0);
    // The delivered image still has the wheels, and the patch is the one delivered.
    await shell(report.after!.id, 'ls /wheels | grep -q whl');
    expect(report.slim?.patch).toContain('COPY wheels/ /wheels/');
    expect(report.slim?.patch).not.toContain('--mount=type=bind,source=wheels');
    expectPatchApplies(result);
  });
});
