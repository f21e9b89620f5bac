/**
 * Issue 17, "Done when": package exceptions keep what packages read at run time.
 *
 * On the host, prune.sh (with the table slimpy writes into it) over small synthetic environments:
 * version ranges, lazy stubs, `*-nspkg.pth`, pkg_resources, --explain.
 *
 * On the real engine, one image with real wheels (scripts/fetch-test-wheels.sh) and one slim
 * session with the auto smoke test: scikit-image's lazy stubs, passlib.pwd's pkg_resources,
 * sphinxcontrib-jsmath's `*-nspkg.pth`, torch's inductor headers, and bytecode compiled on purpose
 * (test/fixtures/packages/Dockerfile says why the image is built the way it is).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runContainer } from '../../src/engine/containers.js';
import { removeOwnObjects } from '../../src/engine/images.js';
import { slimpyLabels } from '../../src/engine/labels.js';
import { readSettings } from '../../src/inputs.js';
import type { KeptException, SlimpyReport } from '../../src/model/report.js';
import { renderReport } from '../../src/report/markdown.js';
import { runSession } from '../../src/session.js';
import { autoSmokeCommand, skippedProbes, type AutoSmokeOptions } from '../../src/smoke/auto.js';
import { explainExceptions } from '../../src/slim/explain.js';
import { parseManifest, type PruneManifest } from '../../src/slim/manifest.js';
import { loadPruneScript, withPackageExceptions } from '../../src/slim/script.js';
import { baseImage, engineMissing, testDocker } from '../support/engine.js';
import { collectingHooks, testHost } from '../support/hooks.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = path.join(ROOT, 'test/fixtures/packages');
const SOURCE_SCRIPT = path.join(ROOT, 'src/slim/prune.sh');
const work = mkdtempSync(path.join(os.tmpdir(), 'slimpy-packages-'));

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// prune.sh on the host

interface Env {
  site: string;
  file(rel: string, text?: string): void;
}

function makeSite(name: string, venv = false): Env {
  const root = path.join(work, 'host', name);
  const site = path.join(root, 'lib/python3.11/site-packages');
  mkdirSync(site, { recursive: true });
  if (venv) writeFileSync(path.join(root, 'pyvenv.cfg'), 'home = /usr/bin\n');
  return {
    site,
    file(rel, text = 'x = 1\n') {
      mkdirSync(path.dirname(path.join(site, rel)), { recursive: true });
      writeFileSync(path.join(site, rel), text);
    },
  };
}

function distInfo(env: Env, name: string, version: string): void {
  env.file(`${name}-${version}.dist-info/METADATA`, `Name: ${name}\nVersion: ${version}\n`);
}

function scriptFile(name: string, text: string): string {
  const file = path.join(work, `${name}.sh`);
  writeFileSync(file, text);
  return file;
}

function prune(
  script: string,
  args: string[],
  shell: string[] = ['dash'],
): { manifest: PruneManifest; stdout: string } {
  const manifestPath = path.join(work, `manifest-${Math.random().toString(36).slice(2)}.json`);
  const [program = 'dash', ...shellArgs] = shell;
  const run = spawnSync(
    program,
    [...shellArgs, script, '--no-strip', '--manifest', manifestPath, ...args],
    { encoding: 'utf8' },
  );
  expect(run.status, run.stderr).toBe(0);
  return { manifest: parseManifest(readFileSync(manifestPath, 'utf8')), stdout: run.stdout };
}

const LAZY_INIT =
  'import lazy_loader as lazy\n__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)\n';
const NSPKG = (names: string): string =>
  `import sys, types, os;has_mfs = sys.version_info > (3, 5);p = os.path.join(sys._getframe(1).f_locals['sitedir'], *(${names}));importlib = has_mfs and __import__('importlib.util')\n`;

describe('prune.sh package exceptions on the host', () => {
  const script = scriptFile('prune', loadPruneScript());

  it('parses under dash with the table written in', () => {
    const result = spawnSync('dash', ['-n', script], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(script, 'utf8')).toContain('\ntorch-inductor sources torch - torch\n');
  });

  it('keeps what the table names for the installed versions only', () => {
    const old = makeSite('numpy22');
    distInfo(old, 'numpy', '2.2.6');
    distInfo(old, 'torch', '2.13.0+cpu');
    old.file('numpy/_core/tests/_natype.py');
    old.file('numpy/_core/tests/test_umath.py');
    old.file('torch/include/ATen/ATen.h', 'int a;\n');
    old.file('pyarrow/include/arrow/api.h', 'int b;\n');
    const fixed = makeSite('numpy23');
    distInfo(fixed, 'numpy', '2.3.0');
    fixed.file('numpy/_core/tests/_natype.py');
    fixed.file('torch/include/ATen/ATen.h', 'int a;\n'); // no torch distribution here
    const { manifest } = prune(script, [old.site, fixed.site]);
    expect(existsSync(path.join(old.site, 'numpy/_core/tests/_natype.py'))).toBe(true);
    expect(existsSync(path.join(old.site, 'numpy/_core/tests/test_umath.py'))).toBe(false);
    expect(existsSync(path.join(old.site, 'torch/include/ATen/ATen.h'))).toBe(true);
    expect(existsSync(path.join(old.site, 'pyarrow/include'))).toBe(false);
    expect(existsSync(path.join(fixed.site, 'numpy/_core/tests'))).toBe(false);
    expect(existsSync(path.join(fixed.site, 'torch/include'))).toBe(false);
    expect(manifest.exceptions).toEqual(
      expect.arrayContaining([
        {
          site: old.site,
          id: 'numpy-testing-natype',
          category: 'tests',
          path: 'numpy/_core/tests/_natype.py',
          detail: 'numpy 2.2.6',
        },
        {
          site: old.site,
          id: 'torch-inductor',
          category: 'sources',
          path: 'torch',
          detail: 'torch 2.13.0+cpu',
        },
      ]),
    );
    // numpy.f2py's sources are the only exception for numpy 2.3 (and no distribution, no torch).
    expect(
      manifest.exceptions
        .filter((entry) => entry.site === fixed.site)
        .map((entry) => `${entry.id}/${entry.category}`),
    ).toEqual(['numpy-f2py/sources', 'numpy-f2py/static-libs']);
  });

  it('compares versions by their numbers, ignoring local labels', () => {
    const table = withPackageExceptions(readFileSync(SOURCE_SCRIPT, 'utf8'), [
      'ten tests demo >=2.10,<3 demo/tests/ten.py',
      'rc tests demo >2.9.0 demo/tests/rc.py',
      'none tests demo <2.9 demo/tests/none.py',
      'glob tests demo-* - demo/tests/glob.py',
    ]);
    const env = makeSite('versions');
    distInfo(env, 'Demo', '2.10.0+cpu');
    distInfo(env, 'Demo_Extra', '1.0');
    for (const name of ['ten', 'rc', 'none', 'glob', 'other']) env.file(`demo/tests/${name}.py`);
    prune(scriptFile('versions', table), ['--prune', 'tests', env.site]);
    const left = ['ten', 'rc', 'none', 'glob', 'other'].filter((name) =>
      existsSync(path.join(env.site, `demo/tests/${name}.py`)),
    );
    expect(left).toEqual(['ten', 'rc', 'glob']);
  });

  it('keeps the stubs lazy_loader reads, and removes the others', () => {
    const env = makeSite('lazy');
    env.file('lazypkg/__init__.py', LAZY_INIT);
    env.file('lazypkg/__init__.pyi', 'from .sub import f\n');
    env.file('lazypkg/filters/__init__.py', LAZY_INIT);
    env.file('lazypkg/filters/__init__.pyi', 'from ._g import g\n');
    env.file('lazypkg/typed.py', 'def f(): pass\n');
    env.file('lazypkg/typed.pyi', 'def f() -> None: ...\n');
    const { manifest } = prune(script, ['--prune', 'stubs', env.site]);
    expect(existsSync(path.join(env.site, 'lazypkg/__init__.pyi'))).toBe(true);
    expect(existsSync(path.join(env.site, 'lazypkg/filters/__init__.pyi'))).toBe(true);
    expect(existsSync(path.join(env.site, 'lazypkg/typed.pyi'))).toBe(false);
    expect(manifest.categories.stubs.files).toBe(1);
    expect(manifest.exceptions.map((entry) => [entry.id, entry.path, entry.detail])).toEqual([
      ['lazy-stubs', 'lazypkg/__init__.pyi', 'lazypkg/__init__.py'],
      ['lazy-stubs', 'lazypkg/filters/__init__.pyi', 'lazypkg/filters/__init__.py'],
    ]);
  });

  it('never removes a directory a *-nspkg.pth names', () => {
    const guarded = makeSite('nspkg');
    guarded.file('ns_tests-1.0-py3.11-nspkg.pth', NSPKG("'ns', 'tests'"));
    guarded.file('ns/tests/module.py');
    guarded.file('other/tests/test_x.py');
    const control = makeSite('no-nspkg');
    control.file('ns/tests/module.py');
    const { manifest } = prune(script, ['--prune', 'tests', guarded.site, control.site]);
    expect(existsSync(path.join(guarded.site, 'ns/tests/module.py'))).toBe(true);
    expect(existsSync(path.join(guarded.site, 'other/tests'))).toBe(false);
    expect(existsSync(path.join(control.site, 'ns/tests'))).toBe(false);
    expect(manifest.exceptions).toEqual([
      {
        site: guarded.site,
        id: 'nspkg',
        category: 'tests',
        path: 'ns/tests',
        detail: 'ns_tests-1.0-py3.11-nspkg.pth',
      },
    ]);
  });

  it('keeps setuptools for pkg_resources, and says to pin it when it has none', () => {
    const needs = makeSite('pkg-resources', true);
    distInfo(needs, 'setuptools', '80.9.0');
    needs.file('setuptools/__init__.py');
    needs.file('pkg_resources/__init__.py');
    needs.file('zope/__init__.py', "__import__('pkg_resources').declare_namespace(__name__)\n");
    const gone = makeSite('setuptools82', true);
    distInfo(gone, 'setuptools', '82.0.0');
    gone.file('setuptools-82.0.0.dist-info/RECORD', 'setuptools/__init__.py,,\n');
    gone.file('setuptools/__init__.py');
    gone.file('app/pwd.py', 'import pkg_resources\n');
    const { manifest } = prune(script, ['--prune', 'packaging', needs.site, gone.site]);
    expect(existsSync(path.join(needs.site, 'pkg_resources/__init__.py'))).toBe(true);
    expect(existsSync(path.join(gone.site, 'setuptools'))).toBe(false);
    expect(manifest.exceptions).toEqual([
      {
        site: needs.site,
        id: 'pkg-resources',
        category: 'packaging',
        path: 'setuptools',
        detail: 'zope/__init__.py',
      },
    ]);
    expect(manifest.warnings).toContain(
      `packaging: ${gone.site}/app/pwd.py imports pkg_resources, which setuptools 82 and later no longer ship; pin setuptools<82`,
    );
  });

  it('--explain lists the exceptions and removes nothing', () => {
    const env = makeSite('explain');
    env.file('lazypkg/__init__.py', LAZY_INIT);
    env.file('lazypkg/__init__.pyi', 'x: int\n');
    env.file('lazypkg/other.pyi', 'x: int\n');
    env.file('lazypkg/tests/test_a.py');
    const { manifest } = prune(script, ['--explain', env.site]);
    expect(manifest.exceptions.map((entry) => entry.path)).toEqual(['lazypkg/__init__.pyi']);
    expect(existsSync(path.join(env.site, 'lazypkg/other.pyi'))).toBe(true);
    expect(existsSync(path.join(env.site, 'lazypkg/tests/test_a.py'))).toBe(true);
    expect(manifest.strip.status).toBe('disabled');
  });

  it.skipIf(spawnSync('busybox', ['--list']).status !== 0)(
    'applies the same exceptions under busybox sh',
    () => {
      const env = makeSite('busybox');
      distInfo(env, 'numpy', '2.2.1');
      env.file('numpy/_core/tests/_natype.py');
      env.file('numpy/_core/tests/test_a.py');
      env.file('lazypkg/__init__.py', LAZY_INIT);
      env.file('lazypkg/__init__.pyi', 'x: int\n');
      env.file('ns_tests-nspkg.pth', NSPKG("'ns', 'tests'"));
      env.file('ns/tests/m.py');
      const { manifest } = prune(script, [env.site], ['busybox', 'sh']);
      expect([...new Set(manifest.exceptions.map((entry) => entry.id))].sort()).toEqual([
        'lazy-stubs',
        'nspkg',
        'numpy-f2py',
        'numpy-testing-natype',
      ]);
      expect(existsSync(path.join(env.site, 'numpy/_core/tests/test_a.py'))).toBe(false);
      expect(existsSync(path.join(env.site, 'numpy/_core/tests/_natype.py'))).toBe(true);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// A probe the auto smoke test runs: skipped where it already fails, a failure where it did not

describe.skipIf(engineMissing())('auto smoke test probes', () => {
  const docker = testDocker();
  const runId = `test-probes-${process.pid}`;
  const probes = [{ name: 'stub', code: "raise FileNotFoundError('stub.pyi is gone')" }];

  afterAll(async () => {
    if (!engineMissing()) await removeOwnObjects(docker, runId);
  });

  function auto(options: AutoSmokeOptions): Promise<{ exitCode: number | null; output: string }> {
    return runContainer(docker, {
      image: baseImage(),
      entrypoint: autoSmokeCommand(options).attempts[0],
      timeoutMs: 60_000,
      labels: slimpyLabels(runId),
    });
  }

  it('skips a probe that fails in the original image, and fails one that fails only after', async () => {
    const original = await auto({ probes });
    expect(original.exitCode, original.output).toBe(0);
    expect(skippedProbes(original.output)).toEqual(['stub']);
    const allowed = await auto({ probes, allowMissing: [], allowFailingProbes: ['stub'] });
    expect(allowed.exitCode, allowed.output).toBe(0);
    const slimmed = await auto({ probes, allowMissing: [], allowFailingProbes: [] });
    expect(slimmed.exitCode).toBe(1);
    expect(slimmed.output).toMatch(/^FAIL probe stub: FileNotFoundError: stub\.pyi is gone$/m);
  });
});

// ---------------------------------------------------------------------------------------------
// One image, one slim session on the real engine

const VENV = '/opt/venv/lib/python3.11/site-packages';

describe.skipIf(engineMissing())('package exceptions in a slim session', () => {
  const docker = testDocker();
  const runId = `test-packages-${process.pid}`;
  const { hooks, logs } = collectingHooks();
  let report: SlimpyReport;

  beforeAll(async () => {
    const context = path.join(work, 'context');
    cpSync(FIXTURE, context, { recursive: true });
    const fetch = (name: string, dest: string, ...requirements: string[]): void => {
      execFileSync(
        'bash',
        [path.join(ROOT, 'scripts/fetch-test-wheels.sh'), name, dest, ...requirements],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
    };
    // skimage.filters needs numpy and scipy; its other dependencies would only cost import time.
    fetch(
      'packages-venv',
      path.join(context, 'wheels/venv'),
      '--no-deps',
      'scikit-image',
      'numpy',
      'scipy',
      'lazy-loader',
      'packaging',
      'passlib',
      'sphinxcontrib-jsmath',
      'setuptools<82',
    );
    // The CPU build that pip's find-links folder holds (the index has a larger CUDA one).
    fetch('packages-torch', path.join(context, 'wheels/torch'), '--no-deps', 'torch==2.13.0+cpu');
    const settings = readSettings(
      (name) =>
        ({
          context,
          'build-args': `PYTHON_IMAGE=${baseImage()}`,
          network: 'none',
          strip: 'false',
          'compressed-size': 'false',
          'smoke-test': 'auto',
        })[name] ?? '',
      {
        workspace: context,
        outputDir: path.join(work, 'out'),
        cacheDir: path.join(work, 'layer-cache'),
        runId,
      },
    );
    ({ report } = await runSession(settings, testHost(hooks)));
  });

  afterAll(async () => {
    if (!engineMissing()) await removeOwnObjects(docker, runId);
  });

  async function inDelivered(script: string): Promise<{ exitCode: number | null; output: string }> {
    return runContainer(docker, {
      image: report.after!.id,
      entrypoint: ['/bin/sh', '-c', script],
      timeoutMs: 180_000,
      labels: slimpyLabels(runId),
    });
  }

  function kept(id: string): KeptException[] {
    return (report.slim?.exceptions ?? []).filter((entry) => entry.id === id);
  }

  it('delivers the full variant: every rule ran, none was dropped by the culprit search', () => {
    expect(report.smoke?.before.passed, report.smoke?.before.output).toBe(true);
    expect(report.smoke?.after?.passed, report.smoke?.after?.output).toBe(true);
    expect(report.slim?.culprit).toBeUndefined();
    expect(report.slim?.variant.prune).toEqual([
      'tests',
      'stubs',
      'sources',
      'static-libs',
      'packaging',
      'caches',
    ]);
    const saved = new Set(report.slim?.savings.map((saving) => saving.category));
    for (const category of ['tests', 'stubs', 'sources'] as const)
      expect(saved).toContain(category);
  });

  it('keeps the lazy stubs: skimage.filters imports in the delivered image', async () => {
    const [stubs] = kept('lazy-stubs');
    expect(stubs?.category).toBe('stubs');
    expect(stubs?.environment).toBe(VENV);
    expect(stubs?.paths).toContain('skimage/filters/__init__.pyi');
    expect(stubs?.bytes).toBeGreaterThan(0);
    const run = await inDelivered(
      `python -c 'import skimage.filters; print(skimage.filters.gaussian.__name__)' &&
       test ! -e ${VENV}/numpy/__init__.pyi && echo numpy-stubs-gone`,
    );
    expect(run.output).toContain('gaussian');
    expect(run.output).toContain('numpy-stubs-gone');
    expect(report.smoke?.after?.output).toMatch(/^ok probe lazy-stubs:skimage /m);
  });

  it('keeps setuptools where a module imports pkg_resources', async () => {
    const [setuptools] = kept('pkg-resources');
    expect(setuptools?.category).toBe('packaging');
    expect(setuptools?.reason).toContain('passlib/pwd.py imports pkg_resources');
    expect(setuptools?.bytes).toBeGreaterThan(1_000_000);
    expect(report.smoke?.after?.output).toMatch(/^ok probe pkg-resources:passlib\.pwd /m);
    const run = await inDelivered(`python -W ignore -c 'import passlib.pwd; print("pwd-ok")'`);
    expect(run.output).toContain('pwd-ok');
  });

  it('keeps the inductor headers in torch/include', async () => {
    const [torch] = kept('torch-inductor').filter((entry) => entry.category === 'sources');
    expect(torch?.category).toBe('sources');
    expect(torch?.environment).toBe('/opt/torch');
    expect(torch?.paths).toEqual(['torch']);
    expect(torch?.bytes).toBeGreaterThan(30_000_000);
    // The base image has no C++ compiler, so torch.compile cannot run here; its headers must be.
    const run = await inDelivered(
      `command -v c++ g++ || echo no-compiler
       test -f /opt/torch/torch/include/torch/csrc/inductor/cpp_prefix.h && echo header-kept
       ls /opt/torch/torchgen/packaged/ATen/templates/*.h 2>/dev/null | wc -l`,
    );
    expect(run.output).toContain('no-compiler');
    expect(run.output).toContain('header-kept');
    expect(run.output.trim().split('\n').at(-1)).toBe('0'); // sources outside torch still go
  });

  it('keeps bytecode compiled on purpose, and says why', async () => {
    const [bytecode] = kept('bytecode');
    expect(bytecode?.category).toBe('pycache');
    expect(bytecode?.reason).toContain('`python -m compileall`, line');
    expect(bytecode?.bytes).toBeGreaterThan(0);
    const run = await inDelivered(`ls ${VENV}/passlib/__pycache__ | grep -c 'cpython-311.pyc'`);
    expect(Number(run.output.trim())).toBeGreaterThan(10);
  });

  it('leaves a *-nspkg.pth and its namespace directory: Python starts without an error', async () => {
    const explained = await explainExceptions(docker, {
      image: report.before.id,
      environments: [VENV, '/opt/torch'],
      prune: ['tests'],
      timeoutMs: 180_000,
      labels: slimpyLabels(runId),
    });
    expect('manifest' in explained && explained.manifest.exceptions).toContainEqual({
      site: VENV,
      id: 'nspkg',
      category: 'tests',
      path: 'sphinxcontrib',
      detail: 'sphinxcontrib_jsmath-1.0.1-py3.7-nspkg.pth',
    });
    const run = await inDelivered(
      `python -c 'import sphinxcontrib; print(sphinxcontrib.__path__)' 2>&1`,
    );
    expect(run.output).not.toContain('Error processing line');
    expect(run.output).toContain(`${VENV}/sphinxcontrib`);
  });

  it('names each exception in the notes and the comment, with its bytes and reason', () => {
    const notes = report.slim?.notes ?? [];
    for (const id of ['lazy-stubs', 'pkg-resources', 'torch-inductor', 'bytecode']) {
      expect(kept(id).length).toBeGreaterThan(0);
    }
    expect(notes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^Kept \d+(\.\d+)? MB of C\/C\+\+ sources and headers in `torch` \(\d[\d,]* files\) from the `sources` rule: torch\.compile \(inductor\)/,
        ),
        expect.stringMatching(/^Kept .* of type stubs in `skimage` .*lazy_loader\.attach_stub/),
        expect.stringMatching(/^Kept .* of setuptools in `\/opt\/venv` .*pkg_resources/),
        expect.stringMatching(/^Kept .* of bytecode in `\/opt\/venv` .*compileall/),
      ]),
    );
    const comment = renderReport(report, { commentKey: 'packages' });
    expect(comment).toContain('torch.compile (inductor) compiles C++ against torch/include');
    expect(comment).toContain('https://github.com/pytorch/pytorch/issues/179414');
    expect(logs.some((line) => line.startsWith('Package exceptions in the original image:'))).toBe(
      true,
    );
  });
});
