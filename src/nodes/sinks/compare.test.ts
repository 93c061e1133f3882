import { describe, expect, it } from 'vitest';
import { f32 } from '../../engine/tensor.js';
import type { MetricsValue } from '../../engine/values.js';
import { runNode } from '../testing.js';
import { compare } from './compare.js';

const metricsOf = async (a: number[], b: number[], shapeA = [a.length], shapeB = [b.length]) =>
  ((await runNode(compare, { a: f32(shapeA, a), b: f32(shapeB, b) })).metrics as MetricsValue).values;

describe('compare', () => {
  it('computes the metrics by their formulas (hand-computed)', async () => {
    // a − b = [0, 0, 1, −4]; a·b = 43; ‖a‖² = 30, ‖b‖² = 73.
    const m = await metricsOf([1, 2, 3, 4], [1, 2, 2, 8]);
    expect(m.maxAbs).toBe(4);
    expect(m.meanAbs).toBe(1.25);
    expect(m.maxRel).toBe(0.5);
    expect(m.cosine).toBeCloseTo(43 / Math.sqrt(30 * 73), 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt(17 / 4), 12);
  });

  it('falls back to maxAbs when b is all zeros', async () => {
    const m = await metricsOf([1, -2], [0, 0]);
    expect([m.maxRel, m.cosine]).toEqual([2, 0]);
    expect((await metricsOf([0, 0], [0, 0])).cosine).toBe(1);
  });

  it('refuses shapes that differ, also when they are known only at run time', async () => {
    await expect(metricsOf([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6], [2, 3], [3, 2])).rejects.toThrow(/equal shapes/);
    expect((await metricsOf([1, 2], [1, 2], [1, 2], [2])).maxAbs).toBe(0);
  });
});
