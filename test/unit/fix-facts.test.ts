import { describe, expect, it } from 'vitest';
import { fixFacts } from '../../src/measure/fix-facts.js';
import type { FileEntry, LayerContent } from '../../src/measure/layers.js';
import { file, layer, rows } from '../fixtures/findings/layers.js';

const DOCKERFILE = `FROM python:3.11
RUN apt-get update && apt-get install -y curl
RUN python3 -m venv /app/.venv
COPY wheels/ /tmp/wheels/
RUN /app/.venv/bin/pip install --find-links /tmp/wheels numpy
COPY app/ /usr/local/
`;
const SP = '/app/.venv/lib/python3.11/site-packages';

function bytesOf(files: FileEntry[]): number {
  return files.reduce((sum, f) => sum + (f.type === 'file' ? f.size : 0), 0);
}

describe('the facts the fix rules plan from', () => {
  const layers: LayerContent[] = [
    layer([file('/usr/bin/python3', 5000), file('/usr/local/bin/tool', 10)]),
    layer([
      file('/var/lib/apt/lists/deb_bookworm_Packages', 4000),
      file('/var/cache/apt/archives/curl.deb', 300),
      file('/usr/bin/curl', 200),
    ]),
    layer([
      file('/app/.venv/pyvenv.cfg', 50),
      file(`${SP}/pip/__init__.py`, 700),
      file(`${SP}/pip/__pycache__/__init__.cpython-311.pyc`, 900),
    ]),
    layer([file('/tmp/wheels/numpy-2.0-cp311.whl', 1600), file('/tmp/wheels/README', 5)]),
    layer([file(`${SP}/numpy/core.py`, 2000), file('/root/.cache/pip/http/a/b', 1500)]),
    layer([file('/usr/local/app.py', 20)]),
  ];
  const history = rows(
    [bytesOf(layers[0]!.files), ''],
    [
      bytesOf(layers[1]!.files),
      'RUN /bin/sh -c apt-get update && apt-get install -y curl # buildkit',
    ],
    [bytesOf(layers[2]!.files), 'RUN /bin/sh -c python3 -m venv /app/.venv # buildkit'],
    [bytesOf(layers[3]!.files), 'COPY wheels/ /tmp/wheels/ # buildkit'],
    [
      bytesOf(layers[4]!.files),
      'RUN /bin/sh -c /app/.venv/bin/pip install --find-links /tmp/wheels numpy # buildkit',
    ],
    [bytesOf(layers[5]!.files), 'COPY app/ /usr/local/ # buildkit'],
  );
  const facts = fixFacts({ layers, history, baseLayerCount: 1, dockerfile: DOCKERFILE });

  it('has one entry per layer the Dockerfile made, with its line', () => {
    expect(facts.layers.map((l) => [l.index, l.line, l.keyword])).toEqual([
      [1, 2, 'RUN'],
      [2, 3, 'RUN'],
      [3, 4, 'COPY'],
      [4, 5, 'RUN'],
      [5, 6, 'COPY'],
    ]);
    expect(facts.layers[0]?.bytes).toBe(4500);
  });

  it('says which package-manager leftovers each RUN ships, by directory', () => {
    expect(facts.layers[0]?.leftovers).toEqual([
      { kind: 'apt-lists', dir: '/var/lib/apt/lists', files: 1, bytes: 4000 },
      { kind: 'apt-cache', dir: '/var/cache/apt', files: 1, bytes: 300 },
    ]);
    expect(facts.layers[3]?.leftovers).toEqual([
      { kind: 'pip-cache', dir: '/root/.cache/pip', files: 1, bytes: 1500 },
    ]);
  });

  it('lists what a COPY brought, and the directories above it lower layers already filled', () => {
    expect(facts.layers[2]?.copied).toEqual([
      { path: '/tmp/wheels/numpy-2.0-cp311.whl', size: 1600, input: true },
      { path: '/tmp/wheels/README', size: 5, input: false },
    ]);
    expect(facts.layers[2]?.occupied).toEqual(['/']);
    expect(facts.layers[4]?.occupied).toEqual(['/', '/usr', '/usr/local']);
    expect(facts.layers[1]?.copied).toEqual([]);
  });

  it('knows the environments a layer writes into, and how much of it is pip and setuptools', () => {
    expect(facts.layers[1]?.environments).toEqual([
      { sitePackages: SP, venv: true, bytes: 1600, packagingBytes: 1600 },
    ]);
    expect(facts.layers[3]?.environments).toEqual([
      { sitePackages: SP, venv: true, bytes: 2000, packagingBytes: 0 },
    ]);
  });
});
