/**
 * The action as the runner runs it: `node dist/index.js` with INPUT_* variables (hyphens kept),
 * a real event payload, real GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_STATE files, and
 * GITHUB_API_URL pointing at a loopback GitHub fake that validates every request against
 * GitHub's published REST description.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeOwnObjects } from '../../src/engine/images.js';
import { commentMarker } from '../../src/report/markdown.js';
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

async function runAction(
  name: string,
  inputs: Record<string, string>,
  options: { fake: GitHubFake; event?: string },
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
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_WORKSPACE: process.cwd(),
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_STATE: files.state,
    GITHUB_API_URL: options.fake.url,
    RUNNER_TEMP: dir,
    RUNNER_TOOL_CACHE: toolCache,
    SLIMPY_MAX_RETRY_WAIT_MS: '1500',
    'INPUT_GITHUB-TOKEN': TOKEN,
    INPUT_COMMENT: 'auto',
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
