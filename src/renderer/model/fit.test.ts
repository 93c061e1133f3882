import { describe, expect, it } from 'vitest';
import { fitLogLog, parseSweepValues } from './fit.js';

describe('log-log fit', () => {
  it('recovers the exponent of a power law', () => {
    const xs = [1024, 2048, 4096, 8192];
    expect(fitLogLog(xs, xs.map((x) => 3 * x * x))!.slope).toBeCloseTo(2, 10);
    expect(fitLogLog(xs, xs.map((x) => 5 * x))!.slope).toBeCloseTo(1, 10);
    expect(fitLogLog(xs, xs.map((x) => 3 * x * x))!.r2).toBeCloseTo(1, 10);
  });

  it('skips missing and non-positive points and needs two', () => {
    expect(fitLogLog([1, 2, 4], [NaN, 0, 16])).toBeNull();
    expect(fitLogLog([1, 2, 4], [1, NaN, 16])!.slope).toBeCloseTo(2, 10);
  });

  it('parses sweep values: lists, K suffixes and doubling ranges', () => {
    expect(parseSweepValues('1K..8K')).toEqual([1024, 2048, 4096, 8192]);
    expect(parseSweepValues('100..1000 x10')).toEqual([100, 1000]);
    expect(parseSweepValues('512, 1024;2048')).toEqual([512, 1024, 2048]);
    expect(() => parseSweepValues('abc')).toThrow(/not a number/);
    expect(() => parseSweepValues('8..1')).toThrow(/goes from/);
  });
});
