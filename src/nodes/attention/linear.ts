// Linear attention (Katharopoulos et al.): softmax's e^(q·k) replaced by φ(q)·φ(k) with
// φ(x) = elu(x) + 1, so attention is associative: φ(Q)(φ(K)ᵀV) costs O(T·D·Dv) instead of O(T²·D);
// causal through prefix sums of φ(k_j)v_jᵀ, carried chunk to chunk (kernelized.ts).
// q and k are multiplied by √scale before φ, mirroring q·k·scale.
import { z } from 'zod';
import { commonParams, groupOf, scaleOf, defineVariant } from './common.js';
import { featureAttention, featureCost, kernelReference, type FeatureMap } from './kernelized.js';

const elu1 = (x: number) => (x > 0 ? x + 1 : Math.exp(x));

const featureMap: FeatureMap = {
  queries: (tf, q) => tf.add(tf.elu(q), 1),
  keys: (tf, k) => tf.add(tf.elu(k), 1),
  normalize: true,
};

const params = z.object({
  variant: z.literal('linear'),
  ...commonParams,
  featureMap: z.enum(['elu+1']).default('elu+1').describe('φ applied to queries and keys'),
});

export const linear = defineVariant(params, {
  doc: {
    title: 'Linear attention (elu + 1)',
    summary: 'Kernelized attention with φ(x) = elu(x) + 1: associativity turns O(T²·D) into O(T·D²); causal via prefix sums. The probe shows exact attention\'s map.',
    formula: 'O_i = φ(q_i)·Σ_j φ(k_j)v_jᵀ / φ(q_i)·Σ_j φ(k_j), j ≤ i when causal; φ(x) = elu(x) + 1 on x·√scale',
    references: [{ title: 'Transformers are RNNs: Fast Autoregressive Transformers with Linear Attention', year: 2020 }],
  },
  cost: (s, p, c) => featureCost(s, p.causal, s.D, 3 * (s.H * s.Tq + s.Hkv * s.Tk) * s.D, c),
  implicitMap: true,
  run: (ctx, ins, p, s) => featureAttention(ctx, ins, p, s, featureMap),
  reference({ q, k, v, bias }, p, s) {
    const rs = Math.sqrt(scaleOf(p, s.D));
    const off = s.Tk - s.Tq;
    const kappa = (h: number, i: number, j: number) => {
      const g = groupOf(h, s);
      let dot = 0;
      for (let d = 0; d < s.D; d++) dot += elu1(rs * q.data[(h * s.Tq + i - off) * s.D + d]!) * elu1(rs * k.data[(g * s.Tk + j) * s.D + d]!);
      return dot;
    };
    return kernelReference({ v, bias }, p, s, kappa, true);
  },
});
