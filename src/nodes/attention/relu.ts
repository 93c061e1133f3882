// ReLU attention: softmax replaced by relu(q·k·scale + bias), divided by the number of keys the
// query sees (the sequence length in the papers; i + 1 when causal; the unmasked count with a
// mask bias). It is not a kernel feature map, so it stays O(T²·D); tiles keep memory O(T·D). On wasm
// and webgpu it runs on the fused attention kernel (score mode 'relu'), which skips masked tiles.
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { fillBiasTile, headBias } from '../common/bias.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { commonParams, exactFlops, forEachHead, groupOf, headView, scaleOf, uploadGroup, type AttentionInputs, type AttentionVariant, defineVariant } from './common.js';
import { runFused } from './fused.js';
import type { AttentionShape } from './reference.js';

type P = z.output<typeof params>;

const QUERY_BLOCK = 128;
const KEY_TILE = 256;

async function run(ctx: Parameters<AttentionVariant['run']>[0], { q, k, v, bias }: AttentionInputs, p: P, s: AttentionShape): Promise<Tensor> {
  // wasm and webgpu: the fused kernel in its ReLU mode (same block mask and bias rules as softmax
  // attention); below, the tfjs composition (the cpu path).
  const fused = await runFused(ctx, { q, k, v, bias }, p, s, { score: 'relu' });
  if (fused) return fused;
  const { tf } = ctx;
  const scale = scaleOf(p, s.D);
  const off = s.Tk - s.Tq;
  const out = new Float32Array(s.H * s.Tq * s.Dv);
  const hasBias = (bias?.terms.length ?? 0) > 0;
  const tileBuf = new Float32Array(QUERY_BLOCK * KEY_TILE);
  const count = new Float32Array(QUERY_BLOCK);
  ctx.track(tileBuf.byteLength);
  await forEachHead(tf, s, (g) => uploadGroup(tf, k, v, g, s), async (h, { k: kh, v: vh }) => {
    const hb = headBias(bias, h);
    const qh = tf.tidy(() => tf.mul(tf.tensor2d(headView(q, h), [s.Tq, s.D]), scale) as tfc.Tensor2D);
    const parts: tfc.Tensor[] = [];
    for (let r0 = 0; r0 < s.Tq; r0 += QUERY_BLOCK) {
      const rows = Math.min(QUERY_BLOCK, s.Tq - r0);
      const qt = tf.slice(qh, [r0, 0], [rows, s.D]);
      let num: tfc.Tensor = tf.zeros([rows, s.Dv]);
      // Without a bias the counts are known (i + 1 or Tk) and only diagonal tiles need a mask.
      for (let r = 0; r < rows; r++) count[r] = hasBias ? 0 : p.causal ? off + r0 + r + 1 : s.Tk;
      const colEnd = p.causal ? off + r0 + rows : s.Tk;
      for (let c0 = 0; c0 < colEnd; c0 += KEY_TILE) {
        ctx.checkCancelled();
        const cols = Math.min(KEY_TILE, colEnd - c0);
        const view = tileBuf.subarray(0, rows * cols);
        const masked = hasBias || (p.causal && c0 + cols - 1 > off + r0);
        if (masked) {
          if (!fillBiasTile(hb, p.causal, off + r0, rows, c0, cols, view)) continue;
          if (hasBias) for (let e = 0; e < view.length; e++) if (view[e] !== -Infinity) count[Math.floor(e / cols)]!++;
        }
        const next = tf.tidy(() => {
          let sc: tfc.Tensor = tf.matMul(qt, tf.slice(kh, [c0, 0], [cols, s.D]), false, true);
          if (masked) sc = tf.add(sc, tf.tensor2d(view, [rows, cols]));
          return tf.add(num, tf.matMul(tf.relu(sc), tf.slice(vh, [c0, 0], [cols, s.Dv])));
        });
        num.dispose();
        num = next;
      }
      parts.push(tf.tidy(() => tf.mul(num, tf.tensor2d(count.slice(0, rows).map((c) => (c > 0 ? 1 / c : 0)), [rows, 1]))));
      tf.dispose([num, qt]);
    }
    const o = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
    out.set((await o.data()) as Float32Array, h * s.Tq * s.Dv);
    tf.dispose([o, ...parts, qh]);
    ctx.progress((h + 1) / s.H);
  });
  ctx.release(tileBuf.byteLength);
  return f32([s.H, s.Tq, s.Dv], out, ['H', 'T', 'D']);
}

/** Σ_j relu(s_ij + b_ij)·v_j / n_i over visible j, in float64 loops. */
function reference({ q, k, v, bias }: AttentionInputs, p: P, s: AttentionShape): Tensor {
  const { H, Tq, Tk, D, Dv } = s;
  const scale = scaleOf(p, D);
  const out = new Float32Array(H * Tq * Dv);
  const acc = new Float64Array(Dv);
  for (let h = 0; h < H; h++) {
    const g = groupOf(h, s);
    const hb = headBias(bias, h);
    for (let r = 0; r < Tq; r++) {
      const i = Tk - Tq + r;
      acc.fill(0);
      let n = 0;
      for (let j = 0; j < Tk; j++) {
        if ((p.causal && j > i) || !hb.allowed(i, j)) continue;
        n++;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q.data[(h * Tq + r) * D + d]! * k.data[(g * Tk + j) * D + d]!;
        const w = Math.max(0, dot * scale + hb.add(i, j));
        for (let d = 0; d < Dv; d++) acc[d] += w * v.data[(g * Tk + j) * Dv + d]!;
      }
      for (let d = 0; d < Dv; d++) out[(h * Tq + r) * Dv + d] = n > 0 ? acc[d]! / n : 0;
    }
  }
  return f32([H, Tq, Dv], out, ['H', 'T', 'D']);
}

const params = z.object({ variant: z.literal('relu'), ...commonParams });

export const relu = defineVariant(params, {
  doc: {
    title: 'ReLU attention',
    summary: 'Softmax replaced by a ReLU of the scores, divided by the number of keys each query sees; quadratic like softmax, without the exponentials and the row max. The probe shows its own map.',
    formula: 'O_i = Σ_j relu(q_i·k_j·scale + b_ij)·v_j / n_i, n_i = number of keys query i sees',
    references: [
      { title: 'Replacing softmax with ReLU in Vision Transformers', year: 2023 },
      { title: 'A Study on ReLU and Softmax in Transformer', year: 2023 },
    ],
  },
  cost: (s, p) => ({
    flops: exactFlops(s, p.causal),
    workspaceBytes: 2 * QUERY_BLOCK * KEY_TILE * 4 + QUERY_BLOCK * s.Dv * 8 + (s.Tq * s.D + s.Tk * (s.D + s.Dv)) * 4,
    bytesMoved: 4 * (s.H * s.Tq * (s.D + s.Dv) + s.H * s.Tk * (s.D + s.Dv) * Math.ceil(s.Tq / QUERY_BLOCK)),
    note: `${QUERY_BLOCK}×${KEY_TILE} score tiles`,
  }),
  run,
  reference,
  probe: () => ({ activation: 'relu' }),
});
