/**
 * Hardening, end to end: every bad input and fault ends with a clear outcome. The action is
 * spawned as the runner spawns it (`node dist/index.js`, then `node dist/post.js`), the CLI as a
 * terminal does, against the real engine, a GitHub API fake and an Actions cache fake on loopback.
 * docs/hardening.md lists each situation with the test here that proves it.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeOwnObjects } from '../../src/engine/images.js';
import { workspacePath } from '../../src/model/workspace.js';
import { formatBytes } from '../../src/report/format.js';
import { commentMarker } from '../../src/report/markdown.js';
import {
  actionHarness,
  OWNER,
  PR,
  REPO,
  runIdOf,
  startPost,
  waitFor,
} from '../support/action-process.js';
import { startCacheServiceFake } from '../support/cache-service-fake.js';
import { startEngineProxy } from '../support/engine-proxy.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';
import { loadGitHubOpenApi, startGitHubFake, type GitHubFake } from '../support/github-fake.js';

const TOKEN = 'ghs_hardeningToken0000000000000000000000';
const SECRET = `s3cr3t-${randomUUID()}`;
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-hardening-'));
const WHEELS = 'examples/pyarrow-duckdb/wheels';
const docker = testDocker();
let fake: GitHubFake;
let counter = 0;
const { startAction, action, started, runnerTemp } = actionHarness({
  work,
  token: TOKEN,
  apiUrl: () => fake.url,
});

async function objectsOf(runId: string): Promise<{ containers: string[]; images: string[] }> {
  const label = [`dev.slimpy.run=${runId}`];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  const images = await docker.listImages({ filters: { label } });
  return { containers: containers.map((c) => c.Id), images: images.map((i) => i.Id) };
}

/** A build context of its own: a Dockerfile and, for a Python image, one small local wheel. */
function context(name: string, dockerfile: string, withWheel = false): string {
  const dir = path.join(work, 'contexts', `${name}-${counter++}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  if (withWheel) {
    const wheel = readdirSync(WHEELS).find((file) => file.startsWith('prometheus_client-'));
    if (!wheel)
      throw new Error(`no prometheus_client wheel in ${WHEELS}: run scripts/fetch-wheels.sh`);
    copyFileSync(path.join(WHEELS, wheel), path.join(dir, wheel));
  }
  return dir;
}

/** The no-Python fixture with its 1 MB payload: a FROM scratch image that builds in a second. */
function noPythonContext(): string {
  const dir = path.join(work, 'contexts', `no-python-${counter++}`);
  cpSync('test/fixtures/pipeline/no-python', dir, { recursive: true });
  writeFileSync(path.join(dir, 'payload.bin'), Buffer.alloc(1_000_000, 5));
  return dir;
}

/** A small Python image that slimpy slims in the installing RUN. */
const PYTHON_DOCKERFILE = [
  'ARG PYTHON_IMAGE',
  'FROM ${PYTHON_IMAGE}',
  'ARG API_TOKEN',
  'COPY *.whl /tmp/',
  // The token is used, as a private index's would be: BuildKit then records it in the history.
  'RUN test -n "$API_TOKEN" && python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-index --no-cache-dir /tmp/*.whl',
  'ENV PATH=/opt/venv/bin:$PATH',
  '',
].join('\n');

function pythonInputs(smoke: string): Record<string, string> {
  return {
    context: context('python', PYTHON_DOCKERFILE, true),
    network: 'none',
    'build-args': `PYTHON_IMAGE=${baseImage()}\nAPI_TOKEN=${SECRET}`,
    'smoke-test': smoke,
  };
}

/** A RUN that takes `seconds` and prints a marker first; NONCE keeps the build cache out of it. */
function slowContext(seconds: number): { dir: string; nonce: string } {
  const nonce = randomUUID().slice(0, 8);
  const dir = context(
    'slow',
    `ARG BASE\nFROM \${BASE}\nARG NONCE\nRUN echo "started-$NONCE" && sleep ${seconds} && echo finished\n`,
  );
  return { dir, nonce };
}

/** sha256 over every file's path, mode and bytes under `dir`. */
function treeHash(dir: string): string {
  const hash = createHash('sha256');
  const walk = (current: string): void => {
    for (const entry of readdirSync(current).sort()) {
      const full = path.join(current, entry);
      const info = statSync(full);
      hash.update(`${path.relative(dir, full)}\0${info.mode}\0`);
      if (info.isDirectory()) walk(full);
      else hash.update(readFileSync(full));
    }
  };
  walk(dir);
  return hash.digest('hex');
}

const stdoutWithoutMasks = (output: string): string =>
  output
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');

beforeAll(async () => {
  if (engineMissing()) return;
  mkdirSync(runnerTemp, { recursive: true });
  await loadGitHubOpenApi();
  fake = await startGitHubFake({ token: TOKEN });
});

afterAll(async () => {
  await fake?.close();
  if (!engineMissing()) {
    for (const files of started) {
      const runId = runIdOf(files);
      if (runId) await removeOwnObjects(docker, runId);
    }
  }
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(engineMissing())(
  'errors the engine finds: exit 1, an annotation on the line',
  () => {
    it('a syntax error the engine finds gets an annotation on its line', async () => {
      const dir = context('syntax', 'FROM scratch\nCOPY Dockerfile /Dockerfile\nRUNN echo hi\n');
      const run = await action({ context: dir, mode: 'measure', network: 'none' });
      expect(run.code).toBe(1);
      // As the runner's workspace names it (a file outside it keeps its absolute path).
      const file = workspacePath(process.cwd(), path.join(dir, 'Dockerfile')).replace(
        /[.*+?^${}()|[\]\\]/g,
        '\\$&',
      );
      expect(run.output).toMatch(
        new RegExp(
          `::error file=${file},line=3::The image build failed: .*unknown instruction: RUNN`,
        ),
      );
    });

    it('a failing RUN: the instruction, the log tail and an annotation on its line', async () => {
      const run = await action({
        context: 'test/fixtures/engine/failing-run',
        mode: 'measure',
        network: 'none',
        'build-args': `PYTHON_IMAGE=${baseImage()}`,
      });
      expect(run.code).toBe(1);
      expect(run.output).toMatch(
        /::error file=test\/fixtures\/engine\/failing-run\/Dockerfile,line=4::The image build failed at `\[\d\/\d\] RUN echo "about to fail" && exit 7`/,
      );
      const failure = run.output.split('\n').find((line) => line.startsWith('::error::'));
      expect(failure).toContain('Last lines of the build log:%0A');
      expect(failure).toContain('about to fail');
    });
  },
);

describe.skipIf(engineMissing())('the engine: gone, hung', () => {
  it('a socket that accepts and never answers: unreachable after SLIMPY_ENGINE_TIMEOUT_MS, no hang', async () => {
    const proxy = await startEngineProxy(work, `engine-${counter++}`);
    proxy.process.kill('SIGUSR1');
    try {
      const run = await action(
        { context: 'test/fixtures/pipeline/no-python', mode: 'measure' },
        { env: { DOCKER_HOST: proxy.host, SLIMPY_ENGINE_TIMEOUT_MS: '2000' } },
      );
      expect(run.code).toBe(1);
      expect(run.output).toContain(
        `No Docker engine answers at ${proxy.host} (no answer within 2 s)`,
      );
      expect(run.elapsedMs).toBeLessThan(20_000);
    } finally {
      proxy.process.kill('SIGKILL');
    }
  });

  it.each([
    ['stops (its socket closes)', 'SIGKILL', '(aborted)'],
    ['hangs (stops answering)', 'SIGUSR1', '(no answer to a ping within 3 s)'],
  ] as const)('mid-build, the engine %s: a clear error, no hang', async (_what, signal, cause) => {
    const proxy = await startEngineProxy(work, `engine-${counter++}`);
    const { dir, nonce } = slowContext(12);
    const run = startAction(
      {
        context: dir,
        mode: 'measure',
        network: 'none',
        'build-args': `BASE=${baseImage()}\nNONCE=${nonce}`,
      },
      { env: { DOCKER_HOST: proxy.host, SLIMPY_ENGINE_TIMEOUT_MS: '3000' } },
    );
    try {
      await waitFor(
        'the RUN to start',
        () => run.running.output().includes(`started-${nonce}`),
        120_000,
      );
      const lostAt = Date.now();
      proxy.process.kill(signal);
      const finished = await run.running.finished;
      expect(finished.code).toBe(1);
      expect(Date.now() - lostAt).toBeLessThan(15_000);
      expect(finished.output).toContain(
        `::error::Lost the Docker engine at ${proxy.host} during "Build the image" ${cause}`,
      );
      expect(finished.output).toContain(
        'Check it (`docker info`, the engine log) and run slimpy again',
      );
    } finally {
      proxy.process.kill('SIGKILL');
      const runId = runIdOf(run.files);
      // A hung engine finished the build on its own; what it made carries this run's label.
      if (runId) {
        await new Promise((resolve) => setTimeout(resolve, signal === 'SIGUSR1' ? 15_000 : 0));
        await removeOwnObjects(docker, runId);
      }
    }
  });
});

describe.skipIf(engineMissing())('the smoke test', () => {
  it('broken before slimming: no culprit search; summary and comment keep the sizes and the output', async () => {
    const github = await startGitHubFake({ token: TOKEN });
    try {
      const run = await action(pythonInputs('echo smoke-said-this; exit 3'), {
        event: 'pull_request',
        apiUrl: github.url,
      });
      expect(run.code, run.output.slice(-3000)).toBe(1);
      expect(run.output).toContain(
        '::error::The smoke test is broken before slimming: it fails on the original image (exit 3), so slimpy did not look for a culprit.',
      );
      expect(run.output).not.toContain('Find what breaks the smoke test');
      expect(run.output).not.toContain('Trying without');
      const size = formatBytes(Number(run.outputs['size-before']));
      expect(Number(run.outputs['size-before'])).toBeGreaterThan(0);
      const comment = github.comments(OWNER, REPO, PR)[0]?.body ?? '';
      for (const body of [run.summary, comment]) {
        expect(body).toContain('fails on the original image');
        expect(body).toContain(size);
        expect(body).toContain('smoke-said-this');
      }
      expect(github.violations).toEqual([]);
    } finally {
      await github.close();
    }
  });

  it('hangs: killed at smoke-timeout, its container removed; the post step removes the images', async () => {
    const run = startAction({ ...pythonInputs('sleep 600'), 'smoke-timeout': '3s' });
    const finished = await run.running.finished;
    expect(finished.code, finished.output.slice(-3000)).toBe(1);
    expect(finished.output).toContain(
      'it fails on the original image (it did not finish within `smoke-timeout` and was killed)',
    );
    expect(finished.output).toContain('killed after 3000 ms (smoke-test timeout)');
    const runId = runIdOf(run.files)!;
    expect((await objectsOf(runId)).containers).toEqual([]);
    expect((await objectsOf(runId)).images.length).toBeGreaterThan(0);
    const post = await startPost(run.env, run.files).finished;
    expect(post.code).toBe(0);
    expect(await objectsOf(runId)).toEqual({ containers: [], images: [] });
  });
});

describe.skipIf(engineMissing())('cancellation and the post step', () => {
  let bystander: { container: Dockerode.Container; image: string };

  beforeAll(async () => {
    // An unlabelled container and image of someone else's on the same engine.
    const container = await docker.createContainer({
      Image: baseImage(),
      Cmd: ['true'],
      HostConfig: { NetworkMode: 'none' },
    });
    const committed = (await container.commit({ comment: 'not slimpy' })) as { Id: string };
    bystander = { container, image: committed.Id };
  });

  afterAll(async () => {
    await bystander?.container.remove({ force: true }).catch(() => undefined);
    if (bystander)
      await docker
        .getImage(bystander.image)
        .remove({ force: true })
        .catch(() => undefined);
  });

  async function bystanderSurvives(): Promise<void> {
    await expect(bystander.container.inspect()).resolves.toBeTruthy();
    await expect(docker.getImage(bystander.image).inspect()).resolves.toBeTruthy();
  }

  async function smokeContainer(
    run: ReturnType<typeof startAction>,
  ): Promise<Dockerode.ContainerInspectInfo> {
    const runId = await waitFor('the run id', () => runIdOf(run.files), 30_000);
    return waitFor(
      'the smoke-test container',
      async () => {
        const [id] = (await objectsOf(runId)).containers;
        const info = id
          ? await docker
              .getContainer(id)
              .inspect()
              .catch(() => undefined)
          : undefined;
        return info?.State.Running ? info : undefined;
      },
      300_000,
    );
  }

  it('SIGTERM during the smoke test: exit 143, this run’s containers and images removed, nothing else', async () => {
    const run = startAction(pythonInputs('sleep 600'));
    const smoking = await smokeContainer(run);
    // The smoke container, inspected while it runs: hardened as documented.
    expect(smoking.HostConfig).toMatchObject({
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Memory: 2 * 1024 ** 3,
      PidsLimit: 512,
    });
    const runId = runIdOf(run.files)!;
    expect((await objectsOf(runId)).images.length).toBeGreaterThan(0);
    run.running.child.kill('SIGTERM');
    const finished = await run.running.finished;
    expect(finished.code).toBe(143);
    expect(finished.output).toContain(
      'SIGTERM received; stopping and removing the containers and images of this run',
    );
    expect(finished.output).toMatch(/Removed \d+ container\(s\) and [1-9]\d* image\(s\) of run/);
    expect(await objectsOf(runId)).toEqual({ containers: [], images: [] });
    await bystanderSurvives();
  });

  it('SIGINT during the build: exit 130, the build cancelled, no image of the run left', async () => {
    const { dir, nonce } = slowContext(8);
    const run = startAction({
      context: dir,
      mode: 'measure',
      network: 'none',
      'build-args': `BASE=${baseImage()}\nNONCE=${nonce}`,
    });
    await waitFor(
      'the RUN to start',
      () => run.running.output().includes(`started-${nonce}`),
      120_000,
    );
    run.running.child.kill('SIGINT');
    const finished = await run.running.finished;
    expect(finished.code).toBe(130);
    // Past the point where the RUN would have finished: the engine did not commit it after all.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    expect(await objectsOf(runIdOf(run.files)!)).toEqual({ containers: [], images: [] });
    await bystanderSurvives();
  });

  it('SIGKILL during the smoke test: the post step removes what main left, and nothing else', async () => {
    const run = startAction(pythonInputs('sleep 600'));
    await smokeContainer(run);
    const runId = runIdOf(run.files)!;
    run.running.child.kill('SIGKILL');
    await run.running.finished;
    const left = await objectsOf(runId);
    expect(left.containers).toHaveLength(1);
    expect(left.images.length).toBeGreaterThan(0);
    const post = await startPost(run.env, run.files).finished;
    expect(post.code).toBe(0);
    expect(post.output).toContain(
      `slimpy cleanup: removed 1 container(s) and ${left.images.length} image(s) of run ${runId}`,
    );
    expect(await objectsOf(runId)).toEqual({ containers: [], images: [] });
    await bystanderSurvives();
  });
});

describe.skipIf(engineMissing())('output that is too big or too strange', () => {
  it('a RUN printing 300 MB: the action’s memory stays bounded', async () => {
    const nonce = randomUUID().slice(0, 8);
    const dir = context(
      'big-log',
      `ARG BASE\nFROM \${BASE}\nARG NONCE\nRUN yes 0123456789abcdef | head -c 300000000 && echo "end-$NONCE"\n`,
    );
    const run = await action({
      context: dir,
      mode: 'measure',
      network: 'none',
      'compressed-size': 'false',
      'build-args': `BASE=${baseImage()}\nNONCE=${nonce}`,
    });
    expect(run.code, run.output.slice(-3000)).toBe(0);
    expect(run.peakRssKiB).toBeGreaterThan(0);
    expect(run.peakRssKiB).toBeLessThan(400 * 1024);
    await removeOwnObjects(docker, runIdOf(run.files)!);
  });

  it('markdown, HTML and non-UTF-8 file names in the image: measured, and escaped in the comment and summary', async () => {
    const github = await startGitHubFake({ token: TOKEN });
    const names = [
      '<img src=x onerror=alert(1)>.bin',
      '| cell | **bold** [link](javascript:alert(1)) @octocat #1.bin',
      '$(printf "\\377\\376-caf\\351.bin")',
    ];
    const dir = context(
      'names',
      [
        'ARG BASE',
        'FROM ${BASE}',
        'RUN mkdir /data && cd /data && ' +
          names
            .map(
              (name, i) =>
                `head -c ${3_000_000 + i} /dev/zero > ${name.startsWith('$') ? `"${name}"` : `'${name}'`}`,
            )
            .join(' && '),
        '',
      ].join('\n'),
    );
    try {
      const run = await action(
        { context: dir, mode: 'measure', network: 'none', 'build-args': `BASE=${baseImage()}` },
        { event: 'pull_request', apiUrl: github.url },
      );
      expect(run.code, run.output.slice(-3000)).toBe(0);
      const report = JSON.parse(readFileSync(run.outputs.report!, 'utf8')) as {
        before: { largestFiles: Array<{ path: string }> };
      };
      const paths = report.before.largestFiles.map((file) => file.path);
      expect(paths).toContain('/data/<img src=x onerror=alert(1)>.bin');
      expect(paths).toContain(
        '/data/| cell | **bold** [link](javascript:alert(1)) @octocat #1.bin',
      );
      expect(paths.some((p) => p.startsWith('/data/') && p.endsWith('-caf\uFFFD.bin'))).toBe(true);
      const comment = github.comments(OWNER, REPO, PR)[0]?.body ?? '';
      for (const body of [run.summary, comment]) {
        expect(body).toContain(commentMarker(path.join(dir, 'Dockerfile')));
        expect(body).not.toContain('<img');
        expect(body).not.toContain('**bold**');
        expect(body).not.toContain('@octocat');
        expect(body).toContain('&lt;img src=x onerror=alert(1)&gt;.bin');
      }
      expect(github.violations).toEqual([]);
      await removeOwnObjects(docker, runIdOf(run.files)!);
    } finally {
      await github.close();
    }
  });
});

describe.skipIf(engineMissing())('GitHub API faults', () => {
  it('5xx on every call: bounded retries, a warning, the job passes with the summary', async () => {
    const github = await startGitHubFake({
      token: TOKEN,
      faults: [{ operationId: 'issues/list-comments', kind: 'server-error', times: Infinity }],
    });
    try {
      const run = await action(
        { context: noPythonContext(), mode: 'measure' },
        { event: 'pull_request', apiUrl: github.url },
      );
      expect(run.code, run.output.slice(-3000)).toBe(0);
      expect(run.output).toContain('::warning::Posting the PR comment failed: ');
      expect(run.summary).toContain('<!-- slimpy:');
      expect(run.outputs['comment-url']).toBe('');
      // One request and three retries with backoff, then it gives up.
      const listing = github.requests.filter((r) => r.operationId === 'issues/list-comments');
      expect(listing.map((r) => r.status)).toEqual([502, 502, 502, 502]);
    } finally {
      await github.close();
    }
  });
});

describe.skipIf(engineMissing())('invariants', () => {
  it('tokens and secret build args reach no log line, report, comment, summary or history entry', async () => {
    const github = await startGitHubFake({ token: TOKEN });
    const cache = await startCacheServiceFake();
    try {
      const run = await action(pythonInputs('python -c "import prometheus_client"'), {
        event: 'pull_request',
        apiUrl: github.url,
        env: cache.env,
      });
      expect(run.code, run.output.slice(-3000)).toBe(0);
      // The runner masks what the action registers; the action never prints either itself.
      expect(run.output).toContain(`::add-mask::${TOKEN}`);
      expect(run.output).toContain(`::add-mask::${SECRET}`);
      const published = {
        stdout: stdoutWithoutMasks(run.output),
        summary: run.summary,
        report: readFileSync(run.outputs.report!, 'utf8'),
        patch: readFileSync(run.outputs.patch!, 'utf8'),
        comments: github.requests.map((r) => JSON.stringify(r.body ?? '')).join('\n'),
        history: cache
          .entries()
          .map((entry) => {
            const archive = cache.archive(entry.key) ?? Buffer.alloc(0);
            return archive[0] === 0x1f
              ? gunzipSync(archive).toString('latin1')
              : execFileSync('zstd', ['-dc'], { input: archive }).toString('latin1');
          })
          .join('\n'),
      };
      // The secret was there to leak: BuildKit put it in the layer's history.
      expect(published.report).toContain('API_TOKEN=***');
      expect(published.history).toContain('"buildArgNames":["API_TOKEN","PYTHON_IMAGE"]');
      expect(github.comments(OWNER, REPO, PR)).toHaveLength(1);
      for (const [where, text] of Object.entries(published)) {
        expect(text, where).not.toContain(SECRET);
        expect(text, where).not.toContain(TOKEN);
      }
      await removeOwnObjects(docker, runIdOf(run.files)!);
    } finally {
      await cache.close();
      await github.close();
    }
  });

  it('a slim run of the example leaves the workspace as it was and keeps the delivered images', async () => {
    const example = 'examples/pyarrow-duckdb';
    const status = (): string =>
      execFileSync('git', ['status', '--porcelain', '--ignored', '--', example], {
        encoding: 'utf8',
      });
    const [hashBefore, statusBefore] = [treeHash(example), status()];
    const run = await action({
      context: example,
      network: 'host',
      'build-args': `PYTHON_IMAGE=${baseImage()}`,
      'smoke-test': 'python -c "import duckdb, pyarrow, numpy, prometheus_client" && python -m app',
    });
    expect(run.code, run.output.slice(-3000)).toBe(0);
    expect(Number(run.outputs['size-after'])).toBeLessThan(Number(run.outputs['size-before']));
    expect(treeHash(example)).toBe(hashBefore);
    expect(status()).toBe(statusBefore);
    expect(existsSync(path.join(example, '.slimpy'))).toBe(false);
    // Outputs live in RUNNER_TEMP, never in the checkout.
    expect(run.outputs.report!.startsWith(runnerTemp)).toBe(true);
    expect(run.outputs.patch!.startsWith(runnerTemp)).toBe(true);
    // The post step removes the run's intermediate images and keeps the two the user gets.
    const runId = runIdOf(run.files)!;
    const post = await startPost(run.env, run.files).finished;
    expect(post.code).toBe(0);
    const left = (await objectsOf(runId)).images.sort();
    expect(left).toEqual([run.outputs['image-before']!, run.outputs['image-after']!].sort());
    await removeOwnObjects(docker, runId);
  });
});
