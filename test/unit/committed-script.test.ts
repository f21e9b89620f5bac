/**
 * The prune script a patch commits: only the chosen rules, under 100 lines, valid POSIX sh. What
 * it does to real environments is held to prune.sh's result in
 * test/integration/committed-script.test.itg.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRUNE_CATEGORIES } from '../../src/model/categories.js';
import { committedPruneScript, compiledAtRunTime } from '../../src/slim/committed-script.js';

const every = {
  strip: true,
  prune: [...PRUNE_CATEGORIES],
  keep: [] as string[],
  shipsWholeFilesystem: true,
};

function syntaxErrors(script: string): string {
  const result = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
  return result.status === 0 ? '' : result.stderr;
}

describe('committedPruneScript', () => {
  it('stays under 100 lines with every rule, keep globs and the whole-image cleanup', () => {
    const script = committedPruneScript({
      ...every,
      keep: ['*/h5py/tests/*', '/opt/venv/lib/python3.11/site-packages/scipy/*', '*/a b/*'],
      dedupe: true,
    })!;
    expect(script.split('\n').length - 1).toBeLessThanOrEqual(100);
    expect(syntaxErrors(script)).toBe('');
  });

  it('is nothing at all when no rule is chosen', () => {
    expect(
      committedPruneScript({ ...every, strip: false, prune: [], shipsWholeFilesystem: false }),
    ).toBeUndefined();
  });

  it('holds only the rules chosen', () => {
    const script = committedPruneScript({
      ...every,
      strip: false,
      prune: ['pycache'],
      shipsWholeFilesystem: false,
    })!;
    expect(syntaxErrors(script)).toBe('');
    expect(script).toContain('__pycache__');
    for (const absent of ['readelf', 'binutils', 'pyvenv.cfg', "'*.pyi'", '-name tests', 'kept'])
      expect(script, absent).not.toContain(absent);
    expect(script.split('\n').length).toBeLessThan(25);
  });

  it('cleans up outside the environments only where the whole image ships', () => {
    const derived = committedPruneScript({ ...every, shipsWholeFilesystem: false })!;
    const sameRun = committedPruneScript(every)!;
    expect(derived).not.toContain('apt-get purge');
    expect(derived).not.toContain('/root/.cache/pip');
    expect(sameRun).toContain('apt-get purge');
    expect(sameRun).toContain('/root/.cache/pip');
  });

  it("takes the package exceptions' packages that compile at run time, so an addition there carries over", () => {
    const listed = compiledAtRunTime();
    expect(listed).toEqual(expect.arrayContaining(['torch', 'triton', 'numba']));
    const script = committedPruneScript(every)!;
    for (const name of listed) expect(script).toContain(`-name ${name} `);
  });

  it('quotes everything in a keep glob but the glob characters', () => {
    const script = committedPruneScript({ ...every, keep: ['*/$(touch pwned)/it`s [ab]*'] })!;
    expect(script).toContain('*/\\$\\(touch\\ pwned\\)/it\\`s\\ [ab]*');
    expect(syntaxErrors(script)).toBe('');
  });

  it('runs fewer of its rules when a RUN names them (--no-strip, --prune), as prune.sh does', () => {
    const script = committedPruneScript({ ...every, shipsWholeFilesystem: false })!;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'slimpy-committed-'));
    try {
      const venv = path.join(dir, 'venv');
      const site = path.join(venv, 'lib/python3.11/site-packages');
      const files = {
        'pyvenv.cfg': 'home = /usr/bin\n',
        [`${site}/pip/__init__.py`]: '',
        [`${site}/pip-24.0.dist-info/RECORD`]: 'pip/__init__.py,,\npip-24.0.dist-info/RECORD,,\n',
        [`${site}/pkg/__init__.py`]: '',
        [`${site}/pkg/__pycache__/__init__.cpython-311.pyc`]: 'x',
        [`${site}/pkg/tests/test_x.py`]: '',
        [`${site}/pkg/mod.pyi`]: '',
      };
      for (const [name, text] of Object.entries(files)) {
        const file = path.isAbsolute(name) ? name : path.join(venv, name);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, text);
      }
      writeFileSync(path.join(dir, 'prune.sh'), script);
      const run = spawnSync(
        'sh',
        [path.join(dir, 'prune.sh'), '--no-strip', '--prune', 'pycache,stubs', venv],
        {
          encoding: 'utf8',
        },
      );
      expect(run.status, run.stderr).toBe(0);
      expect(existsSync(`${site}/pkg/__pycache__`)).toBe(false);
      expect(existsSync(`${site}/pkg/mod.pyi`)).toBe(false);
      // Not named: they stay (pip for a later RUN's install).
      expect(existsSync(`${site}/pkg/tests/test_x.py`)).toBe(true);
      expect(existsSync(`${site}/pip/__init__.py`)).toBe(true);
      const all = spawnSync('sh', [path.join(dir, 'prune.sh'), '--no-strip', venv], {
        encoding: 'utf8',
      });
      expect(all.status, all.stderr).toBe(0);
      expect(existsSync(`${site}/pkg/tests`)).toBe(false);
      expect(existsSync(`${site}/pip`)).toBe(false);
      expect(existsSync(`${site}/pkg/__init__.py`)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
