import { describe, expect, it } from 'vitest';
import { describeKept } from '../../src/pipeline/packages.js';
import {
  exceptionLines,
  PACKAGE_EXCEPTIONS,
  tableProblems,
  type PackageException,
} from '../../src/slim/exceptions.js';
import { pythonEnvironments } from '../../src/slim/explain.js';
import {
  exceptionProbes,
  globPattern,
  keptExceptions,
  wouldRemove,
  type KeptInput,
} from '../../src/slim/kept.js';
import { parseManifest, type ManifestException } from '../../src/slim/manifest.js';
import { loadPruneScript, withPackageExceptions } from '../../src/slim/script.js';

const SITE = '/opt/venv/lib/python3.11/site-packages';

describe('the package exceptions table', () => {
  it('is clean: ids, plain words, normalized names, version ranges, sources', () => {
    expect(tableProblems()).toEqual([]);
  });

  it('finds the problems a contributor could make', () => {
    const bad: PackageException = {
      id: 'Bad_Id',
      distributions: ['Some_Pkg'],
      versions: '2.2 to 2.3',
      categories: ['tests'],
      paths: ['../up', 'with space'],
      reason: 'x',
      source: 'issue 1',
    };
    expect(tableProblems([bad])).toEqual([
      'exception Bad_Id: id is not kebab-case',
      'exception Bad_Id: "with space" is not a plain word',
      'exception Bad_Id: path "../up" is not relative to the environment',
      'exception Bad_Id: distribution names must be normalized (lower case, dashes)',
      'exception Bad_Id: versions "2.2 to 2.3" is not like ">=2.2,<2.3"',
      'exception Bad_Id: source is not a URL',
    ]);
  });

  it('covers the cases issue 17 names', () => {
    const ids = PACKAGE_EXCEPTIONS.map((entry) => entry.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'torch-inductor',
        'triton-driver',
        'numpy-testing-natype',
        'astropy-test-runner',
      ]),
    );
  });

  it('is written for prune.sh one line per category, distribution and path', () => {
    const lines = exceptionLines();
    expect(lines).toContain('torch-inductor sources torch - torch');
    expect(lines).toContain('torch-inductor static-libs torch - torch');
    expect(lines).toContain(
      'numpy-testing-natype tests numpy >=2.2,<2.3 numpy/_core/tests/_natype.py',
    );
    expect(lines.every((line) => line.split(' ').length === 5)).toBe(true);
  });

  it('goes into the script in place of its one placeholder', () => {
    const script = "#!/bin/sh\nA=1\nPACKAGE_EXCEPTIONS=''\nB=2\n";
    expect(withPackageExceptions(script, ['a tests b - c', 'd stubs e >=1 f'])).toBe(
      "#!/bin/sh\nA=1\nPACKAGE_EXCEPTIONS='\na tests b - c\nd stubs e >=1 f\n'\nB=2\n",
    );
    expect(() => withPackageExceptions('#!/bin/sh\n', [])).toThrow(/exactly once/);
    expect(loadPruneScript()).toContain('\ntorch-inductor sources torch - torch\n');
  });
});

describe('the manifest', () => {
  const manifest = {
    version: 1,
    roots: [],
    environments: [],
    prune: ['stubs'],
    strip: {
      status: 'disabled',
      reason: '--explain',
      files: 0,
      bytesBefore: 0,
      bytesAfter: 0,
      restored: [],
      top: [],
    },
    categories: Object.fromEntries(
      ['tests', 'pycache', 'stubs', 'sources', 'static-libs', 'packaging', 'caches', 'unused'].map(
        (c) => [c, { files: 0, bytes: 0 }],
      ),
    ),
    warnings: [],
  };

  it('lists the exceptions, and none for a script that wrote none', () => {
    const entry = {
      site: SITE,
      id: 'lazy-stubs',
      category: 'stubs',
      path: 'a.pyi',
      detail: 'a.py',
    };
    expect(parseManifest(JSON.stringify({ ...manifest, exceptions: [entry] })).exceptions).toEqual([
      entry,
    ]);
    expect(parseManifest(JSON.stringify(manifest)).exceptions).toEqual([]);
    expect(() =>
      parseManifest(JSON.stringify({ ...manifest, exceptions: [{ ...entry, category: 'x' }] })),
    ).toThrow(/exceptions\[0\]\.category "x" is unknown/);
  });
});

describe('python environments of an image', () => {
  it('are site-packages, dist-packages and directories holding distributions directly', () => {
    const dir = { type: 'dir' };
    const files: Array<[string, { type: string }]> = [
      [SITE, dir],
      [`${SITE}/numpy-2.4.6.dist-info`, dir],
      [`${SITE}/pip/_vendor/x-1.0.dist-info`, dir],
      ['/usr/lib/python3/dist-packages', dir],
      ['/opt/torch/torch-2.13.0+cpu.dist-info', dir],
      ['/opt/torch/torch-2.13.0+cpu.dist-info/METADATA', { type: 'file' }],
      ['/app/not-a-site', dir],
    ];
    expect(pythonEnvironments(files)).toEqual([
      '/opt/torch',
      SITE,
      '/usr/lib/python3/dist-packages',
    ]);
  });
});

describe('what a rule would remove', () => {
  it.each([
    ['tests', 'numpy/_core/tests/_natype.py', true],
    ['tests', 'tests/__init__.py', false],
    ['tests', 'numpy/testing/x.py', false],
    ['stubs', 'skimage/__init__.pyi', true],
    ['sources', 'torch/include/ATen/ATen.h', true],
    ['static-libs', 'torch/lib/libx.a', true],
    ['pycache', 'passlib/__pycache__/pwd.cpython-311.pyc', true],
    ['packaging', 'pkg_resources/__init__.py', true],
    ['packaging', 'setuptools-80.9.0.dist-info/RECORD', true],
    ['packaging', 'passlib/pwd.py', false],
  ] as const)('%s removes %s: %s', (category, rel, removed) => {
    expect(wouldRemove(category, rel)).toBe(removed);
  });

  it('reads globs as prune.sh does: `*` crosses directories', () => {
    expect(globPattern('skimage/*__init__.pyi').test('skimage/filters/__init__.pyi')).toBe(true);
    expect(globPattern('cupy-*').test('cupy-cuda12x')).toBe(true);
    expect(globPattern('a?c').test('a/c')).toBe(true);
    expect(globPattern('[!x]y').test('zy')).toBe(true);
    expect(globPattern('torch').test('torch/include')).toBe(false);
    expect(globPattern('a.b').test('axb')).toBe(false);
  });
});

function files(entries: Array<[string, number]>): Map<string, { size: number; type: string }> {
  return new Map(entries.map(([path, size]) => [path, { size, type: 'file' }]));
}

function exception(partial: Partial<ManifestException>): ManifestException {
  return { site: SITE, id: 'lazy-stubs', category: 'stubs', path: '', detail: '', ...partial };
}

describe('what the exceptions kept', () => {
  const before = files([
    [`${SITE}/skimage/__init__.pyi`, 100],
    [`${SITE}/skimage/filters/__init__.pyi`, 50],
    [`${SITE}/numpy/__init__.pyi`, 700],
    [`${SITE}/torch/include/ATen/ATen.h`, 4000],
    [`${SITE}/torch/__init__.py`, 10],
    [`${SITE}/passlib/__pycache__/pwd.cpython-311.pyc`, 300],
    [`${SITE}/setuptools/__init__.py`, 900],
    [`${SITE}/pkg_resources/__init__.py`, 800],
    ['/srv/other/site-packages/foo.pyi', 5],
  ]);
  const after = new Map(before);
  after.delete(`${SITE}/numpy/__init__.pyi`);
  const input: KeptInput = {
    exceptions: [
      exception({ path: 'skimage/__init__.pyi', detail: 'skimage/__init__.py' }),
      exception({ path: 'skimage/filters/__init__.pyi', detail: 'skimage/filters/__init__.py' }),
      exception({
        id: 'torch-inductor',
        category: 'sources',
        path: 'torch',
        detail: 'torch 2.13.0',
      }),
      exception({
        id: 'torch-inductor',
        category: 'static-libs',
        path: 'torch',
        detail: 'torch 2.13.0',
      }),
      exception({
        id: 'pkg-resources',
        category: 'packaging',
        path: 'setuptools',
        detail: 'passlib/pwd.py',
      }),
    ],
    environments: [SITE, '/srv/other/site-packages'],
    bytecode: { line: 4, evidence: 'python -m compileall' },
    wanted: ['tests', 'pycache', 'stubs', 'sources', 'static-libs', 'packaging'],
    delivered: ['tests', 'stubs', 'sources', 'static-libs', 'packaging'],
    before,
    after,
  };

  it('measures each exception in the original image, biggest first', () => {
    const kept = keptExceptions(input);
    expect(kept.map((entry) => [entry.id, entry.category, entry.files, entry.bytes])).toEqual([
      ['torch-inductor', 'sources', 1, 4000],
      ['pkg-resources', 'packaging', 2, 1700],
      ['bytecode', 'pycache', 1, 300],
      ['lazy-stubs', 'stubs', 2, 150],
    ]);
    expect(kept[0]?.environment).toBe(SITE);
    expect(kept[0]?.paths).toEqual(['torch']);
    expect(kept[0]?.reason).toContain('torch.compile (inductor)');
    expect(kept[0]?.reason).toContain('(torch 2.13.0)');
    expect(kept[1]?.reason).toBe(
      'passlib/pwd.py imports pkg_resources, which setuptools ships until version 82',
    );
    expect(kept[2]?.reason).toContain('(`python -m compileall`, line 4)');
  });

  it('counts nothing for a rule the delivered variant did not run', () => {
    const kept = keptExceptions({ ...input, delivered: ['tests', 'sources'] });
    expect(kept.map((entry) => entry.id)).toEqual(['torch-inductor', 'bytecode']);
  });

  it('counts nothing in an environment slimming did not touch', () => {
    expect(keptExceptions({ ...input, after: new Map(before) })).toEqual([]);
  });

  it('describes each in one sentence with its bytes and source', () => {
    const [torch, setuptools, bytecode, stubs] = keptExceptions(input);
    expect(describeKept(torch!)).toBe(
      'Kept 4.0 kB of C/C++ sources and headers in `torch` (1 file) from the `sources` rule: ' +
        'torch.compile (inductor) compiles C++ against torch/include at run time (torch 2.13.0) ' +
        '(https://github.com/pytorch/pytorch/issues/179414).',
    );
    expect(describeKept(setuptools!)).toMatch(
      /^Kept 1\.7 kB of setuptools in `\/opt\/venv` \(2 files\)/,
    );
    expect(describeKept(bytecode!)).toMatch(/^Kept 300 B of bytecode in `\/opt\/venv` \(1 file\)/);
    expect(describeKept(stubs!)).toMatch(/^Kept 150 B of type stubs in `skimage` \(2 files\)/);
  });
});

describe('probes for the auto smoke test', () => {
  it('import the modules behind pkg_resources and lazy stubs, and run the table probes', () => {
    const probes = exceptionProbes([
      exception({ detail: 'skimage/__init__.py' }),
      exception({ detail: 'skimage/filters/__init__.py' }),
      exception({ detail: 'odd-name/__init__.py' }),
      exception({ id: 'pkg-resources', category: 'packaging', detail: 'passlib/pwd.py' }),
      exception({ id: 'numpy-testing-natype', category: 'tests', detail: 'numpy 2.2.6' }),
    ]);
    expect(probes).toEqual([
      { name: 'pkg-resources:passlib.pwd', code: 'import passlib.pwd' },
      { name: 'numpy-testing-natype', code: 'import numpy.testing' },
      {
        name: 'lazy-stubs:skimage',
        code: expect.stringContaining("for name in ['skimage', 'skimage.filters']"),
      },
    ]);
  });
});
