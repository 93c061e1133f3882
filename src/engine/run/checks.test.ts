import { describe, expect, it } from 'vitest';
import { f32, i32 } from '../tensor.js';
import { metrics, type Value } from '../values.js';
import { evaluateChecks, nonFiniteOutputs } from './checks.js';

describe('checks', () => {
  it('a check that compares nothing fails instead of passing silently', () => {
    const outputs = { cmp: { metrics: metrics({ maxAbs: 0 }) } };
    const [r] = evaluateChecks([{ node: 'cmp', port: 'metrics', metric: 'maxAbs', factor: 1 }], outputs);
    expect(r).toMatchObject({ ok: false, text: 'check on cmp.maxAbs has no comparison (lt, le, gt or ge)' });
  });

  it('counts NaN and ±Infinity per float output, a cache\'s K and V included, and says nothing when all are finite', () => {
    const k = f32([2], [NaN, 1]);
    const v = f32([2], [Infinity, -Infinity]);
    const outputs = {
      out: f32([3], [NaN, 0, -Infinity]),
      ids: i32([2], [1, 2]),
      cache: { kind: 'kv', k, v, positions: new Int32Array(2) } as unknown as Value,
      fine: f32([2], [1, 2]),
    };
    expect(nonFiniteOutputs(outputs)).toEqual({ nonFinite: { out: 2, cache: 3 } });
    expect(nonFiniteOutputs({ fine: f32([1], [0]) })).toEqual({});
  });
});
