import { describe, expect, it } from 'vitest';
import { culpritCandidates, describeRule } from '../../src/pipeline/culprit.js';
import { flagInputs } from '../../src/cli-flags.js';
import { readSettings } from '../../src/inputs.js';

describe('the culprit search covers the fix rules', () => {
  const wanted = {
    strip: true,
    prune: ['tests', 'pycache'] as const,
    keep: [],
    fix: ['leftovers', 'install-inputs', 'duplicates'] as const,
  };

  it('tries strip, then each fix rule that changed the Dockerfile, then each category', () => {
    const candidates = culpritCandidates(
      { ...wanted, prune: [...wanted.prune], fix: [...wanted.fix] },
      ['install-inputs', 'leftovers'],
    );
    expect(candidates.map((candidate) => candidate.culprit)).toEqual([
      'strip',
      'leftovers',
      'install-inputs',
      'tests',
      'pycache',
    ]);
    const withoutInputs = candidates[2]?.script;
    expect(withoutInputs?.fix).toEqual(['leftovers', 'duplicates']);
    expect(withoutInputs?.prune).toEqual(['tests', 'pycache']);
    expect(withoutInputs?.strip).toBe(true);
  });

  it('tries without unused first, and keeps unused out of the other variants', () => {
    const candidates = culpritCandidates({ ...wanted, prune: ['tests', 'unused'], fix: [] });
    expect(candidates.map((candidate) => candidate.culprit)).toEqual(['unused', 'strip', 'tests']);
    expect(candidates[0]?.script.prune).toEqual(['tests']);
    expect(candidates[1]?.script.prune).toEqual(['tests', 'unused']);
  });

  it('names a fix rule as a fix', () => {
    expect(describeRule('install-inputs')).toBe('`install-inputs` fix');
    expect(describeRule('tests')).toBe('`tests` removal');
  });
});

describe('the --fix flag', () => {
  const settings = (fix: string | undefined) => {
    const inputs = flagInputs('slim', { fix });
    return readSettings((name) => inputs[name] ?? '', {
      workspace: '/w',
      outputDir: '/w/out',
      cacheDir: '/w/cache',
      runId: 'r',
    });
  };

  it('defaults to every rule, takes a list, or all but one', () => {
    expect(settings(undefined).fix).toEqual([
      'leftovers',
      'install-inputs',
      'duplicates',
      'earlier-layers',
      'toolchain',
    ]);
    expect(settings('none').fix).toEqual([]);
    expect(settings('leftovers,duplicates').fix).toEqual(['leftovers', 'duplicates']);
    expect(settings('-install-inputs').fix).not.toContain('install-inputs');
  });

  it('names the input and the known rules when a name is wrong', () => {
    expect(() => settings('leftover')).toThrow(
      /fix.*unknown fix rule "leftover"; known: all, none, leftovers/,
    );
  });
});
