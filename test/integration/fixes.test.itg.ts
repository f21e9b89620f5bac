/**
 * Issue 11, "Done when": the fix rules on the real engine. Each fixture is slimmed with the
 * defaults; each test asserts that the bytes the rule targets really left the image (engine
 * sizes and the layer table), that the patch applies with `git apply`, that the smoke test
 * passes, and that the rows of "Where the bytes went" add up to the measured change.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { removeOwnObjects } from '../../src/engine/images.js';
import { readSettings } from '../../src/inputs.js';
import type { LayerRow, SlimpyReport } from '../../src/model/report.js';
import { runSession, type SessionResult } from '../../src/session.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';
import { collectingHooks, testHost } from '../support/hooks.js';

const docker = testDocker();
const runId = `test-fixes-${process.pid}`;
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-fixes-'));
const FIXTURES = fileURLToPath(new URL('../fixtures/fixes/', import.meta.url));

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  if (!engineMissing()) await removeOwnObjects(docker, runId);
});

let runs = 0;

/** Slims a fixture (copied to a scratch context) with the defaults and `inputs` over them. */
async function slim(
  fixture: string,
  inputs: Record<string, string>,
): Promise<SessionResult & { logs: string[]; context: string }> {
  runs += 1;
  const context = path.join(work, `${runs}-${fixture}`);
  cpSync(path.join(FIXTURES, fixture), context, { recursive: true });
  const values: Record<string, string> = {
    context,
    'build-args': `PYTHON_IMAGE=${baseImage()}`,
    network: 'host',
    'compressed-size': 'false',
    ...inputs,
  };
  const settings = readSettings((name) => values[name] ?? '', {
    workspace: context,
    outputDir: path.join(context, '.out'),
    cacheDir: path.join(work, 'layer-cache'),
    runId,
  });
  const { hooks, logs } = collectingHooks();
  const result = await runSession(settings, testHost(hooks));
  if (result.failures.length > 0) {
    throw new Error(`${result.failures.join('\n')}\n${logs.slice(-60).join('\n')}`);
  }
  return { ...result, logs, context };
}

/** The patch applies to a fresh checkout of the fixture and gives the slimmed Dockerfile. */
function expectPatchApplies(result: SessionResult & { context: string }, fixture: string): void {
  const checkout = path.join(work, `checkout-${runs}`);
  cpSync(path.join(FIXTURES, fixture), checkout, { recursive: true });
  execFileSync('git', ['init', '-q'], { cwd: checkout });
  const patch = path.join(work, `patch-${runs}.diff`);
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

function layerOf(layers: readonly LayerRow[], text: string): LayerRow {
  const found = layers.filter((layer) => layer.createdBy.includes(text));
  expect(found, `one layer made by ${text}`).toHaveLength(1);
  return found[0]!;
}

describe.skipIf(engineMissing())('fix rules on the real engine', () => {
  it('leftovers: apt lists and cache leave the RUN that wrote them', async () => {
    const result = await slim('apt-leftovers', { 'smoke-test': 'tini --version' });
    const { report } = result;
    expect(report.slim?.strategy).toBe('fixes');
    const finding = report.findings?.find((f) => f.kind === 'package-leftovers');
    expect(finding?.line).toBe(4);
    const delta = await expectSlimmedAndAddingUp(report);
    // The bytes the finding measured left the image, from the layer that held them.
    const layerBefore = layerOf(report.before.layers, 'apt-get update');
    const layerAfter = layerOf(report.after!.layers, 'apt-get update');
    expect(layerBefore.size - layerAfter.size).toBeGreaterThanOrEqual(0.99 * finding!.bytes);
    expect(saved(report, 'leftovers')).toBeGreaterThanOrEqual(0.99 * finding!.bytes);
    expect(delta).toBeGreaterThanOrEqual(0.99 * finding!.bytes);
    expect(report.slim?.patch).toContain('&& apt-get clean && rm -rf /var/lib/apt/lists/*');
    // No prune runs here, so the patch adds no script.
    expect(report.slim?.patch).not.toContain('.slimpy/prune.sh');
    expectPatchApplies(result, 'apt-leftovers');
  });
});
