import { describe, expect, it } from 'vitest';
import { median, timingOrder } from '../../src/smoke/timing.js';

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
