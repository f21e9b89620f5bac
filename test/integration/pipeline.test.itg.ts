import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeOwnObjects } from '../../src/engine/images.js';
import { readSettings } from '../../src/inputs.js';
import { runSession } from '../../src/session.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';
import { collectingHooks, testHost } from '../support/hooks.js';

const docker = testDocker();
const runId = `test-pipeline-${process.pid}`;
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-pipeline-'));
const { hooks } = collectingHooks();

function settingsFor(inputs: Record<string, string>, workspace = process.cwd()) {
  return readSettings((name) => inputs[name] ?? '', {
    workspace,
    outputDir: path.join(work, 'out', inputs.mode ?? 'slim'),
    cacheDir: path.join(work, 'layer-cache'),
    runId,
  });
}

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  if (!engineMissing()) await removeOwnObjects(docker, runId);
});

describe.skipIf(engineMissing())('pipeline on the shipped example', () => {
  it('measure mode: sizes as the engine reports them, layers with their instructions, largest files', async () => {
    const { report, files } = await runSession(
      settingsFor({
        mode: 'measure',
        context: 'examples/pyarrow-duckdb',
        'build-args': `PYTHON_IMAGE=${baseImage()}`,
        network: 'host',
        budget: '100MB',
      }),
      testHost(hooks),
    );
    const inspect = await docker.getImage(report.before.id).inspect();
    expect(report.before.size).toBe(inspect.Size);
    expect(report.before.layers.map((l) => l.diffId)).toEqual(inspect.RootFS.Layers);
    expect(report.before.layers.some((l) => l.base)).toBe(true);
    expect(
      report.before.layers.find((l) => l.createdBy.includes('/app/.venv'))?.size,
    ).toBeGreaterThan(100e6);
    expect(report.before.compressed).toBeGreaterThan(0);
    expect(report.before.compressed).toBeLessThan(report.before.size);
    expect(report.before.largestFiles[0]?.path).toMatch(/^\/app\/\.venv\//);
    expect(report.after).toBeUndefined();
    expect(report.budget).toEqual({
      metric: 'uncompressed',
      limit: 100e6,
      actual: inspect.Size,
      over: true,
    });
    expect(JSON.parse(readFileSync(files.report, 'utf8'))).toEqual(report);
  });

  it('slim mode: smaller, still imports, savings measured, patch applies to the repository', async () => {
    const { report, files } = await runSession(
      settingsFor({
        context: 'examples/pyarrow-duckdb',
        'build-args': `PYTHON_IMAGE=${baseImage()}`,
        network: 'host',
        'smoke-test':
          'python -c "import duckdb, pyarrow, numpy, prometheus_client" && python -m app',
      }),
      testHost(hooks),
    );
    expect(report.slim?.strategy).toBe('derived-stages');
    expect(report.smoke?.before.passed).toBe(true);
    expect(report.smoke?.after?.passed).toBe(true);
    // The check run of the original was traced: the bytecode it read stays (docs/trace.md).
    expect(report.trace?.status).toBe('traced');
    expect(report.trace!.usedBytecodeBytes).toBeGreaterThan(0);
    expect(report.after!.size).toBeLessThan(report.before.size);
    const inspect = await docker.getImage(report.after!.id).inspect();
    expect(report.after!.size).toBe(inspect.Size);
    const categories = report.slim!.savings.map((s) => s.category);
    expect(categories).toEqual(expect.arrayContaining(['strip', 'tests', 'pycache']));
    expect(report.slim!.strippedTop[0]!.after).toBeLessThan(report.slim!.strippedTop[0]!.before);
    // The patch makes the change permanent: it applies to a copy of the repository files.
    const repo = path.join(work, 'repo');
    mkdirSync(path.join(repo, 'examples/pyarrow-duckdb'), { recursive: true });
    cpSync(
      'examples/pyarrow-duckdb/Dockerfile',
      path.join(repo, 'examples/pyarrow-duckdb/Dockerfile'),
    );
    execFileSync('git', ['init', '-q', repo]);
    writeFileSync(path.join(work, 'p.patch'), readFileSync(files.patch!, 'utf8'));
    execFileSync('git', ['apply', path.join(work, 'p.patch')], { cwd: repo });
    expect(readFileSync(path.join(repo, 'examples/pyarrow-duckdb/Dockerfile'), 'utf8')).toBe(
      readFileSync(files.dockerfile!, 'utf8'),
    );
    expect(
      readFileSync(path.join(repo, 'examples/pyarrow-duckdb/.slimpy/prune.sh'), 'utf8'),
    ).toContain('#!/bin/sh');
  });
});

describe.skipIf(engineMissing())('pipeline on a Dockerfile with no Python', () => {
  it('measure mode reports the size and enforces the budget', async () => {
    const context = path.join(work, 'no-python');
    cpSync('test/fixtures/pipeline/no-python', context, { recursive: true });
    writeFileSync(path.join(context, 'payload.bin'), Buffer.alloc(2_000_000, 7));
    const { report } = await runSession(
      settingsFor({ mode: 'measure', context, budget: '1MB' }, context),
      testHost(hooks),
    );
    expect(report.before.size).toBeGreaterThan(2_000_000);
    expect(report.budget?.over).toBe(true);
    expect(report.before.largestFiles.map((f) => f.path)).toEqual(['/payload.bin', '/notes.txt']);
  });
});
