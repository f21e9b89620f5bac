import { describe, expect, it } from 'vitest';
import { categoryOf, measureSavings } from '../../src/slim/savings.js';

const sp = '/app/.venv/lib/python3.11/site-packages';

describe('savings attribution', () => {
  it.each([
    [`${sp}/pyarrow/tests/test_io.py`, 'tests'],
    [`${sp}/numpy/_core/tests/data/x.csv`, 'tests'],
    [`${sp}/numpy/__pycache__/version.cpython-311.pyc`, 'pycache'],
    [`${sp}/pyarrow/lib.pyi`, 'stubs'],
    [`${sp}/pyarrow/include/arrow/api.h`, 'sources'],
    [`${sp}/pyarrow/lib.pyx`, 'sources'],
    [`${sp}/pyarrow/libarrow.a`, 'static-libs'],
    [`${sp}/pip/__init__.py`, 'packaging'],
    [`${sp}/pip-24.0.dist-info/RECORD`, 'packaging'],
    ['/app/.venv/bin/pip3', 'packaging'],
    ['/root/.cache/pip/http/x', 'caches'],
    [`${sp}/numpy/testing/__init__.py`, 'other'],
  ])('%s -> %s', (path, category) => {
    expect(categoryOf(path)).toBe(category);
  });

  it('counts removed files by category and shrunk files as strip', () => {
    const before = new Map([
      [`${sp}/a/tests/t.py`, { size: 100, type: 'file' }],
      [`${sp}/a/lib.so`, { size: 1000, type: 'file' }],
      [`${sp}/a/core.so`, { size: 500, type: 'file' }],
      [`${sp}/a`, { size: 0, type: 'dir' }],
    ]);
    const after = new Map([
      [`${sp}/a/lib.so`, { size: 600, type: 'file' }],
      [`${sp}/a/core.so`, { size: 500, type: 'file' }],
      [`${sp}/a`, { size: 0, type: 'dir' }],
    ]);
    const { savings, strippedTop } = measureSavings(before, after);
    expect(savings).toEqual([
      { category: 'strip', files: 1, bytes: 400 },
      { category: 'tests', files: 1, bytes: 100 },
    ]);
    expect(strippedTop).toEqual([{ path: `${sp}/a/lib.so`, before: 1000, after: 600 }]);
  });
});
