// Flash-Decoding: for the query rows (typically the last few, while decoding) split K/V along the
// sequence into `numSplits` chunks, attend to every chunk independently (one batched matMul over
// the chunks: the parallelism the technique adds), keep each chunk's max m_s, denominator ℓ_s and
// unnormalised output O_s, then merge with log-sum-exp weights. Exact.
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { fillBiasTile, headBias } from '../common/bias.js';
import { f32 } from '../../engine/tensor.js';
import { commonParams, exactFlops, forEachHead, headView, scaleOf, uploadGroup, defineVariant } from './common.js';
import { runFused } from './fused.js';
import { naiveAttentionReference } from './reference.js';

/** Query rows per batch of split scores ([splits, rows, chunk] at once). */
const ROWS = 64;

export const flashDecoding = defineVariant(z.object({
    variant: z.literal('flash-decoding'),
    ...commonParams,
    numSplits: z.number().int().min(1).max(1024).default(8).describe('chunks K/V is split into along the sequence'),
  }), {
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
    // wasm: the fused kernel, each query block's key tiles cut into numSplits jobs (run in parallel
    // on the thread pool) and merged by their log-sum-exp.
    const fused = await runFused(ctx, { q, k, v, bias }, p, s, { splits: p.numSplits });
    if (fused) return fused;
    const { tf } = ctx;
    const S = Math.min(p.numSplits, Math.max(1, s.Tk));
    const chunk = Math.ceil(s.Tk / S);
    const padded = S * chunk;
    const scale = scaleOf(p, s.D);
    const off = s.Tk - s.Tq;
    const out = new Float32Array(s.H * s.Tq * s.Dv);
    const hasBias = (bias?.terms.length ?? 0) > 0;
    const maskBuf = new Float32Array(ROWS * padded);
    const tileBuf = new Float32Array(ROWS * chunk);
    ctx.track(maskBuf.byteLength + tileBuf.byteLength);
    // A group's K and V as [S, chunk, D]: the splits side by side, the last one padded (its pad is masked).
    const uploadSplits = (g: number) =>
      tf.tidy(() => {
        const { k: kg, v: vg } = uploadGroup(tf, k, v, g, s);
        return {
          K3: tf.reshape(tf.pad(kg, [[0, padded - s.Tk], [0, 0]]), [S, chunk, s.D]) as tfc.Tensor3D,
          V3: tf.reshape(tf.pad(vg, [[0, padded - s.Tk], [0, 0]]), [S, chunk, s.Dv]) as tfc.Tensor3D,
        };
      });
    try {
      await forEachHead(tf, s, uploadSplits, async (h, { K3, V3 }) => {
        const hb = headBias(bias, h);
        const parts: tfc.Tensor[] = [];
        for (let r0 = 0; r0 < s.Tq; r0 += ROWS) {
          ctx.checkCancelled();
          const rows = Math.min(ROWS, s.Tq - r0);
          // Causal: splits entirely after the last row's position are skipped.
          const used = p.causal ? Math.min(S, Math.ceil((off + r0 + rows) / chunk)) : S;
          // Only splits that reach past the first row's position (causal), hold padding, or meet a
          // bias need a mask: splits [first, used), laid out [split, row, col].
          let first = used;
          while (first > 0 && (hasBias || (p.causal && first * chunk - 1 > off + r0) || first * chunk > s.Tk)) first--;
          let mask: tfc.Tensor | undefined;
          if (first < used) {
            const view = maskBuf.subarray(0, (used - first) * rows * chunk);
            for (let sp = first; sp < used; sp++) {
              const real = Math.max(0, Math.min(chunk, s.Tk - sp * chunk));
              const tile = tileBuf.subarray(0, rows * real);
              fillBiasTile(hb, p.causal, off + r0, rows, sp * chunk, real, tile);
              for (let r = 0; r < rows; r++) {
                const at = ((sp - first) * rows + r) * chunk;
                view.set(tile.subarray(r * real, (r + 1) * real), at);
                view.fill(-Infinity, at + real, at + chunk);
              }
            }
            mask = tf.tidy(() => {
              const m = tf.tensor3d(view, [used - first, rows, chunk]);
              return first > 0 ? tf.concat([tf.zeros([first, rows, chunk]), m], 0) : tf.clone(m);
            });
          }
          const o = tf.tidy(() => {
            const qt = tf.mul(tf.tensor3d(headView(q, h).subarray(r0 * s.D, (r0 + rows) * s.D), [1, rows, s.D]), scale);
            const Ks = used === S ? K3 : tf.slice(K3, [0, 0, 0], [used, chunk, s.D]);
            const Vs = used === S ? V3 : tf.slice(V3, [0, 0, 0], [used, chunk, s.Dv]);
            let sc: tfc.Tensor = tf.matMul(qt, Ks, false, true); // [1, rows, D] broadcast → [used, rows, chunk]
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
          parts.push(o);
          mask?.dispose();
        }
        const o = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
        out.set((await o.data()) as Float32Array, h * s.Tq * s.Dv);
        tf.dispose([o, ...parts]);
        ctx.progress((h + 1) / s.H);
      });
    } finally {
      ctx.release(maskBuf.byteLength + tileBuf.byteLength);
    }
    return f32([s.H, s.Tq, s.Dv], out, ['H', 'T', 'D']);
  },
  reference: ({ q, k, v, bias }, p) => naiveAttentionReference(q, k, v, { causal: p.causal, scale: p.scale, bias }),
});
