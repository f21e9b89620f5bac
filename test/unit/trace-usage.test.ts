import { describe, expect, it } from 'vitest';
import type { MergedEntry } from '../../src/measure/filesystem.js';
import {
  isPrunable,
  pythonEnvironments,
  traceUsage,
  type ImageFiles,
  type TracedDistribution,
} from '../../src/smoke/usage.js';

const SITE = '/app/.venv/lib/python3.11/site-packages';
const BASE_SITE = '/usr/local/lib/python3.11/site-packages';

/** An image whose layer 0 is the base and layer 1 the Dockerfile's own. */
function imageOf(files: Record<string, number>, base: Record<string, number> = {}): ImageFiles {
  const map = new Map<string, MergedEntry>();
  for (const [path, size] of Object.entries(base))
    map.set(path, { size, type: 'file', layerIndex: 0 });
  for (const [path, size] of Object.entries(files))
    map.set(path, { size, type: 'file', layerIndex: 1 });
  return { files: map, baseLayers: 1 };
}

const image = imageOf(
  {
    [`${SITE}/numpy/__init__.py`]: 1_000,
    [`${SITE}/numpy/__pycache__/__init__.cpython-311.pyc`]: 2_000,
    [`${SITE}/numpy/linalg.py`]: 3_000,
    [`${SITE}/numpy/__pycache__/linalg.cpython-311.pyc`]: 4_000,
    [`${SITE}/numpy/_core.cpython-311-x86_64-linux-gnu.so`]: 50_000,
    [`${SITE}/numpy/_simd.cpython-311-x86_64-linux-gnu.so`]: 20_000,
    [`${SITE}/numpy-2.0.dist-info/RECORD`]: 500,
    [`${SITE}/flight/__init__.py`]: 100,
    [`${SITE}/flight/libflight.so.25`]: 90_000,
    [`${SITE}/flight-1.0.dist-info/RECORD`]: 200,
    [`${SITE}/extras.pth`]: 10,
    '/deps/six.py': 700,
    '/deps/six-1.16.dist-info/RECORD': 100,
    '/app/main.py': 300,
  },
  { [`${BASE_SITE}/pip/__init__.py`]: 5_000, [`${BASE_SITE}/pip-24.dist-info/RECORD`]: 900 },
);

const distributions: TracedDistribution[] = [
  {
    env: SITE,
    dir: 'numpy-2.0.dist-info',
    name: 'numpy',
    version: '2.0',
    files: [
      'numpy/__init__.py',
      'numpy/__pycache__/__init__.cpython-311.pyc',
      'numpy/linalg.py',
      'numpy/__pycache__/linalg.cpython-311.pyc',
      'numpy/_core.cpython-311-x86_64-linux-gnu.so',
      'numpy/_simd.cpython-311-x86_64-linux-gnu.so',
      'numpy-2.0.dist-info/RECORD',
    ],
  },
  {
    env: SITE,
    dir: 'flight-1.0.dist-info',
    name: 'Flight',
    version: '1.0',
    files: ['flight/__init__.py', 'flight/libflight.so.25', 'flight-1.0.dist-info/RECORD'],
  },
  { env: '/deps', dir: 'six-1.16.dist-info', name: 'six', version: '1.16', files: ['six.py'] },
];

const trace = {
  paths: [
    // bytecode read without its source: the source counts as used too
    `${SITE}/numpy/__pycache__/__init__.cpython-311.pyc`,
    `${SITE}/numpy/_core.cpython-311-x86_64-linux-gnu.so`,
    `${SITE}/numpy-2.0.dist-info/RECORD`,
    `${SITE}/numpy/missing-probe.so`,
    '/deps/six.py',
    '/app/main.py',
    '/usr/lib/x86_64-linux-gnu/libc.so.6',
  ],
  distributions,
  processes: 3,
  stops: 40,
  durationMs: 1234,
};

describe('pythonEnvironments', () => {
  it('finds site-packages and --target directories among the own layers, not the base', () => {
    expect(pythonEnvironments(image)).toEqual(['/app/.venv/lib/python3.11/site-packages', '/deps']);
  });
});

describe('traceUsage', () => {
  const usage = traceUsage(image, pythonEnvironments(image), trace, ['six']);

  it('counts what the test used of the environments, with the sources of bytecode it read', () => {
    const r = usage.report;
    expect(r.environmentFiles).toBe(13);
    expect(r.environmentBytes).toBe(
      1_000 + 2_000 + 3_000 + 4_000 + 50_000 + 20_000 + 500 + 100 + 90_000 + 200 + 10 + 700 + 100,
    );
    expect(r.usedFiles).toBe(5);
    expect(r.usedBytes).toBe(2_000 + 1_000 + 50_000 + 500 + 700);
    expect(r.bytecodeBytes).toBe(6_000);
    expect(r.usedBytecodeFiles).toBe(1);
    expect(r.usedBytecodeBytes).toBe(2_000);
    expect(r.processes).toBe(3);
    expect(r.durationMs).toBe(1234);
  });

  it('lists the distributions by the bytes the test never touched, and libraries never loaded', () => {
    const r = usage.report;
    expect(r.packages.map((p) => [p.name, p.bytes - p.usedBytes])).toEqual([
      ['Flight', 90_300],
      ['numpy', 27_000],
    ]);
    expect(r.packages[0]).toMatchObject({ usedBytes: 0, files: 3, usedFiles: 0 });
    expect(r.unusedLibraries.map((f) => f.path)).toEqual([
      `${SITE}/flight/libflight.so.25`,
      `${SITE}/numpy/_simd.cpython-311-x86_64-linux-gnu.so`,
    ]);
  });

  it('keeps the used files by their place in the environment, which the builder shares', () => {
    expect(usage.kept).toEqual([
      'numpy-2.0.dist-info/RECORD',
      'numpy/__init__.py',
      'numpy/__pycache__/__init__.cpython-311.pyc',
      'numpy/_core.cpython-311-x86_64-linux-gnu.so',
      'six.py',
    ]);
  });

  it('names the distributions unused would take files from, not the kept ones', () => {
    expect(usage.prunable).toEqual(['flight', 'numpy']);
  });

  it('never prunes metadata or .pth files', () => {
    expect(isPrunable('numpy-2.0.dist-info/RECORD')).toBe(false);
    expect(isPrunable('extras.pth')).toBe(false);
    expect(isPrunable('numpy/linalg.py')).toBe(true);
  });
});
