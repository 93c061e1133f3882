import { describe, expect, it } from 'vitest';
import { fitLogLog, MIN_SWEEP_MS, sweepSlope } from './sweep.js';

describe('fitLogLog', () => {
  it('recovers the exponent and constant of a power law', () => {
    const xs = [1024, 2048, 4096, 8192];
    const quad = fitLogLog(xs, xs.map((x) => 3 * x * x))!;
    expect(quad.slope).toBeCloseTo(2, 10);
    expect(Math.exp(quad.intercept)).toBeCloseTo(3, 8);
    expect(quad.r2).toBeCloseTo(1, 10);
    expect(fitLogLog(xs, xs.map((x) => 5 * x))!.slope).toBeCloseTo(1, 10);
  });

  it('matches the least-squares formula on noisy points', () => {
    // log2 x = 0, 1, 2; log2 y = 0, 1, 3: slope = Σ(dx·dy)/Σdx² = (1·(-4/3) + 0 + 1·(5/3)) / 2 = 1.5 (base-free).
    const f = fitLogLog([1, 2, 4], [1, 2, 8])!;
    expect(f.slope).toBeCloseTo(1.5, 12);
    // r² = Sxy² / (Sxx·Syy) with Sxx = 2, Sxy = 3, Syy = 16/9 + 1/9 + 25/9 = 42/9 (in log2 units; the ratio is base-free).
    expect(f.r2).toBeCloseTo(9 / (2 * 42 / 9), 12);
  });

  it('skips missing and non-positive points and needs two distinct x', () => {
    expect(fitLogLog([1, 2, 4], [NaN, 0, 16])).toBeNull();
    expect(fitLogLog([1, 2, 4], [1, NaN, 16])!.slope).toBeCloseTo(2, 10);
    expect(fitLogLog([3, 3, 3], [1, 2, 3])).toBeNull();
  });
});

describe('sweepSlope (the rule shared by ctxlab sweep and the editor)', () => {
  const xs = [256, 512, 1024];
  it('fits from three points with a figure above 0', () => {
    expect(sweepSlope(xs, [1, 4, 16], MIN_SWEEP_MS).slope).toBeCloseTo(2, 12);
    expect(sweepSlope(xs, [1, 4, 16]).why).toBeUndefined();
  });

  it('gives no exponent from two points, where a line always fits exactly', () => {
    expect(sweepSlope([256, 512], [1, 4], MIN_SWEEP_MS)).toEqual({ slope: null, why: 'fewer than 3 points (finished runs with a figure above 0)' });
    expect(sweepSlope(xs, [1, 0, 16]).slope).toBeNull();
    expect(sweepSlope(xs, [1, NaN, 16]).slope).toBeNull();
  });

  it('gives no time exponent when every time is under the noise floor', () => {
    expect(sweepSlope(xs, [0.01, 0.02, 0.04], MIN_SWEEP_MS)).toEqual({ slope: null, why: 'every time under 0.05 ms' });
    expect(sweepSlope(xs, [0.01, 0.02, 0.06], MIN_SWEEP_MS).slope).toBeCloseTo(Math.log(6) / Math.log(4), 12);
  });

  it('says why when the swept values cannot be fitted', () => {
    expect(sweepSlope(null, [1, 2, 3])).toEqual({ slope: null, why: 'the swept values are not numbers' });
    expect(sweepSlope([4, 4, 4], [1, 2, 3])).toEqual({ slope: null, why: 'the swept values must be positive and differ' });
    expect(sweepSlope([-1, 2, 4], [1, 2, 3])).toEqual({ slope: null, why: 'the swept values must be positive and differ' });
  });
});
