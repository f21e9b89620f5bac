/**
 * The action in the workflows teams run, spawned as the runner runs it (`node dist/index.js`,
 * INPUT_* variables, event payloads, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files) against the GitHub
 * API fake and a loopback artifact service:
 * - `image:` takes the image an earlier step built: measure mode never calls the engine's build
 *   endpoint (read through a proxy in front of the engine's socket) and reports what a
 *   build-then-measure run reports; slim mode builds the slimmed variant only;
 * - a pull request from a fork: its `pull_request` run writes the comment as an artifact, the
 *   `workflow_run` run posts it with the base repository's token, and edits it the next round;
 *   a comment someone else started with slimpy's marker is never edited;
 * - a bad input value fails the step with an error naming the input.
 */
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeOwnObjects } from '../../src/engine/images.js';
import { commentMarker } from '../../src/report/markdown.js';
import {
  OWNER,
  PR,
  REPO,
  parseCommandFile,
  runnerEnvironment,
  startNode,
} from '../support/action-process.js';
import {
  startArtifactServiceFake,
  type ArtifactServiceFake,
} from '../support/artifact-service-fake.js';
import { startEngineProxy } from '../support/engine-proxy.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';
import {
  loadGitHubOpenApi,
  seedComments,
  startGitHubFake,
  type GitHubFake,
} from '../support/github-fake.js';

const TOKEN = 'ghs_workflowsE2eToken0000000000000000000';
/** The fork's head commit in pull_request.synchronize.fork.json. */
const FORK_HEAD = 'b7d3e1f9a5c2468e0d1b3f5a7c9e2d4f6a8b0c13';
const WHEELS = 'examples/pyarrow-duckdb/wheels';
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-workflows-'));
const nonce = `${process.pid}-${Date.now()}`;
let counter = 0;

interface Run {
  code: number | null;
  output: string;
  outputs: Record<string, string>;
  summary: string;
}

interface RunOptions {
  event?: 'pull_request' | 'push' | 'fork' | 'workflow_run';
  /** The payload to use instead of the event's fixture. */
  payload?: unknown;
  apiUrl?: string;
  env?: Record<string, string>;
}

const EVENT_FILES = {
  fork: 'pull_request.synchronize.fork.json',
  workflow_run: 'workflow_run.completed.fork.json',
} as const;

async function runAction(inputs: Record<string, string>, options: RunOptions = {}): Promise<Run> {
  const dir = path.join(work, `run-${counter++}`);
  const event = options.event ?? 'push';
  const { env, files } = runnerEnvironment(inputs, {
    dir,
    apiUrl: options.apiUrl ?? 'http://127.0.0.1:9',
    token: TOKEN,
    event: event === 'push' ? 'push' : 'pull_request',
    runnerTemp: path.join(work, 'runner-temp'),
    toolCache: path.join(work, 'tool-cache'),
  });
  if (event === 'fork' || event === 'workflow_run') {
    env.GITHUB_EVENT_NAME = event === 'fork' ? 'pull_request' : 'workflow_run';
    env.GITHUB_EVENT_PATH = path.resolve('test/fixtures/events', EVENT_FILES[event]);
  }
  if (options.payload !== undefined) {
    env.GITHUB_EVENT_PATH = path.join(dir, 'event.json');
    writeFileSync(env.GITHUB_EVENT_PATH, JSON.stringify(options.payload));
  }
  const finished = await startNode('dist/index.js', [], { ...env, ...options.env }).finished;
  return {
    code: finished.code,
    output: finished.output,
    outputs: parseCommandFile(readFileSync(files.output, 'utf8')),
    summary: readFileSync(files.summary, 'utf8'),
  };
}

/** A FROM-scratch context whose payload size is `bytes`, unique to this test run. */
function scratchContext(bytes: number): string {
  const context = path.join(work, `scratch-${counter++}`);
  cpSync('test/fixtures/pipeline/no-python', context, { recursive: true });
  writeFileSync(path.join(context, 'payload.bin'), Buffer.alloc(bytes, 7));
  writeFileSync(path.join(context, 'notes.txt'), `workflows e2e ${nonce}\n`);
  return context;
}

/**
 * A builder stage that unpacks one pure-Python wheel into a site-packages directory, which the
 * final stage copies: a Python environment slimpy slims, built in seconds (no venv, no pip).
 */
function pythonContext(): string {
  const context = path.join(work, `python-${counter++}`);
  mkdirSync(path.join(context, 'wheels'), { recursive: true });
  const wheel = readdirSync(WHEELS).find((name) => name.startsWith('prometheus_client-'));
  if (!wheel)
    throw new Error(`no prometheus_client wheel in ${WHEELS}; run scripts/fetch-wheels.sh`);
  copyFileSync(path.join(WHEELS, wheel), path.join(context, 'wheels', wheel));
  writeFileSync(
    path.join(context, 'Dockerfile'),
    [
      'ARG PYTHON_IMAGE',
      'FROM ${PYTHON_IMAGE} AS builder',
      'COPY wheels/ /tmp/wheels/',
      `RUN echo ${nonce} >/tmp/nonce && mkdir -p /opt/site-packages && cd /opt/site-packages \\`,
      // A tests directory for the prune to take (bytecode compiled on purpose would be kept).
      ' && python3 -m zipfile -e /tmp/wheels/prometheus_client-*.whl . && mkdir prometheus_client/tests \\',
      ' && head -c 200000 /dev/zero >prometheus_client/tests/test_data.py',
      'FROM ${PYTHON_IMAGE}',
      'COPY --from=builder /opt/site-packages /opt/site-packages',
      'ENV PYTHONPATH=/opt/site-packages',
      'CMD ["python3", "-c", "import prometheus_client"]',
      '',
    ].join('\n'),
  );
  return context;
}

const builds = (requests: string[]): string[] =>
  requests.filter((line) => /^POST \/v[\d.]+\/build\b|^POST \/build\b/.test(line));

describe.skipIf(engineMissing())('the action in real workflows', () => {
  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
    if (!engineMissing()) await removeOwnObjects(testDocker());
  });

  it('fails on a bad `comment` value with an error naming the input', async () => {
    const run = await runAction({ context: scratchContext(10), comment: 'alwyas' });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(
      /::error::Invalid `comment`: "alwyas" is not one of auto, always, never, artifact/,
    );
  });

  it('image: measure mode builds nothing and reports what building then measuring reports', async () => {
    const context = scratchContext(2_000_000);
    const built = await runAction({ context, mode: 'measure' });
    expect(built.code, built.output.slice(-3000)).toBe(0);
    const tag = { repo: 'slimpy-e2e/given', tag: `m-${counter}` };
    await testDocker().getImage(built.outputs['image-before']!).tag(tag);

    const proxy = await startEngineProxy(work, 'measure-given');
    try {
      const given = await runAction(
        { context, mode: 'measure', image: `${tag.repo}:${tag.tag}` },
        { env: { DOCKER_HOST: proxy.host } },
      );
      expect(given.code, given.output.slice(-3000)).toBe(0);
      expect(proxy.requests().length).toBeGreaterThan(0); // the run went through the proxy
      expect(builds(proxy.requests())).toEqual([]);
      for (const name of ['image-before', 'size-before', 'compressed-before', 'size-after'])
        expect(given.outputs[name], name).toBe(built.outputs[name]);
      const report = JSON.parse(readFileSync(given.outputs.report!, 'utf8')) as { image?: string };
      expect(report.image).toBe(`${tag.repo}:${tag.tag}`);
      expect(given.summary).toContain('(given, not built;');
      expect(given.output).not.toContain('::group::Build the image');
    } finally {
      proxy.process.kill();
      await testDocker()
        .getImage(`${tag.repo}:${tag.tag}`)
        .remove()
        .catch(() => undefined);
    }
  });

  it('image: one the engine does not have fails, saying how to build it there', async () => {
    const run = await runAction({
      context: scratchContext(10),
      mode: 'measure',
      image: `slimpy-e2e/absent:${nonce}`,
    });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(
      /::error::The image slimpy-e2e\/absent:\S+ given in `image` \(--image\) is not in this engine\. Build it in an earlier step/,
    );
  });

  it('image: slim mode builds only the slimmed variant', async () => {
    const context = pythonContext();
    const buildArgs = `PYTHON_IMAGE=${baseImage()}`;
    const common = { context, 'build-args': buildArgs, network: 'host' };
    const built = await runAction({ ...common, mode: 'measure' });
    expect(built.code, built.output.slice(-3000)).toBe(0);

    const proxy = await startEngineProxy(work, 'slim-given');
    try {
      const slimmed = await runAction(
        // No strip: installing binutils in the build costs minutes and proves nothing here.
        { ...common, mode: 'slim', strip: 'false', image: built.outputs['image-before']! },
        { env: { DOCKER_HOST: proxy.host } },
      );
      expect(slimmed.code, slimmed.output.slice(-3000)).toBe(0);
      expect(builds(proxy.requests())).toHaveLength(1);
      expect(slimmed.outputs['image-before']).toBe(built.outputs['image-before']);
      expect(Number(slimmed.outputs['size-after'])).toBeLessThan(
        Number(slimmed.outputs['size-before']),
      );
    } finally {
      proxy.process.kill();
    }
  });

  describe('a pull request from a fork', () => {
    const KEY = 'fork-image';
    const marker = commentMarker(KEY);
    let github: GitHubFake;
    let store: ArtifactServiceFake;

    beforeAll(async () => {
      await loadGitHubOpenApi();
      store = await startArtifactServiceFake();
      github = await startGitHubFake({
        token: TOKEN,
        handlers: store.githubHandlers,
        pulls: [
          {
            owner: OWNER,
            repo: REPO,
            number: PR,
            headSha: FORK_HEAD,
            headRepository: 'contributor/millpond',
          },
        ],
        // Someone started a comment with slimpy's marker: it must stay as it is.
        comments: seedComments({ owner: OWNER, repo: REPO, issueNumber: PR }, 2, {
          1: { body: `${marker}\nnot slimpy's`, login: 'octocat' },
        }),
      });
    });

    afterAll(async () => {
      await github?.close();
      await store?.close();
    });

    /** The pull_request run (workflow run `runId`), then the workflow_run run that posts. */
    async function round(runId: number, payloadBytes: number) {
      const measured = await runAction(
        {
          context: scratchContext(payloadBytes),
          mode: 'measure',
          comment: 'artifact',
          'comment-key': KEY,
        },
        { event: 'fork', apiUrl: github.url, env: store.runEnv(runId) },
      );
      expect(measured.code, measured.output.slice(-3000)).toBe(0);
      const fixture = JSON.parse(
        readFileSync(path.resolve('test/fixtures/events', EVENT_FILES.workflow_run), 'utf8'),
      ) as { workflow_run: { id: number } };
      fixture.workflow_run.id = runId;
      const posted = await runAction(
        { mode: 'post-comment' },
        {
          event: 'workflow_run',
          payload: fixture,
          apiUrl: github.url,
          env: store.runEnv(runId + 100),
        },
      );
      expect(posted.code, posted.output.slice(-3000)).toBe(0);
      return { measured, posted };
    }

    it('mode: post-comment anywhere but a workflow_run event fails, saying where it runs', async () => {
      const run = await runAction({ mode: 'post-comment' }, { event: 'fork', apiUrl: github.url });
      expect(run.code).toBe(1);
      expect(run.output).toMatch(
        /::error::`mode: post-comment` posts the comment .* `workflow_run`/,
      );
    });

    const ours = () =>
      github.comments(OWNER, REPO, PR).filter((c) => c.user.login === 'github-actions[bot]');

    it('the pull_request run writes the comment as an artifact; the workflow_run run posts it', async () => {
      const { measured, posted } = await round(9001, 1_000_000);
      expect(github.requests.filter((r) => r.method !== 'GET').length).toBe(1); // the post only
      const artifact = store.artifacts().find((a) => a.runId === 9001);
      expect(artifact?.name).toMatch(/^slimpy-comment-fork-image-[0-9a-f]{8}\.json$/);
      const body = measured.outputs['comment-body']!;
      expect(body.startsWith(marker)).toBe(true);
      expect(measured.outputs['comment-url']).toBe('');
      expect(ours().map((c) => c.body)).toEqual([body]);
      expect(posted.outputs['comment-url']).toBe(ours()[0]!.html_url);
      expect(github.comments(OWNER, REPO, PR)[1]?.body).toBe(`${marker}\nnot slimpy's`);
      expect(github.violations).toEqual([]);
    });

    it('the next round edits the same comment (sticky), and the foreign one stays', async () => {
      const before = ours();
      const { measured } = await round(9002, 1_500_000);
      const after = ours();
      expect(after).toHaveLength(1);
      expect(after[0]!.id).toBe(before[0]!.id);
      expect(after[0]!.body).toBe(measured.outputs['comment-body']);
      expect(after[0]!.body).not.toBe(before[0]!.body);
      expect(github.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
      expect(github.comments(OWNER, REPO, PR)[1]?.body).toBe(`${marker}\nnot slimpy's`);
      expect(github.violations).toEqual([]);
    });
  });
});
