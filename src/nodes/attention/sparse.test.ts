// The block-sparse machinery: the "fully visible" shortcut that skips a tile's mask must never
// claim a tile the pattern masks, and the kernel with small tiles (so the shortcut fires at T ≤ 128)
// still equals the pattern's dense formula.
import { describe, expect, it } from 'vitest';
import { f32 } from '../../engine/tensor.js';
import { fillGaussian } from '../common/random.js';
import { expectClose, testContext } from '../testing.js';
import { bigbirdPattern } from './bigbird.js';
import { longformerPattern } from './longformer.js';
import { attentionDims } from './reference.js';
import { bandPattern } from './sliding-window.js';
import { blockSparseAttention, densePattern, keyChunks, patternReference, queryBlocks, type SparsePattern } from './sparse.js';

const T = 96;
const patterns: [string, SparsePattern][] = [
  ['causal band 20', bandPattern(20, true)],
  ['non-causal band 20', bandPattern(20, false)],
  ['longformer 12 + 5 global', longformerPattern(12, 5, true, T)],
  ['bigbird 8', bigbirdPattern({ causal: true, blockSize: 8, windowBlocks: 3, globalBlocks: 2, randomBlocks: 2, seed: 4 }, T)],
  ['dense', densePattern(T)],
];

describe.each(patterns)('%s', (_name, pattern) => {
  it('fullyVisible only claims tiles whose every pair is visible once', () => {
    let claimed = 0;
    for (const B of [8, 16])
      for (const { rows, i0 } of queryBlocks({ H: 1, Hkv: 1, Tq: T, Tk: T, D: 1, Dv: 1 }, B))
        for (const cols of keyChunks(pattern, 0, i0, i0 + rows, false, T, 8)) {
          if (!pattern.fullyVisible?.(0, i0, i0 + rows, cols)) continue;
          claimed++;
          for (let i = i0; i < i0 + rows; i++) for (const j of cols) expect(pattern.logWeight(0, i, j), `(${i}, ${j})`).toBe(0);
        }
    expect(claimed).toBeGreaterThan(0);
  });

  it('the kernel with 8×8 tiles equals the dense formula (cpu)', async () => {
    const q = f32([2, T, 4], fillGaussian(new Float32Array(2 * T * 4), 1));
    const k = f32([1, T, 4], fillGaussian(new Float32Array(T * 4), 2));
    const v = f32([1, T, 3], fillGaussian(new Float32Array(T * 3), 3));
    const s = attentionDims(q, k, v);
    const ctx = await testContext('cpu');
    const got = await blockSparseAttention(ctx, { q, k, v }, { causal: true }, s, pattern, { queryBlock: 8, keyChunk: 8 });
    expectClose(got.data, patternReference({ q, k, v }, { causal: true }, s, pattern).data, { atol: 1e-5 });
  });
});
