// Flash-Decoding: for the query rows (typically the last few, while decoding) split K/V along the
// sequence into `numSplits` chunks, attend to every chunk independently (one batched matMul over
// the chunks: the parallelism the technique adds), keep each chunk's max m_s, denominator ℓ_s and
// unnormalised output O_s, then merge with log-sum-exp weights. Exact.
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { fillBiasTile, headBias } from '../../engine/bias.js';
import { f32 } from '../../engine/tensor.js';
import { commonParams, exactFlops, groupOf, headView, scaleOf, type AttentionVariant } from './common.js';
import { naiveAttentionReference } from './reference.js';

/** Query rows per batch of split scores ([splits, rows, chunk] at once). */
const ROWS = 32;

export const flashDecoding: AttentionVariant = {
  params: z.object({
    variant: z.literal('flash-decoding'),
    ...commonParams,
    numSplits: z.number().int().min(1).max(1024).default(8).describe('chunks K/V is split into along the sequence'),
  }),
  doc: {
    title: 'Flash-Decoding (split K/V)',
    summary:
      'Splits K/V along the sequence, computes a partial softmax per split in parallel and merges the splits with log-sum-exp weights; exact. Made for few query rows over a long cache.',
    formula: 'm = maxₛ mₛ, ℓ = Σₛ ℓₛ·e^(mₛ−m), O = Σₛ Oₛ·e^(mₛ−m) / ℓ, with (mₛ, ℓₛ, Oₛ) the max, denominator and unnormalised output of split s',
    references: [
      { title: 'Flash-Decoding for long-context inference', year: 2023, url: 'https://crfm.stanford.edu/2023/10/12/flashdecoding.html' },
      { title: 'FlashAttention-2: Faster Attention with Better Parallelism and Work Partitioning', year: 2023 },
    ],
  },
  cost: (s, p) => {
    const S = Math.min(p.numSplits, Math.max(1, s.Tk));
    const chunk = Math.ceil(s.Tk / S);
    const rows = Math.min(ROWS, s.Tq);
    return {
      // Exact attention plus the merge (a few flops per split per output element).
      flops: exactFlops(s, p.causal) + 4 * s.H * s.Tq * S * (s.Dv + 2),
      // Scores, probabilities and mask of one batch of rows against every split, and the partials.
      workspaceBytes: 3 * S * rows * chunk * 4 + S * rows * (s.Dv + 2) * 4 + s.Tk * (s.D + s.Dv) * 4,
      bytesMoved: 4 * (s.H * s.Tq * (s.D + s.Dv) + s.H * s.Tk * (s.D + s.Dv) * Math.ceil(s.Tq / rows)),
      note: `${S} splits of ${chunk} keys × ${rows} query rows`,
    };
  },
  async run(ctx, { q, k, v, bias }, p, s) {
    const { tf } = ctx;
    const S = Math.min(p.numSplits, Math.max(1, s.Tk));
    const chunk = Math.ceil(s.Tk / S);
    const padded = S * chunk;
    const scale = scaleOf(p, s.D);
    const off = s.Tk - s.Tq;
    const out = new Float32Array(s.H * s.Tq * s.Dv);
    const maskBuf = new Float32Array(ROWS * padded);
    const tileBuf = new Float32Array(ROWS * s.Tk);
    ctx.track(maskBuf.byteLength + tileBuf.byteLength);
    let K3: tfc.Tensor3D | undefined;
    let V3: tfc.Tensor3D | undefined;
    let loaded = -1;
    try {
      for (let h = 0; h < s.H; h++) {
        const g = groupOf(h, s);
        if (g !== loaded) {
          tf.dispose([K3!, V3!].filter(Boolean));
          // [S, chunk, D]: the splits side by side, the last one padded (its pad is masked).
          [K3, V3] = tf.tidy(() => [
            tf.reshape(tf.pad(tf.tensor2d(headView(k, g), [s.Tk, s.D]), [[0, padded - s.Tk], [0, 0]]), [S, chunk, s.D]) as tfc.Tensor3D,
            tf.reshape(tf.pad(tf.tensor2d(headView(v, g), [s.Tk, s.Dv]), [[0, padded - s.Tk], [0, 0]]), [S, chunk, s.Dv]) as tfc.Tensor3D,
          ]);
          loaded = g;
        }
        const hb = headBias(bias, h);
        for (let r0 = 0; r0 < s.Tq; r0 += ROWS) {
          ctx.checkCancelled();
          const rows = Math.min(ROWS, s.Tq - r0);
          // Causal: splits entirely after the last row's position are skipped.
          const used = p.causal ? Math.min(S, Math.ceil((off + r0 + rows) / chunk)) : S;
          const cols = used * chunk;
          const needMask = p.causal || (bias?.terms.length ?? 0) > 0 || cols > s.Tk;
          let mask: tfc.Tensor | undefined;
          if (needMask) {
            // [rows, used·chunk] then regrouped as [used, rows, chunk].
            const view = maskBuf.subarray(0, rows * cols);
            const real = Math.min(cols, s.Tk);
            fillBiasTile(hb, p.causal, off + r0, rows, 0, real, tileBuf);
            for (let r = 0; r < rows; r++) {
              view.set(tileBuf.subarray(r * real, (r + 1) * real), r * cols);
              view.fill(-Infinity, r * cols + real, (r + 1) * cols);
            }
            mask = tf.tidy(() => tf.transpose(tf.reshape(tf.tensor2d(view, [rows, cols]), [rows, used, chunk]), [1, 0, 2]));
          }
          const o = tf.tidy(() => {
            const qt = tf.mul(tf.tensor3d(headView(q, h).subarray(r0 * s.D, (r0 + rows) * s.D), [1, rows, s.D]), scale);
            const Ks = used === S ? K3! : tf.slice(K3!, [0, 0, 0], [used, chunk, s.D]);
            const Vs = used === S ? V3! : tf.slice(V3!, [0, 0, 0], [used, chunk, s.Dv]);
            let sc: tfc.Tensor = tf.matMul(tf.tile(qt, [used, 1, 1]), Ks, false, true); // [used, rows, chunk]
            if (mask) sc = tf.add(sc, mask);
            // Partial softmax per split (a fully masked split has ℓₛ = 0 and weighs nothing).
            const ms = tf.maximum(tf.max(sc, 2, true), -1e30);
            const pr = tf.exp(tf.sub(sc, ms));
            const ls = tf.sum(pr, 2, true);
            const Os = tf.matMul(pr, Vs); // [used, rows, Dv]
            // Log-sum-exp merge across splits.
            const m = tf.max(ms, 0, true);
            const w = tf.exp(tf.sub(ms, m));
            const l = tf.sum(tf.mul(ls, w), 0);
            return tf.divNoNan(tf.sum(tf.mul(Os, w), 0), l);
          });
          out.set((await o.data()) as Float32Array, (h * s.Tq + r0) * s.Dv);
          tf.dispose([o, mask!].filter(Boolean));
        }
        ctx.progress((h + 1) / s.H);
      }
    } finally {
      tf.dispose([K3!, V3!].filter(Boolean));
      ctx.release(maskBuf.byteLength + tileBuf.byteLength);
    }
    return f32([s.H, s.Tq, s.Dv], out, ['H', 'T', 'D']);
  },
  reference: ({ q, k, v, bias }, p) => naiveAttentionReference(q, k, v, { causal: p.causal, scale: p.scale, bias }),
};
