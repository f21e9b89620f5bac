/**
 * The action's size-history flow, end to end in Node (no Docker): the main-flow functions with the
 * REAL @actions/cache against the loopback cache-service fake, over runs that share nothing but
 * the cache, as consecutive jobs on fresh runners do.
 */
import { readRunnerEvent } from '../../src/runner-event.js';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { actionsSizeHistory } from '../../src/history/actions-cache.js';
import { growthFailure } from '../../src/history/growth.js';
import {
  growthOf,
  recordHistory,
  restoreHistory,
  type HistoryLog,
} from '../../src/history/history.js';
import { readSettings } from '../../src/inputs.js';
import type { Settings } from '../../src/model/settings.js';
import { readLayerRecords, writeLayerRecord } from '../../src/measure/layer-cache.js';
import { renderReport } from '../../src/report/markdown.js';
import type { ImageMeasurement, SlimpyReport } from '../../src/model/report.js';
import { startCacheServiceFake, type CacheServiceFake } from '../support/cache-service-fake.js';
import { testReport } from '../support/report.js';

const MAIN_1 = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const MAIN_2 = 'b2c3d4e5f60718293a4b5c6d7e8f901234567890';
const UNRECORDED = 'c3d4e5f60718293a4b5c6d7e8f90123456789012';
const MERGE = 'd4e5f60718293a4b5c6d7e8f90123456789012ab';

let fake: CacheServiceFake;
let root: string;
let stdout: string[];
const savedEnv = { ...process.env };

beforeEach(async () => {
  fake = await startCacheServiceFake();
  root = await mkdtemp(path.join(tmpdir(), 'slimpy-history-flow-'));
  stdout = [];
  // @actions/core logs (`::warning::…`) on stdout: kept for the assertions, out of the test output.
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
});

afterEach(async () => {
  vi.restoreAllMocks();
  process.env = { ...savedEnv };
  await fake.close();
  await rm(root, { recursive: true, force: true });
});

const diffId = (n: number): string =>
  `sha256:${createHash('sha256').update(`layer ${n}`).digest('hex')}`;

function image(size: number, layers: number[]): ImageMeasurement {
  return {
    id: `sha256:${'e'.repeat(64)}`,
    size,
    compressed: Math.round(size / 3),
    layers: layers.map((n) => ({
      diffId: diffId(n),
      size: size / layers.length,
      compressed: 100,
      createdBy: `RUN step ${n}`,
      base: n === 0,
    })),
    largestFiles: [{ path: '/venv/lib/libarrow.so', size: 40e6 }],
    baseSize: size / layers.length,
    ownSize: size - size / layers.length,
  };
}

function report(size: number): SlimpyReport {
  return testReport({ before: image(size, [0, 1, 2]) });
}

interface Run {
  event: 'push' | 'pull_request';
  sha: string;
  base?: string;
  maxGrowth?: string;
  /** What the pipeline measures: the delivered size, and the layers whose compressed sizes it writes. */
  size: number;
  layers: number[];
  /** Runner environment on top of the usual one. */
  env?: Record<string, string>;
}

interface RunResult {
  report: SlimpyReport;
  warnings: string[];
  info: string[];
  /** Layers the run found in its restored layer cache (not compressed again). */
  layersFromCache: number;
}

/**
 * One job on a fresh runner: the runner's directories start empty (same paths on every runner),
 * then restore -> "pipeline" -> growth -> record, in main.ts's order.
 */
async function runJob(run: Run, index: number): Promise<RunResult> {
  const runner = path.join(root, 'runner');
  await rm(runner, { recursive: true, force: true });
  await mkdir(path.join(runner, 'temp'), { recursive: true });
  await mkdir(path.join(runner, 'work'), { recursive: true });
  const eventPath = path.join(runner, 'event.json');
  const payload = run.base
    ? { pull_request: { number: 7, base: { sha: run.base, ref: 'main' } } }
    : { ref: 'refs/heads/main' };
  await writeFile(eventPath, JSON.stringify(payload));
  process.env = {
    ...savedEnv,
    ...fake.env,
    RUNNER_TEMP: path.join(runner, 'temp'),
    GITHUB_WORKSPACE: path.join(runner, 'work'),
    GITHUB_EVENT_NAME: run.event,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_SHA: run.sha,
    GITHUB_REF: run.base ? 'refs/pull/7/merge' : 'refs/heads/main',
    GITHUB_RUN_ID: String(1000 + index),
    GITHUB_RUN_ATTEMPT: '1',
    ...run.env,
  };
  delete process.env.GITHUB_SERVER_URL;
  const settings: Settings = readSettings(
    (name) => (name === 'max-growth' ? (run.maxGrowth ?? '') : ''),
    {
      workspace: path.join(runner, 'work'),
      outputDir: path.join(runner, 'out'),
      cacheDir: path.join(runner, 'tool-cache', 'slimpy-layer-cache'),
      runId: `run${index}`,
    },
  );
  const logged = { warnings: [] as string[], info: [] as string[] };
  const log: HistoryLog = {
    info: (line) => logged.info.push(line),
    warning: (m) => logged.warnings.push(m),
  };

  const history = actionsSizeHistory(settings, readRunnerEvent(), log);
  const restored = await restoreHistory(history);
  // The pipeline's measure step: layers already in the cache are not compressed again.
  const cached = await readLayerRecords(settings.cacheDir, run.layers.map(diffId));
  for (const n of run.layers.filter((n) => !cached.has(diffId(n)))) {
    await writeLayerRecord(settings.cacheDir, {
      diffId: diffId(n),
      tarBytes: 1000 + n,
      compressed: 100 + n,
    });
  }
  const result = report(run.size);
  result.growth = growthOf(restored, result, settings);
  await recordHistory(history, restored, result, settings);
  return { report: result, ...logged, layersFromCache: cached.size };
}

describe('size history through the Actions cache (fake service, real @actions/cache)', () => {
  it('a push to main records a baseline; a PR on top restores it and shows the delta row', async () => {
    const push = await runJob({ event: 'push', sha: MAIN_1, size: 400e6, layers: [0, 1, 2] }, 1);
    expect(push.report.growth).toBeUndefined();
    expect(push.warnings).toEqual([]);
    expect(fake.entries().map((e) => e.key)).toEqual([
      expect.stringMatching(new RegExp(`^slimpy-v1-[0-9a-f]{16}-${MAIN_1}$`)),
      'slimpy-v1-layers-1001-1-run1',
    ]);

    const pr = await runJob(
      { event: 'pull_request', sha: MERGE, base: MAIN_1, size: 410e6, layers: [0, 1, 3] },
      2,
    );
    expect(pr.warnings).toEqual([]);
    expect(pr.report.growth).toMatchObject({
      baseSha: MAIN_1,
      baseSize: 400e6,
      actual: 410e6,
      over: false,
    });
    expect(pr.report.growth?.message).toBe(
      '+10.0 MB (+2.5%) against base a1b2c3d: 400.0 MB → 410.0 MB.',
    );
    const body = renderReport(pr.report, { commentKey: 'Dockerfile' });
    expect(body).toMatch(/\| base \(\S*a1b2c3d\S*\) \| 400\.0 MB \|/);
    expect(body).toMatch(/\*\*Δ vs base\*\* \| \*\*\+10\.0 MB \(\+2\.5%\)\*\*/);
    // The PR's own report is recorded apart from the baselines.
    expect(fake.entries().map((e) => e.key)).toContainEqual(
      expect.stringMatching(new RegExp(`^slimpy-v1-pr-[0-9a-f]{16}-${MERGE}$`)),
    );
  });

  it('fails the job when the PR grows more than max-growth, naming both numbers', async () => {
    await runJob({ event: 'push', sha: MAIN_1, size: 400e6, layers: [0, 1, 2] }, 1);
    const pr = await runJob(
      {
        event: 'pull_request',
        sha: MERGE,
        base: MAIN_1,
        maxGrowth: '5%',
        size: 430e6,
        layers: [0, 1, 2],
      },
      2,
    );
    const growth = pr.report.growth;
    expect(growth).toMatchObject({ over: true, allowed: 20e6, baseSize: 400e6, actual: 430e6 });
    expect(growth?.message).toBe(
      '+30.0 MB (+7.5%) against base a1b2c3d: 400.0 MB → 430.0 MB, over max-growth 5% (20.0 MB) by 10.0 MB.',
    );
    expect(growthFailure(growth!)).toMatch(/grew 30000000 bytes, 20000000 allowed/);
    expect(renderReport(pr.report, { commentKey: 'Dockerfile' })).toContain('**Grew too much**');
  });

  it('falls back to the newest baseline when the base commit has none, and says which commit it is', async () => {
    await runJob({ event: 'push', sha: MAIN_1, size: 400e6, layers: [0] }, 1);
    await runJob({ event: 'push', sha: MAIN_2, size: 405e6, layers: [0] }, 2);
    const pr = await runJob(
      {
        event: 'pull_request',
        sha: MERGE,
        base: UNRECORDED,
        maxGrowth: '20MB',
        size: 410e6,
        layers: [0],
      },
      3,
    );
    expect(pr.report.growth).toMatchObject({
      baseSha: MAIN_2,
      baseSize: 405e6,
      over: false,
      allowed: 20e6,
    });
    expect(pr.report.growth?.message).toBe(
      '+5.0 MB (+1.2%) against b2c3d4e, the newest size recorded on main (none for base c3d4e5f): 405.0 MB → 410.0 MB, within max-growth 20.0 MB.',
    );
  });

  it('never takes an earlier run of a pull request for a baseline', async () => {
    await runJob({ event: 'pull_request', sha: MERGE, base: MAIN_1, size: 900e6, layers: [0] }, 1);
    const again = await runJob(
      {
        event: 'pull_request',
        sha: MERGE.replace('d4', 'e5'),
        base: MAIN_1,
        maxGrowth: '1%',
        size: 910e6,
        layers: [0],
      },
      2,
    );
    expect(again.report.growth).toMatchObject({ baseSha: MAIN_1, over: false });
    expect(again.report.growth?.baseSize).toBeUndefined();
  });

  it('says plainly when there is no baseline, and does not fail', async () => {
    const pr = await runJob(
      {
        event: 'pull_request',
        sha: MERGE,
        base: MAIN_1,
        maxGrowth: '1%',
        size: 410e6,
        layers: [0],
      },
      1,
    );
    expect(pr.report.growth).toMatchObject({ baseSha: MAIN_1, over: false });
    expect(pr.report.growth?.message).toBe(
      'no size recorded for base a1b2c3d; one is recorded on the next push to main',
    );
    expect(pr.warnings).toEqual([]);
  });

  it('a PR run with the cache service down still completes, with warnings and no verdict', async () => {
    await runJob({ event: 'push', sha: MAIN_1, size: 400e6, layers: [0, 1] }, 1);
    await fake.setDown('refused');
    const pr = await runJob(
      {
        event: 'pull_request',
        sha: MERGE,
        base: MAIN_1,
        maxGrowth: '1%',
        size: 500e6,
        layers: [0, 1, 2],
      },
      2,
    );
    expect(pr.report.growth).toMatchObject({ over: false });
    // The cache library warns that it could not restore; slimpy warns that it could not record.
    expect(stdout.filter((line) => line.startsWith('::warning::Failed to restore'))).not.toEqual(
      [],
    );
    expect(pr.warnings.join('\n')).toMatch(
      /Recording the size of .* failed: the Actions cache did not take/,
    );
    expect(pr.warnings.join('\n')).toMatch(
      /Saving the layer-size cache to the Actions cache failed/,
    );
  });

  it('turns the history off with one warning when the job has no cache service', async () => {
    const pr = await runJob(
      {
        event: 'pull_request',
        sha: MERGE,
        base: MAIN_1,
        maxGrowth: '1%',
        size: 500e6,
        layers: [0],
        env: { ACTIONS_RESULTS_URL: '' },
      },
      1,
    );
    expect(pr.warnings).toEqual([
      expect.stringMatching(/^No size history for this run: the Actions cache is not available/),
    ]);
    expect(pr.report.growth?.message).toMatch(
      /^growth against base a1b2c3d is not checked: the Actions cache is not available/,
    );
    expect(fake.requests).toEqual([]);
  });

  it('carries the layer-size cache across runners: unchanged layers are never compressed again', async () => {
    const first = await runJob({ event: 'push', sha: MAIN_1, size: 400e6, layers: [0, 1, 2] }, 1);
    expect(first.layersFromCache).toBe(0);
    const second = await runJob(
      { event: 'pull_request', sha: MERGE, base: MAIN_1, size: 400e6, layers: [0, 1, 2, 3] },
      2,
    );
    expect(second.layersFromCache).toBe(3);
    const third = await runJob(
      { event: 'push', sha: MAIN_2, size: 400e6, layers: [0, 1, 2, 3] },
      3,
    );
    expect(third.layersFromCache).toBe(4);
    // The third run added nothing, so it saved no new layer cache.
    expect(third.info).toContain('Layer-size cache unchanged: not saved again');
    expect(
      fake
        .entries()
        .filter((e) => e.key.startsWith('slimpy-v1-layers-'))
        .map((e) => e.key),
    ).toEqual(['slimpy-v1-layers-1001-1-run1', 'slimpy-v1-layers-1002-1-run2']);
  });
});
