import { describe, expect, it } from 'vitest';
import { f32 } from '../tensor.js';
import { deviation, isIncomparable, type Deviation } from './accuracy.js';

const dev = (a: number[], b: number[], sa = [a.length], sb = [b.length]) => {
  const d = deviation(f32(sa, a), f32(sb, b));
  if (isIncomparable(d)) throw new Error(d.incomparable);
  return d as Deviation;
};

describe('deviation', () => {
  it('matches hand-computed values', () => {
    // a = (1, 2, 2), b = (1, 2, 3): a·b = 11, ‖a‖ = 3, ‖b‖ = √14, a − b = (0, 0, −1).
    const d = dev([1, 2, 2], [1, 2, 3]);
    expect(d.cosine).toBeCloseTo(11 / (3 * Math.sqrt(14)), 12);
    expect(d.maxAbs).toBe(1);
    expect(d.relError).toBeCloseTo(1 / Math.sqrt(14), 12);
    expect(d.meanAbs).toBeCloseTo(1 / 3, 12);
    expect(d.rmse).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(d.maxRel).toBeCloseTo(1 / 3, 12);
    expect(d.elements).toBe(3);
  });

  it('is exact for identical tensors and sign-blind only in maxAbs', () => {
    expect(dev([3, -4], [3, -4])).toEqual({ cosine: 1, maxAbs: 0, relError: 0, meanAbs: 0, rmse: 0, maxRel: 0, elements: 2 });
    // a = −b: cosine −1, ‖a − b‖ = 2‖b‖.
    const d = dev([-3, 4], [3, -4]);
    expect(d.cosine).toBeCloseTo(-1, 12);
    expect(d.maxAbs).toBe(8);
    expect(d.relError).toBeCloseTo(2, 12);
  });

  it('handles zeros without dividing by them', () => {
    expect(dev([0, 0], [0, 0])).toEqual({ cosine: 1, maxAbs: 0, relError: 0, meanAbs: 0, rmse: 0, maxRel: 0, elements: 2 });
    // b = 0: relative errors fall back to ‖a‖ = 5 and max|a| = 4; cosine 0.
    expect(dev([3, 4], [0, 0])).toEqual({ cosine: 0, maxAbs: 4, relError: 5, meanAbs: 3.5, rmse: Math.sqrt(12.5), maxRel: 4, elements: 2 });
  });

  it('reports NaN rather than skipping it', () => {
    const d = dev([NaN, 1, 5], [0, 1, 1]);
    expect(d.maxAbs).toBeNaN();
    expect(d.relError).toBeNaN();
  });

  it('compares [1, H, T, D] with [H, T, D] and names differing shapes', () => {
    expect(dev([1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 2], [2, 2]).maxAbs).toBe(0);
    const d = deviation(f32([2, 3], [1, 2, 3, 4, 5, 6]), f32([3, 2], [1, 2, 3, 4, 5, 6]));
    expect(d).toEqual({ incomparable: 'shape [2, 3] differs from the exact [3, 2]' });
  });
});
