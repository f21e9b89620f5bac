import { describe, expect, it } from 'vitest';
import { coldStart, enoughRuns, median, range, timingOrder } from '../../src/smoke/timing.js';

describe('timingOrder', () => {
  it('interleaves the images in mirrored pairs', () => {
    expect(timingOrder(3)).toEqual(['before', 'after', 'after', 'before', 'before', 'after']);
  });

  it('runs each image the same number of times', () => {
    const order = timingOrder(5);
    expect(order.filter((side) => side === 'before')).toHaveLength(5);
    expect(order.filter((side) => side === 'after')).toHaveLength(5);
  });

  it('is empty for no runs', () => {
    expect(timingOrder(0)).toEqual([]);
  });
});

describe('median', () => {
  it.each([
    [[7], 7],
    [[300, 100, 200], 200],
    [[15500, 7100, 7200, 7150, 7300], 7200],
    [[100, 200, 400, 300], 250],
    [[100, 101], 101],
  ])('median(%j) = %d', (values, expected) => {
    expect(median(values)).toBe(expected);
  });

  it('refuses no values', () => {
    expect(() => median([])).toThrow(/no values/);
  });
});

describe('coldStart', () => {
  it('is the delta of the medians, with the wider of the two ranges as its spread', () => {
    expect(coldStart([1000, 1100, 1050], [1400, 1300, 1500])).toEqual({
      deltaMs: 350,
      spreadMs: 200,
      measurable: true,
    });
    expect(range([1400, 1300, 1500])).toBe(200);
  });

  it('calls a delta inside the spread no measurable change', () => {
    expect(coldStart([1000, 1300, 1100], [1150, 1200, 1250])).toMatchObject({
      deltaMs: 100,
      spreadMs: 300,
      measurable: false,
    });
  });
});

describe('enoughRuns', () => {
  it('never stops before three runs each, nor goes past the most asked for', () => {
    expect(enoughRuns([1000, 1000], [1000, 1000], 5)).toBe(false);
    expect(enoughRuns([1000, 1500, 900, 1300, 800], [900, 1400, 1000, 1250, 1200], 5)).toBe(true);
    // Fewer asked for than the minimum: that many.
    expect(enoughRuns([1000], [2000], 1)).toBe(true);
  });

  it('stops at three when the runs agree closely', () => {
    expect(enoughRuns([1000, 1020, 1040], [1010, 1030, 1050], 5)).toBe(true);
    // 10 % of a slow start is close too.
    expect(enoughRuns([5000, 5300, 5100], [5200, 5400, 5100], 5)).toBe(true);
  });

  it('stops at three when the delta stands well clear of the spread', () => {
    expect(enoughRuns([1000, 1200, 1100], [1800, 1900, 2000], 5)).toBe(true);
  });

  it('goes on while the runs vary about as much as the delta', () => {
    expect(enoughRuns([1000, 1300, 1100], [1150, 1200, 1250], 5)).toBe(false);
    expect(enoughRuns([1000, 1300, 1100, 1050], [1150, 1200, 1250, 1100], 5)).toBe(false);
  });
});
