import { describe, expect, it } from 'vitest';
import { searchRestore } from '../../src/pipeline/restore.js';

/** A smoke test that passes when every distribution in `needed` is restored. */
function needs(needed: string[]): {
  passes: (restored: string[]) => Promise<boolean>;
  tested: string[][];
} {
  const tested: string[][] = [];
  return {
    tested,
    passes: (restored) => {
      tested.push([...restored]);
      return Promise.resolve(needed.every((name) => restored.includes(name)));
    },
  };
}

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `d${i}`);

describe('searchRestore', () => {
  it('finds one culprit among n in at most 1 + ceil(log2 n) builds, wherever it is', async () => {
    for (const n of [1, 2, 3, 5, 8, 13, 16, 31]) {
      for (let at = 0; at < n; at++) {
        const candidates = names(n);
        const culprit = candidates[at] as string;
        const test = needs([culprit]);
        const found = await searchRestore(candidates, test.passes);
        expect(found?.restored).toEqual([culprit]);
        expect(found?.tests).toBe(test.tested.length);
        expect(found?.tests).toBeLessThanOrEqual(1 + Math.ceil(Math.log2(n)));
      }
    }
  });

  it('returns only a set it tested and saw pass', async () => {
    const test = needs(['d5']);
    const found = await searchRestore(names(9), test.passes);
    expect(test.tested).toContainEqual(found?.restored);
  });

  it('finds every distribution that must stay when there are several', async () => {
    const test = needs(['d2', 'd6']);
    const found = await searchRestore(names(8), test.passes);
    expect(found?.restored.sort()).toEqual(['d2', 'd6']);
  });

  it('gives up when restoring distributions does not help', async () => {
    const test = { passes: () => Promise.resolve(false) };
    expect(await searchRestore(names(6), test.passes)).toBeUndefined();
  });
});
