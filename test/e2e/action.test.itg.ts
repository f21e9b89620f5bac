/**
 * The action as the runner runs it: `node dist/index.js` with INPUT_* variables (hyphens kept),
 * a real event payload, real GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_STATE files, and
 * GITHUB_API_URL pointing at a loopback GitHub fake that validates every request against
 * GitHub's published REST description.
 */
import { spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeOwnObjects } from '../../src/engine/images.js';
import { commentMarker } from '../../src/report/markdown.js';
import { startCacheServiceFake } from '../support/cache-service-fake.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';
import {
  loadGitHubOpenApi,
  seedComments,
  startGitHubFake,
  type GitHubFake,
} from '../support/github-fake.js';

const OWNER = 'acme';
const REPO = 'millpond';
const PR = 58;
const TOKEN = 'ghs_e2eTestToken000000000000000000000000';
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-e2e-'));
const toolCache = path.join(work, 'tool-cache');
const runnerTemp = path.join(work, 'runner-temp');
mkdirSync(runnerTemp, { recursive: true });
let runCounter = 0;
const smoke = 'python -c "import duckdb, pyarrow, numpy, prometheus_client" && python -m app';

interface ActionRun {
  code: number | null;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
}

/** Reads a GITHUB_OUTPUT file: `name<<DELIMITER\nvalue\nDELIMITER` blocks. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const pattern = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const match of text.matchAll(pattern)) outputs[match[1]!] = match[3]!;
  return outputs;
}

interface RunOptions {
  fake: GitHubFake;
  event?: 'pull_request' | 'push';
  sha?: string;
  /** Extra environment, e.g. the cache service's. */
  env?: Record<string, string>;
}

async function runAction(
  name: string,
  inputs: Record<string, string>,
  options: RunOptions,
): Promise<ActionRun> {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  const files = {
    output: path.join(dir, 'output'),
    summary: path.join(dir, 'summary.md'),
    state: path.join(dir, 'state'),
  };
  for (const file of Object.values(files)) writeFileSync(file, '');
  const eventName = options.event ?? 'pull_request';
  const eventFile = eventName === 'pull_request' ? 'pull_request.opened.json' : 'push.json';
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_EVENT_NAME: eventName,
    GITHUB_EVENT_PATH: path.resolve('test/fixtures/events', eventFile),
    GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
    GITHUB_SHA: options.sha ?? '0123456789abcdef0123456789abcdef01234567',
    GITHUB_RUN_ID: String(1000 + runCounter++),
    GITHUB_WORKSPACE: process.cwd(),
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_STATE: files.state,
    GITHUB_API_URL: options.fake.url,
    // One runner temp for every run, as on a runner (the cache version hashes saved paths).
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: toolCache,
    SLIMPY_MAX_RETRY_WAIT_MS: '1500',
    'INPUT_GITHUB-TOKEN': TOKEN,
    INPUT_COMMENT: 'auto',
    ...options.env,
  };
  for (const [key, value] of Object.entries(inputs)) env[`INPUT_${key.toUpperCase()}`] = value;
  const child = spawn(process.execPath, ['dist/index.js'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    code,
    stdout,
    outputs: parseOutputs(readFileSync(files.output, 'utf8')),
    summary: readFileSync(files.summary, 'utf8'),
  };
}

const exampleInputs = {
  context: 'examples/pyarrow-duckdb',
  network: 'host',
  'smoke-test': smoke,
};

describe.skipIf(engineMissing())('the action, spawned as the runner does', () => {
  let fake: GitHubFake;
  const exampleArgs = () => ({ ...exampleInputs, 'build-args': `PYTHON_IMAGE=${baseImage()}` });

  beforeAll(async () => {
    await loadGitHubOpenApi();
    // A busy PR: 130 comments by others before slimpy's first run.
    fake = await startGitHubFake({
      comments: seedComments({ owner: OWNER, repo: REPO, issueNumber: PR }, 130),
      token: TOKEN,
    });
  });

  afterAll(async () => {
    await fake?.close();
    rmSync(work, { recursive: true, force: true });
    if (!engineMissing()) await removeOwnObjects(testDocker());
  });

  it('slims the example, sets every output, writes the summary and one sticky comment', async () => {
    const run = await runAction('slim', { ...exampleArgs(), budget: '2GB' }, { fake });
    expect(run.code, run.stdout.slice(-3000)).toBe(0);
    const expected = [
      'size-before',
      'size-after',
      'size-saved',
      'compressed-before',
      'compressed-after',
      'image-before',
      'image-after',
      'dockerfile',
      'patch',
      'report',
      'over-budget',
      'comment-url',
      'comment-body',
    ];
    expect(Object.keys(run.outputs).sort()).toEqual(expected.sort());
    const docker = testDocker();
    const before = await docker.getImage(run.outputs['image-before']!).inspect();
    const after = await docker.getImage(run.outputs['image-after']!).inspect();
    expect(Number(run.outputs['size-before'])).toBe(before.Size);
    expect(Number(run.outputs['size-after'])).toBe(after.Size);
    expect(Number(run.outputs['size-saved'])).toBe(before.Size - after.Size);
    expect(after.Size).toBeLessThan(before.Size);
    expect(run.outputs['over-budget']).toBe('false');
    expect(readFileSync(run.outputs.patch!, 'utf8')).toContain('builder-slimpy');
    const report = JSON.parse(readFileSync(run.outputs.report!, 'utf8')) as {
      after: { size: number };
    };
    expect(report.after.size).toBe(after.Size);

    const key = 'examples/pyarrow-duckdb/Dockerfile';
    const comments = fake
      .comments(OWNER, REPO, PR)
      .filter((c) => c.body.startsWith(commentMarker(key)));
    expect(comments).toHaveLength(1);
    expect(run.outputs['comment-url']).toBe(comments[0]!.html_url);
    expect(run.summary).toContain(commentMarker(key));
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(fake.violations).toEqual([]);
  });

  it('updates the same comment on the next run (a PATCH, no second POST), through a 502', async () => {
    fake.addFault({ operationId: 'issues/update-comment', kind: 'server-error', times: 1 });
    const postsBefore = fake.requests.filter((r) => r.method === 'POST').length;
    const run = await runAction('measure-again', { ...exampleArgs(), mode: 'measure' }, { fake });
    expect(run.code, run.stdout.slice(-3000)).toBe(0);
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(postsBefore);
    const patches = fake.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => r.status)).toEqual([502, 200]);
    const marked = fake
      .comments(OWNER, REPO, PR)
      .filter((c) => c.body.startsWith(commentMarker('examples/pyarrow-duckdb/Dockerfile')));
    expect(marked).toHaveLength(1);
    expect(marked[0]!.body).toContain('measure');
    expect(fake.violations).toEqual([]);
  });

  it('fails over budget, after the comment and the summary are written', async () => {
    const run = await runAction(
      'over-budget',
      { ...exampleArgs(), mode: 'measure', budget: '100MB' },
      { fake },
    );
    expect(run.code).toBe(1);
    expect(run.outputs['over-budget']).toBe('true');
    expect(run.stdout).toMatch(
      /::error::The image is over its size budget: .* uncompressed > budget 100\.0 MB/,
    );
    expect(run.summary).toMatch(/over/i);
    const marked = fake
      .comments(OWNER, REPO, PR)
      .filter((c) => c.body.startsWith(commentMarker('examples/pyarrow-duckdb/Dockerfile')));
    expect(marked[0]!.body).toMatch(/over/i);
    expect(fake.violations).toEqual([]);
  });

  it('a fork (read-only token, 403 on comments) gets a warning and the summary, not a failed job', async () => {
    const forkFake = await startGitHubFake({
      faults: [{ operationId: 'issues/create-comment', kind: 'forbidden', times: Infinity }],
    });
    try {
      const run = await runAction(
        'fork',
        { ...exampleArgs(), mode: 'measure' },
        { fake: forkFake },
      );
      expect(run.code, run.stdout.slice(-3000)).toBe(0);
      expect(run.stdout).toMatch(/::warning::Cannot comment on the pull request/);
      expect(run.summary).toContain('<!-- slimpy:');
      expect(run.outputs['comment-url']).toBe('');
      expect(forkFake.violations).toEqual([]);
    } finally {
      await forkFake.close();
    }
  });

  it('finds its comment on a later page of a PR with 150 comments and retries a rate limit', async () => {
    const key = 'examples/pyarrow-duckdb/Dockerfile';
    const busy = await startGitHubFake({
      comments: seedComments({ owner: OWNER, repo: REPO, issueNumber: PR }, 150, {
        120: { body: `${commentMarker(key)}\nold report`, login: 'github-actions[bot]' },
      }),
      faults: [
        {
          operationId: 'issues/list-comments',
          kind: 'secondary-rate-limit',
          times: 1,
          retryAfterSeconds: 1,
        },
      ],
    });
    try {
      const run = await runAction('busy', { ...exampleArgs(), mode: 'measure' }, { fake: busy });
      expect(run.code, run.stdout.slice(-3000)).toBe(0);
      expect(busy.requests.some((r) => r.method === 'GET' && r.query.page === '2')).toBe(true);
      expect(busy.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
      const marked = busy
        .comments(OWNER, REPO, PR)
        .filter((c) => c.body.startsWith(commentMarker(key)));
      expect(marked).toHaveLength(1);
      expect(marked[0]!.body).not.toContain('old report');
      expect(busy.violations).toEqual([]);
    } finally {
      await busy.close();
    }
  });

  it('measure mode works on a Dockerfile with no Python, on a push (no comment)', async () => {
    const context = path.join(work, 'no-python');
    cpSync('test/fixtures/pipeline/no-python', context, { recursive: true });
    writeFileSync(path.join(context, 'payload.bin'), Buffer.alloc(3_000_000, 1));
    const requests = fake.requests.length;
    const run = await runAction(
      'no-python',
      { context, mode: 'measure', budget: '10MB' },
      { fake, event: 'push' },
    );
    expect(run.code, run.stdout.slice(-3000)).toBe(0);
    expect(Number(run.outputs['size-before'])).toBeGreaterThan(3_000_000);
    expect(run.outputs['over-budget']).toBe('false');
    expect(run.outputs['comment-url']).toBe('');
    expect(fake.requests.length).toBe(requests);
    expect(run.summary).toContain('<!-- slimpy:');
  });
});

describe.skipIf(engineMissing())('size history through the Actions cache service', () => {
  const BASE_SHA = '4e2a9d1c7b3f5a8e0d6c2b9f1a7e3d5c8b0f2a46'; // pull_request.opened.json base.sha
  const key = 'no-python-image';
  const runStamp = `${process.pid}-${Date.now()}`;

  async function contextWithPayload(name: string, bytes: number): Promise<string> {
    const context = path.join(work, name);
    cpSync('test/fixtures/pipeline/no-python', context, { recursive: true });
    writeFileSync(path.join(context, 'payload.bin'), Buffer.alloc(bytes, 3));
    // Notes unique to this test run (so no earlier build cache entry stands in for them), the
    // same in every context of the run, with the same mtime: an identical layer in each image.
    writeFileSync(path.join(context, 'notes.txt'), `notes of test run ${runStamp}\n`.repeat(500));
    // Same mtimes as a checkout would give: unchanged files make identical layers.
    for (const file of ['payload.bin', 'notes.txt'])
      utimesSync(path.join(context, file), 1_700_000_000, 1_700_000_000);
    return context;
  }

  it('push saves a baseline; a PR restores it, shows the delta, fails on max-growth; service down still comments', async () => {
    const github = await startGitHubFake({ token: TOKEN });
    const cache = await startCacheServiceFake();
    try {
      const common = { mode: 'measure', 'comment-key': key };
      const push = await runAction(
        'history-push',
        { ...common, context: await contextWithPayload('h-base', 3_000_000) },
        { fake: github, event: 'push', sha: BASE_SHA, env: cache.env },
      );
      expect(push.code, push.stdout.slice(-3000)).toBe(0);
      expect(cache.entries().some((e) => e.key.endsWith(BASE_SHA))).toBe(true);

      // The PR grows the image by 2 MB: the delta row appears, and max-growth 1MB fails the job.
      const grown = await runAction(
        'history-pr',
        { ...common, context: await contextWithPayload('h-pr', 5_000_000), 'max-growth': '1MB' },
        { fake: github, env: cache.env },
      );
      expect(grown.code, grown.stdout.slice(-4000)).toBe(1);
      expect(grown.summary).toContain(BASE_SHA.slice(0, 7));
      expect(grown.stdout).toMatch(/::error::.*grow/i);
      const comment = github
        .comments(OWNER, REPO, PR)
        .find((c) => c.body.startsWith(commentMarker(key)));
      expect(comment?.body).toContain(BASE_SHA.slice(0, 7));
      // The same layers again: their compressed sizes come from the persisted cache.
      expect(grown.stdout).toMatch(/[1-9]\d* of \d+ layers from cache/);

      // Cache service down: a warning, the comment is still posted, no failure without a baseline.
      await cache.setDown('refused');
      const down = await runAction(
        'history-down',
        { ...common, context: await contextWithPayload('h-down', 3_000_000), 'max-growth': '1MB' },
        { fake: github, env: cache.env },
      );
      expect(down.code, down.stdout.slice(-3000)).toBe(0);
      expect(down.stdout).toMatch(/::warning::/);
      expect(down.outputs['comment-url']).not.toBe('');
      expect(github.violations).toEqual([]);
    } finally {
      await cache.close();
      await github.close();
    }
  });
});
