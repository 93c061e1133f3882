// FlashAttention-style tiled attention with an online softmax: exact, and it never holds more than
// one Bq×Bk tile of scores. Per tile: s = q·kᵀ (+ bias tile), m' = max(m, rowmax s), p = e^(s − m'),
// l' = l·e^(m − m') + Σp, acc' = acc·e^(m − m') + p·v; at the end O = acc / l.
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { fillBiasTile, headBias } from '../common/bias.js';
import { f32 } from '../../engine/tensor.js';
import { commonParams, exactFlops, forEachHead, headView, scaleOf, defineVariant } from './common.js';
import { runFused } from './fused.js';
import { naiveAttentionReference } from './reference.js';

export const flashParams = {
  blockSize: z.number().int().min(16).max(4096).default(256).describe('rows and columns of one score tile'),
};

/** Rows c0..c0+cols of a [T, D] matrix, transposed to [D, cols]. */
function transposeRows(x: Float32Array, c0: number, cols: number, D: number): Float32Array {
  const out = new Float32Array(D * cols);
  for (let j = 0; j < cols; j++) for (let d = 0; d < D; d++) out[d * cols + j] = x[(c0 + j) * D + d]!;
  return out;
}

export const flash = defineVariant(z.object({ variant: z.literal('flash'), ...commonParams, ...flashParams }), {
  doc: {
    title: 'Tiled / FlashAttention',
    summary: 'Exact attention computed tile by tile with an online softmax: O(T·D) memory instead of O(T²).',
    formula: "m' = max(m, rowmax(S_ij)), ℓ' = ℓ·e^(m−m') + Σ e^(S_ij−m'), O' = O·e^(m−m') + e^(S_ij−m')·V_j; O = O/ℓ",
    references: [{ title: 'FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness', year: 2022 }],
  },
  cost: (s, p) => {
    const b = p.blockSize;
    return {
      flops: exactFlops(s, p.causal),
      // One score tile, its exponentials and mask, the running (m, ℓ, O) of a query block, and the
      // current head's q, k, v on the backend.
      workspaceBytes: 3 * b * b * 4 + b * (s.Dv + 2) * 4 * 2 + (s.Tq * s.D + s.Tk * (s.D + s.Dv)) * 4,
      bytesMoved: 4 * (s.H * s.Tq * (s.D + s.Dv) + s.H * s.Tk * (s.D + s.Dv) * Math.ceil(s.Tq / b)),
      note: `one ${b}×${b} score tile`,
    };
  },
  async run(ctx, { q, k, v, bias }, p, s) {
    // wasm: the fused SIMD kernel (its own 64×64 tiles); below, the tfjs composition.
    const fused = await runFused(ctx, { q, k, v, bias }, p, s);
    if (fused) return fused;
    const { tf } = ctx;
    const B = p.blockSize;
    const scale = scaleOf(p, s.D);
    const offset = s.Tk - s.Tq;
    const out = new Float32Array(s.H * s.Tq * s.Dv);
    const hasBias = (bias?.terms.length ?? 0) > 0;
    const tileBuf = new Float32Array(B * B);
    ctx.track(tileBuf.byteLength);
    // Causal-only masks depend only on the tile's diagonal offset: build each once.
    const maskCache = new Map<string, tfc.Tensor2D>();
    const totalBlocks = s.H * Math.ceil(s.Tq / B);
    let done = 0;
    // K and V of a head group, uploaded once as one tensor per column block (Kᵀ blocks: tfjs-wasm's
    // matMul is ~8x faster on a pre-transposed operand). Slicing tiles out of one big tensor instead
    // costs O(T) per tile on wasm, which made long sequences quadratic in overhead.
    const uploadBlocks = (g: number) => {
      const kg = headView(k, g);
      const vg = headView(v, g);
      const kBlocks: tfc.Tensor2D[] = [];
      const vBlocks: tfc.Tensor2D[] = [];
      for (let c0 = 0; c0 < s.Tk; c0 += B) {
        const cols = Math.min(B, s.Tk - c0);
        kBlocks.push(tf.tensor2d(transposeRows(kg, c0, cols, s.D), [s.D, cols]));
        vBlocks.push(tf.tensor2d(vg.slice(c0 * s.Dv, (c0 + cols) * s.Dv), [cols, s.Dv]));
      }
      return { kBlocks, vBlocks };
    };
    try {
      await forEachHead(tf, s, uploadBlocks, async (h, { kBlocks, vBlocks }) => {
        const hb = headBias(bias, h);
        const qv = headView(q, h);
        for (let r0 = 0; r0 < s.Tq; r0 += B) {
          const rows = Math.min(B, s.Tq - r0);
          const qt = tf.tidy(() => tf.mul(tf.tensor2d(qv.slice(r0 * s.D, (r0 + rows) * s.D), [rows, s.D]), scale));
          let m: tfc.Tensor = tf.fill([rows, 1], -1e30);
          let l: tfc.Tensor = tf.zeros([rows, 1]);
          let acc: tfc.Tensor = tf.zeros([rows, s.Dv]);
          const lastRow = offset + r0 + rows - 1;
          const colEnd = p.causal ? Math.min(s.Tk, lastRow + 1) : s.Tk;
          for (let c0 = 0; c0 < colEnd; c0 += B) {
            ctx.checkCancelled();
            const cols = Math.min(B, s.Tk - c0);
            let mask: tfc.Tensor2D | undefined;
            if (hasBias) {
              const view = tileBuf.subarray(0, rows * cols);
              if (!fillBiasTile(hb, p.causal, offset + r0, rows, c0, cols, view)) continue;
              mask = tf.tensor2d(view.slice(), [rows, cols]); // a copy: the cpu backend keeps the array it is given
            } else if (p.causal && c0 + cols - 1 > offset + r0) {
              const key = `${offset + r0 - c0}:${rows}:${cols}`;
              mask = maskCache.get(key);
              if (!mask) {
                const view = tileBuf.subarray(0, rows * cols);
                fillBiasTile(hb, true, offset + r0, rows, c0, cols, view);
                mask = tf.keep(tf.tensor2d(view.slice(), [rows, cols]));
                maskCache.set(key, mask);
              }
            }
            const next = tf.tidy(() => {
              const kt = kBlocks[c0 / B]!;
              const vt = vBlocks[c0 / B]!;
              let sc: tfc.Tensor = tf.matMul(qt, kt);
              if (mask) sc = tf.add(sc, mask);
              const mNew = tf.maximum(m, tf.max(sc, 1, true));
              const pr = tf.exp(tf.sub(sc, mNew));
              const corr = tf.exp(tf.sub(m, mNew));
              return [mNew, tf.add(tf.mul(l, corr), tf.sum(pr, 1, true)), tf.add(tf.mul(acc, corr), tf.matMul(pr, vt))];
            });
            if (hasBias) mask!.dispose();
            tf.dispose([m, l, acc]);
            [m, l, acc] = next as [tfc.Tensor, tfc.Tensor, tfc.Tensor];
          }
          const o = tf.tidy(() => tf.div(acc, tf.maximum(l, 1e-30)));
          out.set((await o.data()) as Float32Array, (h * s.Tq + r0) * s.Dv);
          tf.dispose([o, m, l, acc, qt]);
          ctx.progress(++done / totalBlocks);
        }
      });
    } finally {
      for (const t of maskCache.values()) t.dispose();
      ctx.release(tileBuf.byteLength);
    }
    return f32([s.H, s.Tq, s.Dv], out, ['H', 'T', 'D']);
  },
  reference: ({ q, k, v, bias }, p) => naiveAttentionReference(q, k, v, { causal: p.causal, scale: p.scale, bias }),
});
