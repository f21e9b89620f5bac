/**
 * The smoke-test trace against the real engine (docs/trace.md): what it sees (a dlopen, a
 * subprocess, an import by a computed name) as a non-root user with every capability dropped, in
 * an image with nothing but Python, where it cannot run, and the restore-by-distribution search
 * that repairs `prune: all,unused` when the smoke test takes a path the trace did not see.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '../../src/engine/build.js';
import { createContextTar } from '../../src/engine/context.js';
import { removeOwnObjects } from '../../src/engine/images.js';
import { slimpyLabels } from '../../src/engine/labels.js';
import { readSettings } from '../../src/inputs.js';
import { measureImage } from '../../src/measure/sizes.js';
import { runSession } from '../../src/session.js';
import { parseManifest } from '../../src/slim/manifest.js';
import { pruneScriptArgs, pruneScriptText } from '../../src/slim/script.js';
import { runTracedSmoke } from '../../src/smoke/trace.js';
import { pythonEnvironments, traceUsage, type ImageFiles } from '../../src/smoke/usage.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';
import { collectingHooks, testHost } from '../support/hooks.js';

const FIXTURE = 'test/fixtures/trace';
const SITE = '/opt/venv/lib/python3.11/site-packages';
const docker = testDocker();
const runId = `test-trace-${process.pid}`;
const labels = slimpyLabels(runId);
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-trace-'));
const images = { app: '', noShell: '' };

async function build(
  dockerfile: string,
  buildArgs: Record<string, string>,
  tag?: string,
): Promise<string> {
  const context = await createContextTar(FIXTURE, { dockerfile, builder: 'buildkit' });
  return buildImage(docker, {
    ...(tag ? { tag } : {}),
    context: context.stream,
    dockerfile: context.dockerfileInContext,
    buildArgs,
    network: 'none',
    // BuildKit: the classic builder would leave the builder stage behind as an unlabelled image.
    builder: 'buildkit',
    labels,
    onLine: () => undefined,
  });
}

function settingsFor(inputs: Record<string, string>, context: string) {
  return readSettings((name) => inputs[name] ?? '', {
    workspace: context,
    outputDir: path.join(work, 'out', path.basename(context)),
    cacheDir: path.join(work, 'layer-cache'),
    runId,
  });
}

async function traceOf(image: string, command: string) {
  const measured = await measureImage(docker, image, { compressed: false, baseImage: baseImage() });
  const files: ImageFiles = {
    files: measured.files,
    baseLayers: measured.measurement.layers.filter((layer) => layer.base).length,
  };
  const environments = pythonEnvironments(files);
  const traced = await runTracedSmoke(docker, {
    before: image,
    command,
    timeoutMs: 120_000,
    labels,
    environments,
  });
  if (traced.trace.status !== 'traced') throw new Error(`not traced: ${traced.trace.reason}`);
  return {
    ...traced,
    output: traced.trace.output,
    usage: traceUsage(files, environments, traced.trace.output),
  };
}

beforeAll(async () => {
  if (engineMissing()) return;
  // BuildKit takes FROM by name: an image id would be looked up in a registry.
  const app = `slimpy-test/trace-app:${runId}`;
  images.app = await build('Dockerfile', { BASE: baseImage() }, app);
  images.noShell = await build('no-shell.Dockerfile', { FROM_IMAGE: app });
});

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  if (!engineMissing()) await removeOwnObjects(docker, runId);
});

describe.skipIf(engineMissing())('the smoke-test trace', () => {
  it('sees a dlopen, a subprocess and an import by a computed name, as a non-root user', async () => {
    const { run, output, usage } = await traceOf(images.app, 'python3 /app/smoke.py');
    expect(run.passed).toBe(true);
    expect(run.output).toContain('trace fixture ok, uid 65534');
    expect(output.paths).toContain(`${SITE}/natlib/libdemo.so`);
    expect(output.paths).toContain(`${SITE}/childonly/__init__.py`);
    expect(output.paths).toContain(`${SITE}/plugin_a/__init__.py`);
    expect(output.paths).not.toContain(`${SITE}/plugin_b/__init__.py`);
    // the shell, the app's Python and the subprocess's Python
    expect(output.processes).toBeGreaterThanOrEqual(3);
    expect(usage.kept).toEqual(
      expect.arrayContaining([
        'natlib/libdemo.so',
        'childonly/__init__.py',
        'plugin_a/__init__.py',
      ]),
    );
    expect(usage.kept).not.toContain('plugin_b/__init__.py');
    expect(usage.report.packages.map((p) => p.name)).toContain('plugin-b');
  });

  it('runs in an image with nothing but Python: no shell, no utilities', async () => {
    const { run, attempt, output } = await traceOf(images.noShell, 'python3 /app/smoke.py');
    expect(run.passed).toBe(true);
    expect(attempt).toBe(1); // /bin/sh is gone: the shell-free start attempt ran
    expect(output.paths).toContain(`${SITE}/natlib/libdemo.so`);
  });

  it('a run goes on when the trace cannot: the report says why', async () => {
    const context = path.join(work, 'no-python');
    cpSync(path.join(FIXTURE, 'no-python'), context, { recursive: true });
    const { report } = await runSession(
      settingsFor(
        {
          context,
          'build-args': `BASE=${baseImage()}`,
          network: 'none',
          'smoke-test': 'test -d /usr',
          'compressed-size': 'false',
        },
        context,
      ),
      testHost(collectingHooks().hooks),
    );
    expect(report.smoke?.before.passed).toBe(true);
    expect(report.trace?.status).toBe('unavailable');
    expect(report.trace?.reason).toContain('neither python3 nor python');
  });

  it('prune all,unused: restores the one distribution the trace missed, in at most 1 + ceil(log2 n) builds', async () => {
    const context = path.join(work, 'app');
    cpSync(FIXTURE, context, { recursive: true });
    const { hooks, logs } = collectingHooks();
    const { report } = await runSession(
      settingsFor(
        {
          context,
          'build-args': `BASE=${baseImage()}`,
          'smoke-test': 'python3 /app/smoke.py --hidden',
          network: 'none',
          prune: 'all,unused',
          strip: 'false',
          'compressed-size': 'false',
        },
        context,
      ),
      testHost(hooks),
    );
    expect(report.trace?.status).toBe('traced');
    expect(report.slim?.restored).toEqual(['hidden']);
    expect(report.slim?.variant.prune).toContain('unused');
    expect(report.smoke?.after?.passed).toBe(true);
    const builds = logs.filter((line) => line.startsWith('Trying `unused` with')).length;
    const n = 8; // every fixture distribution loses a file the test never opened
    expect(builds).toBeLessThanOrEqual(1 + Math.ceil(Math.log2(n)));
    expect(report.slim?.savings.find((s) => s.category === 'unused')?.files).toBeGreaterThan(0);
    expect(report.after!.size).toBeLessThan(report.before.size);
  });
});

describe('prune.sh with a trace, under dash and busybox', () => {
  const files: Record<string, string> = {
    'app/__init__.py': 'x = 1',
    'app/with space.py': 'x = 2',
    'app/other.py': 'x = 3',
    'app/__pycache__/__init__.cpython-311.pyc': 'read',
    'app/__pycache__/other.cpython-311.pyc': 'never read',
    'gone/__init__.py': '',
    'gone/sub/x.py': '',
    'gone-1.0.dist-info/RECORD': 'gone/__init__.py,,\ngone/sub/x.py,,\n',
    'kept_pkg/__init__.py': '',
    'kept_pkg/extra.py': 'compiled or written after install: not in RECORD',
    'kept_pkg-1.0.dist-info/RECORD': 'kept_pkg/__init__.py,,\n',
    'keepglob/x.py': '',
    'extras.pth': 'import app',
    'odd name\twith tab.py': '',
  };
  const traced = [
    'app/__init__.py',
    'app/with space.py',
    'app/__pycache__/__init__.cpython-311.pyc',
  ];
  const survivors = [
    'app/__init__.py',
    'app/__pycache__/__init__.cpython-311.pyc',
    'app/with space.py',
    'extras.pth',
    'gone-1.0.dist-info/RECORD',
    'keepglob/x.py',
    'kept_pkg-1.0.dist-info/RECORD',
    'kept_pkg/__init__.py',
    'kept_pkg/extra.py',
  ];

  function makeEnvironment(root: string): string {
    const site = path.join(root, 'venv/lib/python3.11/site-packages');
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(site, file)), { recursive: true });
      writeFileSync(path.join(site, file), content);
    }
    mkdirSync(path.join(site, 'app/data/empty'), { recursive: true }); // a package writes here
    return site;
  }

  /** A PATH whose every command busybox provides is busybox, as on Alpine. */
  function busyboxPath(root: string): string | undefined {
    const list = spawnSync('busybox', ['--list'], { encoding: 'utf8' });
    if (list.status !== 0) return undefined;
    const bin = path.join(root, 'bin');
    mkdirSync(bin, { recursive: true });
    const busybox = spawnSync('which', ['busybox'], { encoding: 'utf8' }).stdout.trim();
    for (const applet of list.stdout.split('\n').filter(Boolean))
      symlinkSync(busybox, path.join(bin, applet));
    return `${bin}:${process.env.PATH ?? ''}`;
  }

  it.each(['dash', 'busybox'])(
    '%s: keeps what the trace lists, removes the rest as unused',
    (shell) => {
      const root = mkdtempSync(path.join(work, `prune-${shell}-`));
      const site = makeEnvironment(root);
      const script = path.join(root, 'prune.sh');
      writeFileSync(
        script,
        pruneScriptText({ strip: false, prune: ['pycache', 'unused'], keep: [], traced }),
      );
      const PATH = shell === 'busybox' ? busyboxPath(root) : process.env.PATH;
      // scripts/test.sh installs busybox; without it this case fails rather than passing unseen.
      expect(PATH, 'busybox is not installed').toBeDefined();
      const argv = [
        ...(shell === 'busybox' ? ['sh'] : []),
        script,
        ...pruneScriptArgs({
          strip: false,
          prune: ['pycache', 'unused'],
          keep: ['*/keepglob/*'],
          keepPackages: ['kept-pkg'],
        }),
        '--manifest',
        path.join(root, 'manifest.json'),
        path.join(root, 'venv'),
      ];
      const run = spawnSync(shell, argv, { encoding: 'utf8', env: { ...process.env, PATH } });
      expect(run.status, run.stderr).toBe(0);
      expect(listFiles(site)).toEqual(survivors);
      expect(existsSync(path.join(site, 'app/data/empty'))).toBe(true);
      expect(existsSync(path.join(site, 'gone'))).toBe(false);
      const manifest = parseManifest(readFileSync(path.join(root, 'manifest.json'), 'utf8'));
      expect(manifest.categories.pycache.files).toBe(1);
      expect(manifest.categories.unused.files).toBe(4);
    },
  );
});

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}
