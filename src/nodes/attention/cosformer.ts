// cosFormer: ReLU features re-weighted by cos(π/2·(i − j)/M), M = Tk, which decomposes as
// cos a_i cos a_j + sin a_i sin a_j (a_t = π/2·t/M): two linear attentions over the features
// [relu(x)·cos a, relu(x)·sin a], so the whole thing stays O(T·D·Dv) (kernelized.ts). The re-weighting
// favours nearby tokens. ReLU is positively homogeneous, so the normalised output ignores `scale`.
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { commonParams, groupOf, scaleOf, defineVariant } from './common.js';
import { featureAttention, featureCost, kernelReference, type FeatureMap } from './kernelized.js';
import type { AttentionShape } from './reference.js';

/** [relu(x)·cos a_t, relu(x)·sin a_t] for rows at absolute positions start, start + 1, … */
function features(tf: Parameters<FeatureMap['keys']>[0], x: tfc.Tensor2D, start: number, M: number) {
  const n = x.shape[0];
  const a = Float32Array.from({ length: n }, (_, t) => ((Math.PI / 2) * (start + t)) / M);
  const r = tf.relu(x);
  return tf.concat([tf.mul(r, tf.tensor2d(a.map(Math.cos), [n, 1])), tf.mul(r, tf.tensor2d(a.map(Math.sin), [n, 1]))], 1) as tfc.Tensor2D;
}

const featureMap = (s: AttentionShape): FeatureMap => ({
  queries: (tf, q) => features(tf, q, s.Tk - s.Tq, s.Tk),
  keys: (tf, k) => features(tf, k, 0, s.Tk),
  normalize: true,
});

const params = z.object({ variant: z.literal('cosformer'), ...commonParams });

export const cosformer = defineVariant(params, {
  doc: {
    title: 'cosFormer',
    summary: 'Linear attention with ReLU features and a cos-based re-weighting cos(π/2·(i−j)/M) that favours locality, computed in its decomposed linear form. The probe shows exact attention\'s map.',
    formula: 'O_i = Σ_j relu(q_i)·relu(k_j)·cos(π(i−j)/(2M))·v_j / Σ_j relu(q_i)·relu(k_j)·cos(π(i−j)/(2M)), M = Tk',
    references: [{ title: 'cosFormer: Rethinking Softmax in Attention', year: 2022 }],
  },
  cost: (s, p, c) => featureCost(s, p.causal, 2 * s.D, 3 * (s.H * s.Tq + s.Hkv * s.Tk) * s.D, c),
  implicitMap: true,
  run: (ctx, ins, p, s) => featureAttention(ctx, ins, p, s, featureMap(s)),
  reference({ q, k, v, bias }, p, s) {
    const sc = scaleOf(p, s.D);
    const off = s.Tk - s.Tq;
    // The undecomposed form: relu·relu·cos of the position difference.
    const kappa = (h: number, i: number, j: number) => {
      const g = groupOf(h, s);
      let dot = 0;
      for (let d = 0; d < s.D; d++) dot += Math.max(0, q.data[(h * s.Tq + i - off) * s.D + d]!) * Math.max(0, k.data[(g * s.Tk + j) * s.D + d]!);
      return sc * dot * Math.cos((Math.PI / 2) * ((i - j) / s.Tk));
    };
    return kernelReference({ v, bias }, p, s, kappa, true);
  },
});
