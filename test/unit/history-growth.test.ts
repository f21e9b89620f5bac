import { describe, expect, it } from 'vitest';
import { createEntry } from '../../src/history/entry.js';
import {
  allowedGrowth,
  chooseBaseline,
  growthFailure,
  growthVerdict,
  type BaselineLookup,
} from '../../src/history/growth.js';
import { readSettings } from '../../src/inputs.js';
import type { Growth } from '../../src/model/settings.js';
import type { SlimpyReport } from '../../src/model/report.js';
import { testImage, testReport } from '../support/report.js';

const BASE = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const OTHER = 'b2c3d4e5f60718293a4b5c6d7e8f901234567890';
const found = (size: number, compressed?: number, sha = BASE): BaselineLookup => ({
  baseSha: BASE,
  baseRef: 'main',
  found: { sha, size, compressed },
});

describe('growthVerdict', () => {
  it.each<[string, Growth | undefined, number, boolean, number | undefined, string]>([
    [
      'no max-growth: the delta only',
      undefined,
      410e6,
      false,
      undefined,
      '+10.0 MB (+2.5%) against base a1b2c3d: 400.0 MB → 410.0 MB.',
    ],
    [
      'within a percentage',
      { kind: 'percent', value: 5 },
      410e6,
      false,
      20e6,
      '+10.0 MB (+2.5%) against base a1b2c3d: 400.0 MB → 410.0 MB, within max-growth 5% (20.0 MB).',
    ],
    [
      'exactly at the limit is within',
      { kind: 'percent', value: 5 },
      420e6,
      false,
      20e6,
      '+20.0 MB (+5.0%) against base a1b2c3d: 400.0 MB → 420.0 MB, within max-growth 5% (20.0 MB).',
    ],
    [
      'one byte over a percentage',
      { kind: 'percent', value: 5 },
      420e6 + 1,
      true,
      20e6,
      '+20.0 MB (+5.0%) against base a1b2c3d: 400.0 MB → 420.0 MB, over max-growth 5% (20.0 MB) by 1 B.',
    ],
    [
      'over a size',
      { kind: 'bytes', value: 5e6 },
      430e6,
      true,
      5e6,
      '+30.0 MB (+7.5%) against base a1b2c3d: 400.0 MB → 430.0 MB, over max-growth 5.0 MB by 25.0 MB.',
    ],
    [
      'shrinking is never over',
      { kind: 'bytes', value: 0 },
      380e6,
      false,
      0,
      '−20.0 MB (−5.0%) against base a1b2c3d: 400.0 MB → 380.0 MB, within max-growth 0 B.',
    ],
  ])('%s', (_name, maxGrowth, actual, over, allowed, message) => {
    const verdict = growthVerdict(maxGrowth, found(400e6), { size: actual });
    expect(verdict).toEqual({
      baseSha: BASE,
      baseSize: 400e6,
      metric: 'uncompressed',
      actual,
      allowed,
      over,
      message,
    });
  });

  it('compares compressed sizes when the budget metric is compressed and both sides have one', () => {
    const verdict = growthVerdict(
      { kind: 'percent', value: 10 },
      found(400e6, 150e6),
      { size: 401e6, compressed: 170e6 },
      'compressed',
    );
    expect(verdict).toMatchObject({
      metric: 'compressed',
      baseSize: 150e6,
      actual: 170e6,
      allowed: 15e6,
      over: true,
    });
    expect(verdict.message).toContain('150.0 MB → 170.0 MB compressed');
    const fallback = growthVerdict(
      undefined,
      found(400e6),
      { size: 401e6, compressed: 170e6 },
      'compressed',
    );
    expect(fallback).toMatchObject({ metric: 'uncompressed', baseSize: 400e6, actual: 401e6 });
  });

  it('names the commit it compared with when the base commit itself has no record', () => {
    const verdict = growthVerdict(undefined, found(400e6, undefined, OTHER), { size: 400e6 });
    expect(verdict.baseSha).toBe(OTHER);
    expect(verdict.message).toBe(
      '0 B (0.0%) against b2c3d4e, the newest size recorded on main (none for base a1b2c3d): 400.0 MB → 400.0 MB.',
    );
  });

  it('says plainly when there is no baseline, and is never over then', () => {
    const verdict = growthVerdict(
      { kind: 'percent', value: 0 },
      { baseSha: BASE, baseRef: 'refs/heads/release' },
      { size: 1e9 },
    );
    expect(verdict).toEqual({
      baseSha: BASE,
      metric: 'uncompressed',
      actual: 1e9,
      over: false,
      message: 'no size recorded for base a1b2c3d; one is recorded on the next push to release',
    });
    expect(growthVerdict(undefined, { baseSha: BASE }, { size: 1 }).message).toMatch(
      /next push to the base branch$/,
    );
  });

  it('says growth is not checked when the history could not be read', () => {
    const verdict = growthVerdict(
      { kind: 'percent', value: 0 },
      { baseSha: BASE, unavailable: 'the cache is down' },
      { size: 1e9 },
    );
    expect(verdict).toMatchObject({
      over: false,
      message: 'growth against base a1b2c3d is not checked: the cache is down',
    });
  });

  it('rounds a percentage allowance down to whole bytes', () => {
    expect(allowedGrowth({ kind: 'percent', value: 2.5 }, 1001)).toBe(25);
    expect(allowedGrowth({ kind: 'bytes', value: 7 }, 1001)).toBe(7);
  });

  it('fails the job with both numbers, readable and exact', () => {
    const verdict = growthVerdict({ kind: 'bytes', value: 5e6 }, found(400e6), { size: 430e6 });
    expect(growthFailure(verdict)).toBe(
      'The image grew more than `max-growth` allows: +30.0 MB (+7.5%) against base a1b2c3d: 400.0 MB → 430.0 MB, ' +
        'over max-growth 5.0 MB by 25.0 MB. (grew 30000000 bytes, 5000000 allowed)',
    );
  });
});

describe('chooseBaseline', () => {
  const settings = readSettings(() => '', {
    workspace: '/w',
    outputDir: '/o',
    cacheDir: '/c',
    runId: 'r',
  });
  const report = (before: number, after?: number): SlimpyReport =>
    testReport({
      before: testImage(before, { compressed: before / 2 }),
      after: after === undefined ? undefined : testImage(after),
    });
  const entry = (kind: 'baseline' | 'pull-request', r: SlimpyReport) =>
    createEntry(r, settings, {
      kind,
      sha: OTHER,
      ref: 'refs/heads/main',
      commentKey: 'k',
      now: new Date(0),
    });

  it('takes the delivered size of a baseline: the slimmed image, or the image in measure mode', () => {
    expect(chooseBaseline({ baseSha: BASE }, entry('baseline', report(500, 300))).found).toEqual({
      sha: OTHER,
      size: 300,
      compressed: undefined,
      recordedAt: '1970-01-01T00:00:00.000Z',
    });
    expect(chooseBaseline({ baseSha: BASE }, entry('baseline', report(500))).found).toMatchObject({
      size: 500,
      compressed: 250,
    });
  });

  it('never takes a pull request run, nor nothing, for a baseline', () => {
    expect(
      chooseBaseline({ baseSha: BASE, baseRef: 'main' }, entry('pull-request', report(500))),
    ).toEqual({ baseSha: BASE, baseRef: 'main' });
    expect(chooseBaseline({ baseSha: BASE }, undefined)).toEqual({
      baseSha: BASE,
      baseRef: undefined,
    });
  });
});
