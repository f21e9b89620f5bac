/**
 * One run, two front ends: the action (as the runner spawns it) and the CLI (as a terminal runs
 * it), given the same Dockerfile and settings, write the same report, tag the delivered image with
 * `tag` / `--tag`, and record the same size history (the Actions cache for one, `--history` for the
 * other), because both are thin adapters over src/session.ts.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeOwnObjects } from '../../src/engine/images.js';
import type { SlimpyReport } from '../../src/model/report.js';
import { historyId } from '../../src/history/keys.js';
import { actionHarness, runIdOf } from '../support/action-process.js';
import { startCacheServiceFake, type CacheServiceFake } from '../support/cache-service-fake.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';
import { loadGitHubOpenApi, startGitHubFake, type GitHubFake } from '../support/github-fake.js';

const TOKEN = 'ghs_frontEndsToken000000000000000000000000';
const WHEELS = 'examples/pyarrow-duckdb/wheels';
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-front-ends-'));
const repo = path.join(work, 'repo');
const docker = testDocker();
const tagOf = (who: string): string => `slimpy-test/front-ends:${who}-${process.pid}`;
let github: GitHubFake;
let cache: CacheServiceFake;
const harness = actionHarness({ work, token: TOKEN, apiUrl: () => github.url });

const DOCKERFILE = [
  'ARG PYTHON_IMAGE',
  'FROM ${PYTHON_IMAGE}',
  'COPY *.whl /tmp/',
  'RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-index --no-cache-dir /tmp/*.whl',
  'ENV PATH=/opt/venv/bin:$PATH',
  '',
].join('\n');

/** A git repository holding the image's context, so both front ends record HEAD's size. */
function makeRepository(): string {
  const context = path.join(repo, 'image');
  mkdirSync(context, { recursive: true });
  writeFileSync(path.join(context, 'Dockerfile'), DOCKERFILE);
  const wheel = readdirSync(WHEELS).find((file) => file.startsWith('prometheus_client-'));
  if (!wheel)
    throw new Error(`no prometheus_client wheel in ${WHEELS}: run scripts/fetch-wheels.sh`);
  copyFileSync(path.join(WHEELS, wheel), path.join(context, wheel));
  const git = (...args: string[]): string =>
    execFileSync('git', args, {
      cwd: repo,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@t',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@t',
      },
    }).trim();
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'image');
  return git('rev-parse', 'HEAD');
}

const SETTINGS = {
  context: 'image',
  network: 'none',
  'smoke-test': 'python -c "import prometheus_client"',
  budget: '1GB',
};

/**
 * What may differ between two runs of the same thing: timings, where files were written, and the
 * image ids (each run labels its images with its own run id, so the configs differ).
 */
function comparable(report: SlimpyReport): unknown {
  const copy = structuredClone(report) as SlimpyReport & { timings?: unknown };
  delete copy.timings;
  for (const image of [copy.before, copy.after]) {
    if (!image) continue;
    image.id = 'sha256:…';
    delete image.compressedFromCache;
  }
  for (const run of [copy.smoke?.before, copy.smoke?.after]) {
    if (!run) continue;
    delete run.medianMs;
    delete run.runsMs;
  }
  if (copy.smoke) {
    delete copy.smoke.coldStartDeltaMs;
    delete copy.smoke.coldStartSpreadMs;
  }
  if (copy.trace) {
    delete (copy.trace as { durationMs?: number }).durationMs;
    delete (copy.trace as { stops?: number }).stops;
  }
  if (copy.slim) {
    copy.slim.dockerfilePath = path.basename(copy.slim.dockerfilePath);
    copy.slim.patchPath = path.basename(copy.slim.patchPath);
  }
  return copy;
}

beforeAll(async () => {
  if (engineMissing()) return;
  await loadGitHubOpenApi();
  github = await startGitHubFake({ token: TOKEN });
  cache = await startCacheServiceFake();
});

afterAll(async () => {
  await github?.close();
  await cache?.close();
  if (!engineMissing()) {
    for (const files of harness.started) {
      const runId = runIdOf(files);
      if (runId) await removeOwnObjects(docker, runId);
    }
    for (const who of ['action', 'cli'])
      await docker
        .getImage(tagOf(who))
        .remove()
        .catch(() => undefined);
  }
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(engineMissing())('the action and the CLI run the same session', () => {
  it('same report, tag and size history for the same run', async () => {
    const head = makeRepository();
    const buildArgs = `PYTHON_IMAGE=${baseImage()}`;
    const action = await harness.action(
      { ...SETTINGS, 'build-args': buildArgs, tag: tagOf('action') },
      { workspace: repo, env: { ...cache.env, GITHUB_SHA: head } },
    );
    expect(action.code, action.output.slice(-3000)).toBe(0);
    const historyDir = path.join(work, 'history');
    const cli = await harness.cli(
      [
        'slim',
        '--context',
        SETTINGS.context,
        '--network',
        SETTINGS.network,
        '--smoke',
        SETTINGS['smoke-test'],
        '--budget',
        SETTINGS.budget,
        '--build-arg',
        buildArgs,
        '--tag',
        tagOf('cli'),
        '--history',
        historyDir,
        '--out',
        path.join(work, 'cli-out'),
        '--json',
      ],
      {},
      repo,
    );
    expect(cli.code, cli.output.slice(-3000)).toBe(0);

    const fromAction = JSON.parse(readFileSync(action.outputs.report!, 'utf8')) as SlimpyReport;
    const fromCli = JSON.parse(
      readFileSync(path.join(work, 'cli-out', 'slimpy-report.json'), 'utf8'),
    ) as SlimpyReport;
    expect(fromAction.after?.size).toBeLessThan(fromAction.before.size);
    expect(comparable(fromCli)).toEqual(comparable(fromAction));

    // `tag` and `--tag` both name the delivered (slimmed) image.
    for (const [who, report] of [
      ['action', fromAction],
      ['cli', fromCli],
    ] as const) {
      const tagged = await docker.getImage(tagOf(who)).inspect();
      expect(tagged.Id).toBe(report.after?.id);
    }

    // Both recorded HEAD as a baseline under the same image identity.
    const id = historyId('image/Dockerfile');
    expect(cache.entries().map((entry) => entry.key)).toContain(`slimpy-v1-${id}-${head}`);
    expect(readdirSync(historyDir)).toContain(`slimpy-v1-${id}-${head}`);
  });
});
