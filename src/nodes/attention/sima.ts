// SimA: softmax-free attention that ℓ1-normalises each query and key along D and multiplies
// without any normalisation of the weights: O = Q̂(K̂ᵀV), O(T·D·Dv); causal through prefix sums
// (kernelized.ts). The ℓ1 norm cancels `scale`. Weights can be negative and are not normalised,
// so the output's magnitude grows with the number of keys a query sees.
import { z } from 'zod';
import { commonParams, groupOf, defineVariant } from './common.js';
import { featureAttention, featureCost, kernelReference, type FeatureMap } from './kernelized.js';

const featureMap: FeatureMap = {
  queries: (tf, q) => tf.divNoNan(q, tf.sum(tf.abs(q), 1, true)),
  keys: (tf, k) => tf.divNoNan(k, tf.sum(tf.abs(k), 1, true)),
  normalize: false,
};

/** Row r of a [rows, D] array divided by its ℓ1 norm (0 for a zero row). */
function l1Row(x: ArrayLike<number>, r: number, D: number): Float64Array {
  const out = new Float64Array(D);
  let n = 0;
  for (let d = 0; d < D; d++) n += Math.abs(x[r * D + d]!);
  if (n > 0) for (let d = 0; d < D; d++) out[d] = x[r * D + d]! / n;
  return out;
}

const params = z.object({ variant: z.literal('sima'), ...commonParams });

export const sima = defineVariant(params, {
  doc: {
    title: 'SimA (ℓ1-normalised, softmax-free)',
    summary: 'Normalises q and k by their ℓ1 norms and drops softmax: O = Q̂(K̂ᵀV) in linear time, no normalisation of the weights. The probe shows exact attention\'s map.',
    formula: 'q̂ = q/‖q‖₁, k̂ = k/‖k‖₁; O_i = q̂_i·Σ_j k̂_j v_jᵀ (j ≤ i when causal)',
    references: [{ title: 'SimA: Simple Softmax-free Attention for Vision Transformers', year: 2022 }],
  },
  cost: (s, p, c) => featureCost(s, p.causal, s.D, 3 * (s.H * s.Tq + s.Hkv * s.Tk) * s.D, c),
  implicitMap: true,
  run: (ctx, ins, p, s) => featureAttention(ctx, ins, p, s, featureMap),
  reference({ q, k, v, bias }, p, s) {
    const off = s.Tk - s.Tq;
    const kappa = (h: number, i: number, j: number) => {
      const a = l1Row(q.data, h * s.Tq + i - off, s.D);
      const b = l1Row(k.data, groupOf(h, s) * s.Tk + j, s.D);
      return a.reduce((acc, x, d) => acc + x * b[d]!, 0);
    };
    return kernelReference({ v, bias }, p, s, kappa, false);
  },
});
