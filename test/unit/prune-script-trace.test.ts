import { describe, expect, it } from 'vitest';
import { loadPruneScript, pruneScriptArgs, pruneScriptText } from '../../src/slim/script.js';

const base = { strip: true, keep: [], keepPackages: ['pandas'] };

describe('the prune script with a trace', () => {
  it('carries the trace as comment lines after its last command', () => {
    const text = pruneScriptText({ ...base, prune: ['pycache'], traced: ['a/b.py', 'c\nd.py'] });
    const plain = loadPruneScript();
    expect(text.startsWith(plain)).toBe(true);
    expect(text.slice(plain.length)).toBe('#@slimpy-traced\n#@ a/b.py\n');
  });

  it('is the plain script without a trace', () => {
    expect(pruneScriptText({ ...base, prune: ['pycache'] })).toBe(loadPruneScript());
  });

  it('passes keep-packages only when unused is on (the Dockerfile stays the same otherwise)', () => {
    expect(pruneScriptArgs({ ...base, prune: ['tests'] })).toEqual(['--prune', 'tests']);
    expect(pruneScriptArgs({ ...base, prune: ['tests', 'unused'] })).toEqual([
      '--prune',
      'tests,unused',
      '--keep-package',
      'pandas',
    ]);
  });
});
