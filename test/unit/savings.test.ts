import { describe, expect, it } from 'vitest';
import { mergeLayers } from '../../src/measure/filesystem.js';
import { historyBytes } from '../../src/measure/findings/origins.js';
import type { LayerContent } from '../../src/measure/layers.js';
import { pruneCategoryOf } from '../../src/measure/prune-paths.js';
import type { FixFacts } from '../../src/model/fixes.js';
import type { ImageMeasurement } from '../../src/model/report.js';
import { measureSavings, type SavingsInput } from '../../src/slim/savings.js';
import { dir, file, hardlink, layer } from '../fixtures/findings/layers.js';

const venv = '/app/.venv';
const sp = `${venv}/lib/python3.11/site-packages`;
const isVenv = (root: string): boolean => root === venv;

describe('which prune category removes a path, in prune.sh order', () => {
  it.each([
    [`${sp}/pyarrow/tests/test_io.py`, 'tests'],
    [`${sp}/numpy/_core/tests/data/x.csv`, 'tests'],
    // The script removes bytecode before tests directories: theirs counts as bytecode.
    [`${sp}/pyarrow/tests/__pycache__/test_io.cpython-311.pyc`, 'pycache'],
    [`${sp}/numpy/__pycache__/version.cpython-311.pyc`, 'pycache'],
    [`${sp}/pyarrow/lib.pyi`, 'stubs'],
    [`${sp}/pyarrow/include/arrow/api.h`, 'sources'],
    [`${sp}/pyarrow/lib.pyx`, 'sources'],
    [`${sp}/pyarrow/libarrow.a`, 'static-libs'],
    [`${sp}/pip/__init__.py`, 'packaging'],
    // Bytecode goes first, pip's too.
    [`${sp}/pip/__pycache__/__init__.cpython-311.pyc`, 'pycache'],
    [`${sp}/pip-24.0.dist-info/RECORD`, 'packaging'],
    [`${venv}/bin/pip3`, 'packaging'],
    ['/root/.cache/pip/http/x', 'caches'],
    [`${sp}/numpy/testing/__init__.py`, undefined],
  ])('%s -> %s', (path, category) => {
    expect(pruneCategoryOf(path, isVenv)).toBe(category);
  });

  it('leaves pip outside a virtual environment to bytecode, as the script does', () => {
    const system = '/usr/local/lib/python3.11/site-packages';
    expect(pruneCategoryOf(`${system}/pip/__init__.py`, isVenv)).toBeUndefined();
    expect(pruneCategoryOf(`${system}/pip/__pycache__/x.cpython-311.pyc`, isVenv)).toBe('pycache');
  });
});

/** A measured image from layers: what the pipeline's measureImage gives, sizes as the engine counts. */
function image(
  layers: LayerContent[],
  baseLayers = 0,
  createdBy: string[] = [],
): SavingsInput['before'] {
  const rows = layers.map((content, index) => ({
    diffId: content.diffId,
    size: historyBytes(content),
    createdBy: createdBy[index] ?? `layer ${index + 1}`,
    base: index < baseLayers,
  }));
  const measurement = {
    id: 'sha256:x',
    size: rows.reduce((sum, row) => sum + row.size, 0),
    layers: rows,
    largestFiles: [],
    baseSize: 0,
    ownSize: 0,
  } satisfies ImageMeasurement;
  return { layers, files: mergeLayers(layers), measurement };
}

function facts(lines: Array<[number, number]>): FixFacts {
  return {
    layers: lines.map(([index, line]) => ({
      index,
      line,
      bytes: 0,
      leftovers: [],
      copied: [],
      occupied: [],
      environments: [],
    })),
  };
}

function rowsSum(result: ReturnType<typeof measureSavings>): number {
  return result.savings.reduce((sum, saving) => sum + saving.bytes, 0);
}

describe('savings that add up', () => {
  const base = layer([dir('/usr'), file('/usr/lib/libc.so.6', 2000)]);

  it('counts removed files by category and shrunk files as strip; the rows are the size change', () => {
    const before = image([
      base,
      layer([
        file(`${sp}/a/tests/t.py`, 100),
        file(`${sp}/a/lib.so`, 1000),
        file(`${sp}/a/core.so`, 500),
      ]),
    ]);
    const after = image([base, layer([file(`${sp}/a/lib.so`, 600), file(`${sp}/a/core.so`, 500)])]);
    const result = measureSavings({ before, after, fixes: [], facts: facts([]) });
    expect(result.savings).toEqual([
      { category: 'strip', files: 1, bytes: 400 },
      { category: 'tests', files: 1, bytes: 100 },
    ]);
    expect(result.strippedTop).toEqual([{ path: `${sp}/a/lib.so`, before: 1000, after: 600 }]);
    expect(rowsSum(result)).toBe(before.measurement.size - after.measurement.size);
    expect(result.stillShipped).toEqual([]);
  });

  it('does not count files a later layer deletes: they are listed as still shipped in the layer that holds them', () => {
    const venvLayer = layer([file(`${venv}/pyvenv.cfg`, 10), file(`${sp}/pip/__init__.py`, 300)], {
      diffId: `sha256:${'a'.repeat(64)}`,
    });
    const before = image([base, venvLayer, layer([file(`${sp}/numpy/core.py`, 50)])], 1);
    const after = image(
      [base, venvLayer, layer([file(`${sp}/numpy/core.py`, 50)], { whiteouts: [`${sp}/pip`] })],
      1,
    );
    const result = measureSavings({ before, after, fixes: [], facts: facts([[1, 4]]) });
    expect(result.savings).toEqual([]);
    expect(rowsSum(result)).toBe(before.measurement.size - after.measurement.size);
    expect(result.stillShipped).toHaveLength(1);
    expect(result.stillShipped[0]).toMatchObject({
      layer: 2,
      line: 4,
      base: false,
      bytes: 300,
      files: 1,
      categories: [{ category: 'packaging', bytes: 300 }],
      paths: [`${sp}/pip/__init__.py`],
    });
    expect(result.stillShipped[0]?.why).toMatch(/line 4 and deleted by layer 3/);
  });

  it('names the lines of a rebuilt layer and of the layer that deletes, from the commands slimpy extended', () => {
    const venv0 = layer([file(`${venv}/pyvenv.cfg`, 10), file(`${sp}/pip/__init__.py`, 300)]);
    const venv1 = layer([file(`${venv}/pyvenv.cfg`, 10), file(`${sp}/pip/__init__.py`, 300)]);
    const install = 'RUN /bin/sh -c pip install numpy';
    const before = image([base, venv0, layer([file(`${sp}/numpy/core.py`, 50)])], 1, [
      '',
      'RUN /bin/sh -c python3 -m venv /app/.venv',
      install,
    ]);
    const after = image(
      [base, venv1, layer([file(`${sp}/numpy/core.py`, 50)], { whiteouts: [`${sp}/pip`] })],
      1,
      [
        '',
        'RUN /bin/sh -c python3 -m venv /app/.venv && sh /tmp/slimpy-prune.sh --no-strip',
        `${install} && sh /tmp/slimpy-prune.sh --prune all`,
      ],
    );
    const result = measureSavings({
      before,
      after,
      fixes: [{ rule: 'earlier-layers', lines: [4] }],
      facts: facts([
        [1, 4],
        [2, 6],
      ]),
    });
    expect(result.stillShipped[0]).toMatchObject({
      layer: 2,
      line: 4,
      categories: [{ category: 'packaging', bytes: 300 }],
    });
    expect(result.stillShipped[0]?.why).toBe(
      'Made by the instruction at line 4 and deleted by the instruction at line 6 (layer 3), a later one: that layer hides them, the earlier one still holds them.',
    );
  });

  it('counts a copy that became a hard link as `duplicates`', () => {
    const libs = [`${sp}/numpy.libs/libgfortran.so.5`, `${sp}/scipy.libs/libgfortran.so.5`];
    const before = image([base, layer([file(libs[0]!, 4000), file(libs[1]!, 4000)])]);
    // Stripped, then linked: the file that keeps the data counts as strip, the link as duplicates.
    const after = image([base, layer([file(libs[0]!, 3000), hardlink(libs[1]!, libs[0]!)])]);
    const result = measureSavings({
      before,
      after,
      fixes: [{ rule: 'duplicates', lines: [] }],
      facts: facts([]),
    });
    expect(result.savings).toEqual([
      { category: 'duplicates', files: 1, bytes: 4000 },
      { category: 'strip', files: 1, bytes: 1000 },
    ]);
    expect(rowsSum(result)).toBe(before.measurement.size - after.measurement.size);
  });

  it('names the fix rules: leftovers by path, install inputs and earlier layers by the layer they targeted', () => {
    const before = image([
      base,
      layer([file(`${venv}/pyvenv.cfg`, 10), file(`${sp}/pip/__pycache__/x.pyc`, 70)]),
      layer([file('/var/lib/apt/lists/deb_Packages', 900), file('/usr/bin/curl', 100)]),
      layer([
        file('/tmp/wheels/numpy-2.0-cp311.whl', 800),
        file('/tmp/wheels/requirements.txt', 5),
      ]),
      layer([file(`${sp}/numpy/core.py`, 50), file('/root/.cache/pip/http/a', 400)]),
    ]);
    const after = image([
      base,
      layer([file(`${venv}/pyvenv.cfg`, 10)]),
      layer([file('/usr/bin/curl', 100)]),
      layer([file(`${sp}/numpy/core.py`, 50)]),
    ]);
    const result = measureSavings({
      before,
      after,
      fixes: [
        { rule: 'leftovers', lines: [3, 5] },
        { rule: 'install-inputs', lines: [4] },
        { rule: 'earlier-layers', lines: [2] },
      ],
      facts: facts([
        [1, 2],
        [2, 3],
        [3, 4],
        [4, 5],
      ]),
    });
    expect(result.savings).toEqual([
      { category: 'leftovers', files: 2, bytes: 1300 },
      { category: 'install-inputs', files: 2, bytes: 805 },
      { category: 'earlier-layers', files: 1, bytes: 70 },
    ]);
    expect(rowsSum(result)).toBe(before.measurement.size - after.measurement.size);
  });

  it('counts what the rewrite adds against the saving, as `other`', () => {
    const before = image([base, layer([file(`${sp}/a/tests/t.py`, 100)])]);
    const after = image([
      base,
      layer([file('/tmp/slimpy-prune.sh', 30)]),
      layer([], { whiteouts: ['/tmp/slimpy-prune.sh'] }),
    ]);
    const result = measureSavings({ before, after, fixes: [], facts: facts([]) });
    expect(result.savings).toEqual([
      { category: 'tests', files: 1, bytes: 100 },
      { category: 'other', files: 1, bytes: -30 },
    ]);
    expect(rowsSum(result)).toBe(70);
  });
});

describe('what strip kept, from the build log', () => {
  it('groups the files by reason, biggest first as evidence', async () => {
    const { stripKeptFromLog } = await import('../../src/slim/strip-log.js');
    const lines = [
      '#12 3.1 slimpy: strip: kept the original /v/numpy.libs/libopenblas.so (loadable segments changed)',
      '   slimpy: strip: kept the original /v/PIL/_imaging.so (strip failed: strip: /tmp/x: bad value)',
      'slimpy: strip: kept the original /v/scipy.libs/libgfortran.so (loadable segments changed)',
      'slimpy: strip        120 files  80.0 MB -> 60.0 MB, 3 kept as they were',
    ];
    const files = new Map([
      ['/v/numpy.libs/libopenblas.so', { size: 30 }],
      ['/v/PIL/_imaging.so', { size: 5 }],
      ['/v/scipy.libs/libgfortran.so', { size: 10 }],
    ]);
    expect(stripKeptFromLog(lines, files)).toEqual({
      files: 3,
      bytes: 45,
      reasons: [
        { reason: 'loadable segments changed', files: 2 },
        { reason: 'strip failed', files: 1 },
      ],
      paths: ['/v/numpy.libs/libopenblas.so', '/v/scipy.libs/libgfortran.so', '/v/PIL/_imaging.so'],
    });
    expect(stripKeptFromLog(['nothing here'], files)).toBeUndefined();
  });
});
