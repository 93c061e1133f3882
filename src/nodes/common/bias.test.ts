import { describe, expect, it } from 'vitest';
import { valueBytes, type BiasValue } from '../../engine/values.js';
import { biasTerms, fillBiasTile, headBias } from './bias.js';

describe('bias terms', () => {
  it('refuses a term type no kernel knows, naming it', () => {
    const bias: BiasValue = { kind: 'bias', terms: [{ type: 'alibi', slopes: [1] }, { type: 'mystery' }] };
    expect(() => biasTerms(bias)).toThrow(/unknown term type "mystery"/);
    expect(() => headBias(bias, 0)).toThrow(/mystery/);
  });

  it('ALiBi adds −m·(i − j) per head; streaming keeps sinks and the last recent keys', () => {
    const hb = headBias({ kind: 'bias', terms: [{ type: 'alibi', slopes: [0.5, 0.25] }, { type: 'streaming', sinkTokens: 1, recentTokens: 2 }] }, 1);
    const tile = new Float32Array(4 * 4);
    fillBiasTile(hb, true, 0, 4, 0, 4, tile);
    const I = -Infinity;
    // Row i, key j: allowed when j < 1 or 0 ≤ i − j < 2 (and causal), value −0.25·(i − j).
    expect(Array.from(tile)).toEqual([0, I, I, I, -0.25, 0, I, I, -0.5, -0.25, 0, I, -0.75, I, -0.25, 0]);
  });

  it('the engine sizes terms without knowing them: typed arrays by their bytes, others 16', () => {
    const segment = new Int32Array(10);
    expect(valueBytes({ kind: 'bias', terms: [{ type: 'segments', segment, seeAll: [1] }, { type: 'alibi', slopes: [1, 2] }] })).toBe(40 + 16);
  });
});
