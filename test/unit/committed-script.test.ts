/**
 * The prune script a patch commits: only the chosen rules, under 100 lines, valid POSIX sh. What
 * it does to real environments is held to prune.sh's result in
 * test/integration/committed-script.test.itg.ts.
 */
import { spawnSync } from 'node:child_process';
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
});
