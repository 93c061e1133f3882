// `block.bpt`: one transformer layer (multi-head attention, then a GELU feed-forward network, each with a
// residual) computed as the Blockwise Parallel Transformer does: for each query block, its attention output
// by an online softmax over K/V blocks, then at once that block's FFN. The FFN's [T, ffnMult·d] activation
// exists only for one block at a time: [B, ffnMult·d]. mode 'unfused' runs the same layer the usual way —
// the same blockwise attention over all queries, then the FFN over all T rows — so the two modes differ in
// exactly what BPT removes. Pre-norms are left out: they are per token and do not change the memory story.
//   a = x + MHA(x)·W_o,   out = a + W_2·gelu(W_1·a + b_1) + b_2   (gelu: HF `gelu_new`, the tanh form)
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { defineNode, ShapeError } from '../../engine/node.js';
import { bindDims } from '../../engine/shapes.js';
import { f32 } from '../../engine/tensor.js';
import { metrics, tensorShape, type PortShape } from '../../engine/values.js';
import { rng } from '../common/random.js';

const BPT_REF = { title: 'Blockwise Parallel Transformer for Large Context Models', year: 2023 };

const params = z.object({
  hiddenSize: z.number().int().min(1).max(8192).default(64).describe('d: model width (the input\'s last dim)'),
  heads: z.number().int().min(1).max(256).default(4).describe('attention heads (d must divide by it)'),
  ffnMult: z.number().int().min(1).max(16).default(4).describe('FFN width = ffnMult·d'),
  blockSize: z.number().int().min(1).max(65536).default(64).describe('B: query rows per block (attention output and FFN)'),
  kvBlockSize: z.number().int().min(1).max(65536).default(64).describe('K/V rows per online-softmax step'),
  causal: z.boolean().default(true).describe('mask keys after the query position'),
  mode: z.enum(['blockwise', 'unfused']).default('blockwise').describe("'blockwise': BPT, FFN per query block; 'unfused': attention for all rows, then the FFN for all rows"),
  seed: z.number().int().default(0).describe('seeds every weight (one random stream per matrix)'),
}).refine((p) => p.hiddenSize % p.heads === 0, { message: 'hiddenSize must be a multiple of heads', path: ['heads'] });
export type BptParams = z.infer<typeof params>;

export interface BptWeights {
  wq: Float32Array; wk: Float32Array; wv: Float32Array; wo: Float32Array; // [d, d], [out, in]
  w1: Float32Array; b1: Float32Array; // [F, d], [F]
  w2: Float32Array; b2: Float32Array; // [d, F], [d]
}

const uniform = (n: number, fanIn: number, seed: number, stream: number) => {
  const r = rng(seed, 0xb97, stream);
  return Float32Array.from({ length: n }, () => (2 * r() - 1) / Math.sqrt(fanIn));
};

export function bptWeights(p: BptParams): BptWeights {
  const d = p.hiddenSize;
  const F = p.ffnMult * d;
  return {
    wq: uniform(d * d, d, p.seed, 1), wk: uniform(d * d, d, p.seed, 2), wv: uniform(d * d, d, p.seed, 3), wo: uniform(d * d, d, p.seed, 4),
    w1: uniform(F * d, d, p.seed, 5), b1: uniform(F, d, p.seed, 6), w2: uniform(d * F, F, p.seed, 7), b2: uniform(d, F, p.seed, 8),
  };
}

const GELU_C = Math.sqrt(2 / Math.PI);
const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x)));

/** [T, d], or [1, T, d] (a batch of one, as a one-head source gives). */
function inferX(s: PortShape | undefined, p: BptParams) {
  const rank = s?.kind === 'tensor' ? (s.shape?.length ?? 2) : 2;
  if (rank !== 2 && rank !== 3) throw new ShapeError('x', `"x" expects [T, d] or [1, T, d], got rank ${rank}`);
  if (rank === 3 && s?.kind === 'tensor' && s.shape?.[0] !== 1 && s.shape?.[0] !== null)
    throw new ShapeError('x', `"x" takes one sequence: its batch must be 1, got ${s.shape?.[0]}`);
  const env: Record<string, number | null> = {};
  const shape = bindDims(env, 'x', s, rank === 3 ? ['batch', 'T', 'd'] : ['T', 'd'], { dtype: 'float32' });
  if (env.d !== null && env.d !== undefined && env.d !== p.hiddenSize)
    throw new ShapeError('x', `"x" has width ${env.d} but hiddenSize is ${p.hiddenSize}`);
  return { shape: shape.slice(-2), T: env.T ?? 0 };
}

function layerFlops(p: BptParams, T: number) {
  const d = p.hiddenSize;
  const F = p.ffnMult * d;
  const pairs = p.causal ? (T * (T + 1)) / 2 : T * T;
  return 2 * T * 4 * d * d + 4 * pairs * d + 2 * T * 2 * d * F + 10 * T * F;
}

/**
 * Bytes the layer holds at its peak on the backend (beyond its output), per mode. Both hold K, V and x
 * (about 4 of [T, d]), the weights and one query block's score tile with its exponentials. 'blockwise'
 * adds one block's FFN: [B, F] and the GELU's steps, which tfjs keeps until the block's FFN returns
 * (about 11 of [B, F]); 'unfused' adds the same for all T rows (about 12 of [T, F], with the concat of
 * the attention output). Coefficients measured with the profiler at d = 64 (memory-cases.test.ts).
 */
export function bptWorkspace(p: BptParams, T: number) {
  const d = p.hiddenSize;
  const F = p.ffnMult * d;
  const B = Math.min(p.blockSize, T);
  const Bk = Math.min(p.kvBlockSize, T);
  const shared = 4 * (4 * d * d + 2 * d * F + F + d) + 4 * 4 * T * d + 4 * 2 * p.heads * B * Bk;
  if (p.mode === 'blockwise') return { bytes: shared + 4 * B * (11 * F + 4 * d), ffn: 4 * B * F };
  return { bytes: shared + 4 * T * 12 * F, ffn: 4 * T * F };
}

/** Plain-TS layer (float64): exact softmax attention per head, then the FFN per token. */
export function bptReference(x: Float32Array, T: number, p: BptParams, w: BptWeights): Float32Array {
  const d = p.hiddenSize;
  const F = p.ffnMult * d;
  const dh = d / p.heads;
  const proj = (W: Float32Array) => {
    const o = new Float64Array(T * d);
    for (let t = 0; t < T; t++)
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let i = 0; i < d; i++) s += x[t * d + i]! * W[j * d + i]!;
        o[t * d + j] = s;
      }
    return o;
  };
  const [Q, K, V] = [proj(w.wq), proj(w.wk), proj(w.wv)];
  const att = new Float64Array(T * d);
  const sc = new Float64Array(T);
  for (let h = 0; h < p.heads; h++)
    for (let i = 0; i < T; i++) {
      const last = p.causal ? i : T - 1;
      let m = -Infinity;
      for (let j = 0; j <= last; j++) {
        let s = 0;
        for (let c = 0; c < dh; c++) s += Q[i * d + h * dh + c]! * K[j * d + h * dh + c]!;
        sc[j] = s / Math.sqrt(dh);
        m = Math.max(m, sc[j]!);
      }
      let l = 0;
      for (let j = 0; j <= last; j++) l += sc[j] = Math.exp(sc[j]! - m);
      for (let c = 0; c < dh; c++) {
        let o = 0;
        for (let j = 0; j <= last; j++) o += sc[j]! * V[j * d + h * dh + c]!;
        att[i * d + h * dh + c] = o / l;
      }
    }
  const out = new Float32Array(T * d);
  const a = new Float64Array(d);
  const hid = new Float64Array(F);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < d; j++) {
      let s = x[t * d + j]!;
      for (let i = 0; i < d; i++) s += att[t * d + i]! * w.wo[j * d + i]!;
      a[j] = s;
    }
    for (let f = 0; f < F; f++) {
      let s = w.b1[f]!;
      for (let i = 0; i < d; i++) s += a[i]! * w.w1[f * d + i]!;
      hid[f] = gelu(s);
    }
    for (let j = 0; j < d; j++) {
      let s = a[j]! + w.b2[j]!;
      for (let f = 0; f < F; f++) s += hid[f]! * w.w2[j * F + f]!;
      out[t * d + j] = s;
    }
  }
  return out;
}

type Tf = typeof tfc;

/** [T, d] → [H, T, dh]. */
const splitHeads = (tf: Tf, t: tfc.Tensor, H: number) => tf.transpose(tf.reshape(t, [t.shape[0]!, H, -1]), [1, 0, 2]);

function ffn(tf: Tf, a: tfc.Tensor, w: { w1: tfc.Tensor; b1: tfc.Tensor; w2: tfc.Tensor; b2: tfc.Tensor }) {
  const h = tf.add(tf.matMul(a, w.w1, false, true), w.b1);
  const g = tf.mul(tf.mul(h, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(h, tf.mul(tf.pow(h, 3), 0.044715)), GELU_C))));
  return tf.add(tf.add(a, tf.matMul(g, w.w2, false, true)), w.b2);
}

/** The layer on the backend; returns [T, d]. */
export async function bptTf(tf: Tf, x: Float32Array, T: number, p: BptParams, w: BptWeights, tick: (f: number) => void): Promise<Float32Array> {
  const d = p.hiddenSize;
  const F = p.ffnMult * d;
  const H = p.heads;
  const dh = d / H;
  const B = p.blockSize;
  const Bk = p.kvBlockSize;
  const out = new Float32Array(T * d);
  const W = {
    wq: tf.tensor2d(w.wq, [d, d]), wo: tf.tensor2d(w.wo, [d, d]),
    w1: tf.tensor2d(w.w1, [F, d]), b1: tf.tensor1d(w.b1), w2: tf.tensor2d(w.w2, [d, F]), b2: tf.tensor1d(w.b2),
  };
  const xt = tf.tensor2d(x, [T, d]);
  // K, V of the whole sequence as [H, Bk, dh] blocks, projected block by block (no [T, d] temporaries).
  const wk = tf.tensor2d(w.wk, [d, d]);
  const wv = tf.tensor2d(w.wv, [d, d]);
  const kvBlocks: { j0: number; n: number; k: tfc.Tensor; v: tfc.Tensor }[] = [];
  for (let j0 = 0; j0 < T; j0 += Bk) {
    const n = Math.min(Bk, T - j0);
    kvBlocks.push(tf.tidy(() => {
      const xb = tf.slice(xt, [j0, 0], [n, d]);
      return { j0, n, k: splitHeads(tf, tf.matMul(xb, wk, false, true), H), v: splitHeads(tf, tf.matMul(xb, wv, false, true), H) };
    }));
  }
  tf.dispose([wk, wv]);
  const attended: tfc.Tensor[] = []; // 'unfused': each block's a = x + MHA·W_o, kept for the FFN pass
  try {
    for (let i0 = 0; i0 < T; i0 += B) {
      const rows = Math.min(B, T - i0);
      const q = tf.tidy(() => tf.mul(splitHeads(tf, tf.matMul(tf.slice(xt, [i0, 0], [rows, d]), W.wq, false, true), H), 1 / Math.sqrt(dh)));
      let m: tfc.Tensor = tf.fill([H, rows, 1], -Infinity);
      let l: tfc.Tensor = tf.zeros([H, rows, 1]);
      let acc: tfc.Tensor = tf.zeros([H, rows, dh]);
      for (const blk of kvBlocks) {
        if (p.causal && blk.j0 > i0 + rows - 1) break;
        // Online softmax: m' = max(m, rowmax s), ℓ' = ℓ·e^{m−m'} + Σe^{s−m'}, acc' = acc·e^{m−m'} + e^{s−m'}·V.
        // Each step in its own tidy, so one score tile lives at a time.
        const next = tf.tidy(() => {
          let s = tf.matMul(q, blk.k, false, true); // [H, rows, n]
          if (p.causal && blk.j0 + blk.n - 1 > i0) {
            const mask = new Float32Array(rows * blk.n);
            for (let r = 0; r < rows; r++) for (let c = 0; c < blk.n; c++) if (blk.j0 + c > i0 + r) mask[r * blk.n + c] = -Infinity;
            s = tf.add(s, tf.tensor2d(mask, [rows, blk.n]));
          }
          const m2 = tf.maximum(m, tf.max(s, 2, true));
          const e = tf.exp(tf.sub(s, m2));
          const corr = tf.exp(tf.sub(m, m2));
          return [m2, tf.add(tf.mul(l, corr), tf.sum(e, 2, true)), tf.add(tf.mul(acc, corr), tf.matMul(e, blk.v))];
        });
        tf.dispose([m, l, acc]);
        [m, l, acc] = next as [tfc.Tensor, tfc.Tensor, tfc.Tensor];
      }
      const a = tf.tidy(() => {
        const o = tf.reshape(tf.transpose(tf.div(acc, l), [1, 0, 2]), [rows, d]);
        return tf.add(tf.slice(xt, [i0, 0], [rows, d]), tf.matMul(o, W.wo, false, true));
      });
      tf.dispose([q, m, l, acc]);
      if (p.mode === 'unfused') attended.push(a);
      else {
        // BPT: this block's FFN now, while only its [rows, F] activation exists.
        const y = tf.tidy(() => ffn(tf, a, W));
        tf.dispose(a);
        out.set((await y.data()) as Float32Array, i0 * d);
        tf.dispose(y);
      }
      tick(Math.min(1, (i0 + rows) / T));
    }
    if (p.mode === 'unfused') {
      // The usual layer: the FFN over all T rows at once, its [T, F] activation materialised.
      const y = tf.tidy(() => ffn(tf, tf.concat(attended, 0), W));
      out.set((await y.data()) as Float32Array);
      tf.dispose(y);
    }
  } finally {
    tf.dispose([xt, ...attended, ...Object.values(W), ...kvBlocks.flatMap((b) => [b.k, b.v])]);
  }
  return out;
}

function layerMetrics(p: BptParams, T: number) {
  const d = p.hiddenSize;
  const F = p.ffnMult * d;
  return metrics({
    paramCount: 4 * d * d + 2 * d * F + F + d,
    flops: layerFlops(p, T),
    ffnActivationBytes: bptWorkspace(p, T).ffn,
    unfusedFfnActivationBytes: 4 * T * F,
  });
}

export const bpt = defineNode({
  type: 'block.bpt',
  family: 'block',
  title: 'Blockwise Parallel Transformer layer',
  summary:
    'One transformer layer (multi-head attention, then a GELU FFN, residuals; seeded weights) computed block by block as BPT: each query block\'s attention output (online softmax over K/V blocks) goes straight into its FFN, so the [T, ffnMult·d] activation is never materialised — memory O(T·d + B·ffnMult·d) instead of O(T·ffnMult·d). mode \'unfused\' runs the same layer unfused, for comparison.',
  formula: 'for each query block X_b: A_b = X_b + softmax(Q_b Kᵀ/√d_h)V·W_o (online softmax over K/V blocks);  Y_b = A_b + W_2·gelu(W_1·A_b + b_1) + b_2',
  references: [BPT_REF],
  params,
  inputs: { x: { kind: 'tensor', dims: ['T', 'd'], doc: 'hidden states [T, d]' } },
  outputs: {
    out: { kind: 'tensor', dims: ['T', 'd'], doc: 'the layer\'s output (both residuals added)' },
    metrics: { kind: 'metrics', doc: 'paramCount, flops, ffnActivationBytes (largest FFN activation held: [B, F] blockwise, [T, F] unfused), unfusedFfnActivationBytes' },
  },
  infer(ins, p) {
    return { out: tensorShape('float32', inferX(ins.x, p).shape, ['T', 'd']), metrics: { kind: 'metrics' } };
  },
  cost(ins, p) {
    const { T } = inferX(ins.x, p);
    const ws = bptWorkspace(p, T);
    return {
      flops: layerFlops(p, T),
      workspaceBytes: ws.bytes,
      note: p.mode === 'blockwise'
        ? `FFN activation of one ${Math.min(p.blockSize, T)}-row block (${ws.ffn} B) instead of all ${T} rows (${4 * T * p.ffnMult * p.hiddenSize} B)`
        : `FFN activation ${T}×${p.ffnMult * p.hiddenSize} f32 materialised`,
    };
  },
  async run(ctx, { x }, p) {
    const { T } = inferX(tensorShape('float32', x.shape), p);
    const out = await bptTf(ctx.tf, x.data as Float32Array, T, p, bptWeights(p), (f) => { ctx.checkCancelled(); ctx.progress(f); });
    return { out: f32([T, p.hiddenSize], out, ['T', 'd']), metrics: layerMetrics(p, T) };
  },
  reference: ({ x }, p) => {
    const { T } = inferX(tensorShape('float32', x.shape), p);
    return { out: f32([T, p.hiddenSize], bptReference(x.data as Float32Array, T, p, bptWeights(p)), ['T', 'd']), metrics: layerMetrics(p, T) };
  },
});
