/**
 * runContainer and runSmoke against the real engine: hardening, deadlines, bounded output,
 * cleanup, the auto import check, and cold-start timing of two images.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type Dockerode from 'dockerode';
import { PassThrough } from 'node:stream';
import { pack } from 'tar-stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ContainerStartError, runContainer } from '../../src/engine/containers.js';
import { slimpyLabels } from '../../src/engine/labels.js';
import { runSmoke } from '../../src/smoke/smoke.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';

const FIXTURES = 'test/fixtures/smoke';
const WHEELS = 'examples/pyarrow-duckdb/wheels';
const runId = `smoke-test-${randomUUID().slice(0, 8)}`;
const labels = { ...slimpyLabels(runId), 'dev.slimpy.test': 'smoke' };
const docker: Dockerode = testDocker();

type Fixture =
  'venv' | 'no-pyc' | 'broken' | 'pruned' | 'entrypoint' | 'no-python' | 'no-shell' | 'bare';
const images = {} as Record<Fixture, string>;

/** Files under the fixture directory, plus the two wheels the venv image installs. */
function contextFiles(withWheels: boolean): Array<{ name: string; path: string }> {
  const files: Array<{ name: string; path: string }> = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files.push({ name: relative(FIXTURES, path), path });
    }
  };
  walk(FIXTURES);
  if (withWheels) {
    for (const wheel of readdirSync(WHEELS).filter((f) => /^(numpy|prometheus_client)-/.test(f))) {
      files.push({ name: `wheels/${wheel}`, path: join(WHEELS, wheel) });
    }
  }
  return files;
}

function contextTar(withWheels: boolean): NodeJS.ReadableStream {
  const tar = pack();
  for (const file of contextFiles(withWheels))
    tar.entry({ name: file.name }, readFileSync(file.path));
  tar.finalize();
  return tar.pipe(new PassThrough());
}

async function build(fixture: Fixture, buildargs: Record<string, string>): Promise<string> {
  const tag = `slimpy-test/smoke-${fixture}:${runId}`;
  const stream = await docker.buildImage(contextTar(fixture === 'venv'), {
    t: tag,
    dockerfile: `images/${fixture}.Dockerfile`,
    buildargs,
    labels,
    // The engine has no bridge network; nothing here needs one.
    networkmode: 'none',
    rm: true,
    forcerm: true,
  });
  type BuildEvent = { error?: string; stream?: string };
  const events = await new Promise<BuildEvent[]>((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null, result: BuildEvent[]) =>
      error ? reject(error) : resolve(result),
    ),
  );
  const failure = events.find((event) => event.error);
  if (failure) {
    const log = events.map((event) => event.stream ?? '').join('');
    throw new Error(`building ${fixture} failed: ${failure.error}\n${log}`);
  }
  return tag;
}

async function ourContainers(): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`dev.slimpy.run=${runId}`] } });
}

const skip = !!engineMissing();

describe.skipIf(skip)('runContainer and runSmoke on a real engine', () => {
  beforeAll(async () => {
    const base = baseImage();
    images.venv = await build('venv', { BASE: base });
    images['no-pyc'] = await build('no-pyc', { FROM_IMAGE: images.venv });
    images.broken = await build('broken', { FROM_IMAGE: images.venv });
    images.pruned = await build('pruned', { FROM_IMAGE: images.venv });
    for (const fixture of ['entrypoint', 'no-python', 'no-shell', 'bare'] as const) {
      images[fixture] = await build(fixture, { BASE: base });
    }
  });

  afterEach(async () => {
    // Every run removes its container, whatever happened to it.
    expect(await ourContainers()).toEqual([]);
  });

  afterAll(async () => {
    for (const container of await ourContainers()) {
      await docker.getContainer(container.Id).remove({ force: true });
    }
    const ours = await docker.listImages({
      filters: { label: [`dev.slimpy.run=${runId}`, 'dev.slimpy.test=smoke'] },
    });
    // Children first: some images are built on the venv image.
    for (const image of ours.sort((a, b) => b.Created - a.Created)) {
      await docker.getImage(image.Id).remove({ force: true });
    }
  });

  const sh = (script: string, extra: { timeoutMs?: number; maxOutputBytes?: number } = {}) =>
    runContainer(docker, {
      image: baseImage(),
      entrypoint: ['/bin/sh', '-c', script],
      timeoutMs: extra.timeoutMs ?? 60_000,
      labels,
      ...(extra.maxOutputBytes ? { maxOutputBytes: extra.maxOutputBytes } : {}),
    });

  describe('runContainer', () => {
    it('captures stdout and stderr and the exit code', async () => {
      const run = await sh('echo to-stdout; echo to-stderr >&2; exit 7');
      expect(run).toMatchObject({ exitCode: 7, timedOut: false });
      expect(run.output).toContain('to-stdout\n');
      expect(run.output).toContain('to-stderr\n');
      expect(run.durationMs).toBeGreaterThan(0);
    });

    it('kills a hanging command at the deadline and removes its container', async () => {
      const started = Date.now();
      const run = await runContainer(docker, {
        image: baseImage(),
        entrypoint: ['sleep', '600'],
        timeoutMs: 3000,
        labels,
      });
      expect(run).toMatchObject({ timedOut: true, exitCode: null });
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(await ourContainers()).toEqual([]);
    });

    it('keeps only the last maxOutputBytes of a command that prints more than 10 MB', async () => {
      const run = await sh('yes 0123456789abcdef | head -c 12000000; echo; echo THE-END', {
        maxOutputBytes: 4096,
      });
      expect(run.exitCode).toBe(0);
      expect(Buffer.byteLength(run.output)).toBeLessThanOrEqual(4096);
      expect(run.output.endsWith('THE-END\n')).toBe(true);
      expect(run.droppedBytes).toBeGreaterThan(11_000_000);
    });

    it('decodes invalid UTF-8 with replacement characters', async () => {
      const run = await sh("printf 'caf\\303\\251 \\377!'");
      expect(run.output).toBe('café \uFFFD!');
    });

    it('gives the container no network but loopback', async () => {
      const connect = await runContainer(docker, {
        image: baseImage(),
        entrypoint: [
          'python3',
          '-c',
          "import socket; socket.create_connection(('127.0.0.1', 9), timeout=5)",
        ],
        timeoutMs: 60_000,
        labels,
      });
      expect(connect.exitCode).not.toBe(0);
      expect(connect.output).toMatch(/ConnectionRefusedError|OSError/);

      const devices = await sh("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
      expect(devices.output.trim().split('\n')).toEqual(['lo']);
    });

    it('drops every capability, forbids new privileges and limits memory and processes', async () => {
      const run = await runContainer(docker, {
        image: baseImage(),
        entrypoint: [
          '/bin/sh',
          '-c',
          'grep -E "^(CapEff|NoNewPrivs):" /proc/self/status; ' +
            'echo "mem $(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"; ' +
            'echo "pids $(cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max)"',
        ],
        timeoutMs: 60_000,
        memoryBytes: 256 * 1024 * 1024,
        pidsLimit: 64,
        labels,
      });
      expect(run.output).toMatch(/^CapEff:\s+0000000000000000$/m);
      expect(run.output).toMatch(/^NoNewPrivs:\s+1$/m);
      expect(run.output).toContain(`mem ${256 * 1024 * 1024}\n`);
      expect(run.output).toContain('pids 64\n');
    });

    it('kills and removes the container when aborted, then rejects', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('stopped by the test')), 1500);
      await expect(
        runContainer(docker, {
          image: baseImage(),
          entrypoint: ['sleep', '600'],
          timeoutMs: 60_000,
          labels,
          signal: controller.signal,
        }),
      ).rejects.toThrow('stopped by the test');
      expect(await ourContainers()).toEqual([]);
    });

    it('reports a missing executable as a start error and removes the container', async () => {
      const error = await runContainer(docker, {
        image: baseImage(),
        entrypoint: ['no-such-program'],
        timeoutMs: 60_000,
        labels,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ContainerStartError);
      expect((error as ContainerStartError).executableMissing).toBe(true);
      expect((error as Error).message).toContain('no-such-program');
      expect(await ourContainers()).toEqual([]);
    });
  });

  describe('runSmoke', () => {
    const smoke = (before: string, command: string, more: { after?: string; runs?: number } = {}) =>
      runSmoke(docker, { before, command, timeoutMs: 120_000, runs: 0, labels, ...more });

    it('auto imports the modules of every installed distribution in the PATH venv', async () => {
      const { before, command } = await smoke(images.venv, 'auto');
      expect(before.passed).toBe(true);
      expect(before.exitCode).toBe(0);
      expect(before.command).toEqual(command);
      expect(before.output).toMatch(/^ok numpy \d+ms$/m);
      expect(before.output).toMatch(/^ok prometheus_client \d+ms$/m);
      // Derived from RECORD: a package inside a namespace directory, and a top-level module.
      expect(before.output).toMatch(/^ok shapes_ns\.inner \d+ms$/m);
      expect(before.output).toMatch(/^ok shapes_flat \d+ms$/m);
      // Not imported: tooling, private names, a stray top-level tests package.
      expect(before.output).not.toMatch(/^(ok|FAIL) (pip|setuptools|_shapes_private|tests)\b/m);
      expect(before.output).toMatch(/^slimpy: imported \d+ modules from \d+ distributions/m);
      // An optional dependency that is not installed is not the image's fault.
      expect(before.output).toContain(
        'skip optdep: needs slimpy_absent_optional_dependency, which is not installed',
      );
    });

    it('auto fails the slimmed image when a module needs a distribution slimming deleted', async () => {
      const { before, after } = await smoke(images.venv, 'auto', { after: images.pruned });
      expect(before.passed).toBe(true);
      expect(after).toMatchObject({ passed: false, exitCode: 1 });
      expect(after?.output).toContain(
        "FAIL appish: ModuleNotFoundError: No module named 'prometheus_client'",
      );
      // The module the original image skipped is still skipped, not blamed on slimming.
      expect(after?.output).toMatch(/^skip optdep: /m);
    });

    it('auto fails, naming the distribution, when an import raises', async () => {
      const { before } = await smoke(images.broken, 'auto');
      expect(before).toMatchObject({ passed: false, exitCode: 1, timedOut: false });
      expect(before.output).toContain('FAIL badpkg: RuntimeError: badpkg is broken on purpose');
      expect(before.output).toMatch(/^ok numpy \d+ms$/m);
      expect(before.output).toMatch(/^slimpy: 1 of \d+ modules failed to import: badpkg$/m);
    });

    it("runs the command even when the image's ENTRYPOINT would exit 3", async () => {
      const user = await smoke(images.entrypoint, `python3 -c 'print("smoke says hi")'`);
      expect(user.before).toMatchObject({ passed: true, exitCode: 0 });
      expect(user.before.output).toBe('smoke says hi\n');
      const auto = await smoke(images.entrypoint, 'auto');
      expect(auto.before.passed).toBe(true);
      expect(auto.before.output).toContain('nothing to import');
    });

    it('fails with "no Python in the image" when the image has a shell but no Python', async () => {
      const { before } = await smoke(images['no-python'], 'auto');
      expect(before).toMatchObject({ passed: false, exitCode: 127 });
      expect(before.output).toContain('no Python in the image');
    });

    it('runs without /bin/sh: auto execs python3, a plain command is split into words', async () => {
      const auto = await smoke(images['no-shell'], 'auto');
      expect(auto.before.passed).toBe(true);
      const user = await smoke(
        images['no-shell'],
        `python3 -c "import sys; print('major', sys.version_info[0])"`,
      );
      expect(user.before).toMatchObject({ passed: true, output: 'major 3\n' });
    });

    it('fails with "no Python in the image" when the image has neither a shell nor Python', async () => {
      const { before } = await smoke(images.bare, 'auto');
      expect(before).toMatchObject({ passed: false, exitCode: null, timedOut: false });
      expect(before.output).toContain('no Python in the image');
      // The engine's reason, not the 4 KB import program.
      expect(before.output).toMatch(/executable file not found|no such file/);
      expect(before.output.length).toBeLessThan(1000);
    });

    it('marks a smoke command that outlives its timeout', async () => {
      const { before } = await runSmoke(docker, {
        before: baseImage(),
        command: 'sleep 600',
        timeoutMs: 2000,
        labels,
      });
      expect(before).toMatchObject({ passed: false, timedOut: true, exitCode: null });
      expect(before.output).toContain('killed after 2000 ms');
    });

    it('times both images, interleaved, and reports the cold-start delta', async () => {
      const result = await smoke(images.venv, 'auto', { after: images['no-pyc'], runs: 3 });
      const { before, after } = result;
      expect(before.passed && after?.passed).toBe(true);
      expect(before.runsMs).toHaveLength(3);
      expect(after?.runsMs).toHaveLength(3);
      const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
      expect(before.medianMs).toBe(sorted(before.runsMs ?? [])[1]);
      expect(after?.medianMs).toBe(sorted(after?.runsMs ?? [])[1]);
      expect(result.coldStartDeltaMs).toBe((after?.medianMs ?? 0) - (before.medianMs ?? 0));
      // The spread: the wider of the two images' ranges (slowest − fastest run).
      const range = (xs: number[]) => Math.round(Math.max(...xs) - Math.min(...xs));
      expect(result.coldStartSpreadMs).toBe(
        Math.max(range(before.runsMs ?? []), range(after?.runsMs ?? [])),
      );
      // The first runs' output is what the report shows.
      expect(after?.output).toMatch(/^ok numpy \d+ms$/m);
    });

    it('stops after a failing original image: no slimmed run and no timing', async () => {
      const started = Date.now();
      const result = await smoke(images.broken, 'auto', { after: images.venv, runs: 5 });
      expect(result.before.passed).toBe(false);
      expect(result.after).toBeUndefined();
      expect(result.before.medianMs).toBeUndefined();
      expect(result.coldStartDeltaMs).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(30_000);
    });
  });
});
