import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatCount,
  formatDelta,
  formatDuration,
  formatSignedBytes,
  formatSignedDuration,
  formatSignedPercent,
  shortSha,
  truncateMiddle,
  truncateText,
} from '../../src/report/format.js';

describe('formatBytes: decimal units as docker shows them', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 kB'],
    [12_345, '12.3 kB'],
    [999_949, '999.9 kB'],
    [999_950, '1.0 MB'], // rounds up into the next unit, never "1000.0 kB"
    [429_300_000, '429.3 MB'],
    [459_000_000, '459.0 MB'],
    [1_250_000_000, '1.25 GB'],
    [-30_100_000, '−30.1 MB'],
    [Number.NaN, '?'],
  ])('%d → %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('signed changes', () => {
  it.each([
    [-30_100_000, '−30.1 MB'],
    [1_200_000, '+1.2 MB'],
    [0, '0 B'],
  ])('formatSignedBytes(%d) → %s', (delta, text) => {
    expect(formatSignedBytes(delta)).toBe(text);
  });

  it.each([
    [-0.0654, '−6.5%'],
    [0.004, '+0.4%'],
    [0.00001, '0.0%'],
    [-0.00001, '0.0%'],
  ])('formatSignedPercent(%d) → %s', (fraction, text) => {
    expect(formatSignedPercent(fraction)).toBe(text);
  });

  it('formatDelta gives bytes and percentage of the base: 459 MB → 429 MB', () => {
    expect(formatDelta(429_000_000 - 459_000_000, 459_000_000)).toBe('−30.0 MB (−6.5%)');
    expect(formatDelta(5_000, 0)).toBe('+5.0 kB');
  });
});

describe('durations and counts', () => {
  it.each([
    [800, '0.8 s'],
    [1234, '1.2 s'],
    [40, '40 ms'],
    [-40, '−40 ms'],
  ])('formatDuration(%d) → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('signs duration changes', () => {
    expect(formatSignedDuration(800)).toBe('+0.8 s');
    expect(formatSignedDuration(-1500)).toBe('−1.5 s');
  });

  it('groups thousands without depending on the locale', () => {
    expect(formatCount(1834)).toBe('1,834');
    expect(formatCount(1_234_567)).toBe('1,234,567');
    expect(formatCount(12)).toBe('12');
  });

  it('shortens a sha like GitHub', () => {
    expect(shortSha('4e2a9d1c7b3f5a8e0d6c2b9f1a7e3d5c8b0f2a46')).toBe('4e2a9d1');
  });
});

describe('truncation', () => {
  it('keeps the head or the tail', () => {
    expect(truncateText('abcdef', 3, 'head')).toBe('abc');
    expect(truncateText('abcdef', 3, 'tail')).toBe('def');
    expect(truncateText('abc', 10, 'head')).toBe('abc');
    expect(truncateText('abc', 0, 'tail')).toBe('');
  });

  it('never splits a surrogate pair', () => {
    expect(truncateText('ab🐍cd', 3, 'head')).toBe('ab');
    expect(truncateText('ab🐍cd', 3, 'tail')).toBe('cd');
  });

  it('shortens long paths in the middle', () => {
    const path = `/venv/lib/python3.12/site-packages/${'x'.repeat(300)}/libarrow.so.2500`;
    const short = truncateMiddle(path, 60);
    expect(short.length).toBeLessThanOrEqual(60);
    expect(short.startsWith('/venv/lib/')).toBe(true);
    expect(short.endsWith('libarrow.so.2500')).toBe(true);
    expect(short).toContain('…');
  });
});
