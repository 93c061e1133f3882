// Q/K/V projection with seeded weights: q = x·W_q, k = x·W_k, v = x·W_v, split into heads.
// W_q is [C, H·D], W_k and W_v are [C, Hkv·D] (grouped-query when Hkv < H), elements N(0, 1/C) so that
// unit-variance inputs give unit-variance outputs. Head h of q is columns h·D … h·D + D − 1.
import type * as tfc from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { defineNode, ShapeError } from '../../engine/node.js';
import { bindDims } from '../../engine/shapes.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { tensorShape } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';

const params = z.object({
  heads: z.number().int().min(1).max(256).default(8).describe('query heads H'),
  kvHeads: z.number().int().min(1).max(256).optional().describe('key/value heads Hkv (grouped-query); default = heads'),
  headDim: z.number().int().min(1).max(1024).default(64).describe('D'),
  seed: z.number().int().default(0),
});
type P = z.infer<typeof params>;

const kvHeadsOf = (p: P) => p.kvHeads ?? p.heads;

/** Seeded weights, [C, heads·D] row-major, for 'q', 'k' and 'v'. */
export function qkvWeights(p: P, C: number) {
  const D = p.headDim;
  const w = (stream: number, heads: number) => {
    const m = fillGaussian(new Float32Array(C * heads * D), p.seed, 0x716b76 /* "qkv" */, stream, C, heads, D);
    const s = 1 / Math.sqrt(C);
    for (let i = 0; i < m.length; i++) m[i]! *= s;
    return m;
  };
  return { wq: w(0, p.heads), wk: w(1, kvHeadsOf(p)), wv: w(2, kvHeadsOf(p)) };
}

function checkHeads(p: P): void {
  if (p.heads % kvHeadsOf(p) !== 0) throw new ShapeError('x', `kvHeads (${kvHeadsOf(p)}) must divide heads (${p.heads})`);
}

/** Plain loops: out[h, t, d] = Σ_c x[t, c]·W[c, h·D + d]. */
function projectRef(x: Float32Array, T: number, C: number, w: Float32Array, heads: number, D: number): Tensor {
  const out = new Float32Array(heads * T * D);
  const HD = heads * D;
  for (let t = 0; t < T; t++)
    for (let j = 0; j < HD; j++) {
      let acc = 0;
      for (let c = 0; c < C; c++) acc += x[t * C + c]! * w[c * HD + j]!;
      const h = Math.floor(j / D);
      out[(h * T + t) * D + (j - h * D)] = acc;
    }
  return f32([heads, T, D], out, ['H', 'T', 'D']);
}

async function projectTf(tf: typeof tfc, x: tfc.Tensor2D, w: Float32Array, C: number, heads: number, D: number): Promise<Tensor> {
  const T = x.shape[0];
  const y = tf.tidy(() => tf.transpose(tf.reshape(tf.matMul(x, tf.tensor2d(w, [C, heads * D])), [T, heads, D]), [1, 0, 2]));
  const data = (await y.data()) as Float32Array;
  y.dispose();
  return f32([heads, T, D], data, ['H', 'T', 'D']);
}

function xDims(x: Tensor): [number, number] {
  const s = x.shape.length === 3 && x.shape[0] === 1 ? x.shape.slice(1) : x.shape;
  if (s.length !== 2) throw new Error(`qkv-projection: "x" must be [T, C], got [${x.shape.join(', ')}]`);
  return s as [number, number];
}

export const qkvProjection = defineNode({
  type: 'qkv-projection',
  family: 'text',
  title: 'Q/K/V projection (seeded)',
  summary: 'Projects [T, C] embeddings to per-head queries, keys and values with seeded N(0, 1/C) weights; grouped-query when kvHeads < heads.',
  formula: 'q[h] = x·W_q[:, hD:(h+1)D],  k[g] = x·W_k[:, gD:(g+1)D],  v[g] = x·W_v[:, gD:(g+1)D],  W ~ N(0, 1/C)',
  references: [
    { title: 'Attention Is All You Need', year: 2017 },
    { title: 'GQA: Training Generalized Multi-Query Transformer Models from Multi-Head Checkpoints', year: 2023 },
  ],
  params,
  inputs: { x: { kind: 'tensor', dims: ['T', 'C'], doc: 'token embeddings' } },
  outputs: {
    q: { kind: 'tensor', dims: ['H', 'T', 'D'] },
    k: { kind: 'tensor', dims: ['Hkv', 'T', 'D'] },
    v: { kind: 'tensor', dims: ['Hkv', 'T', 'D'] },
  },
  infer(ins, p) {
    checkHeads(p);
    const [T] = bindDims({}, 'x', ins.x, ['T', 'C'], { dtype: 'float32' });
    const Hkv = kvHeadsOf(p);
    return {
      q: tensorShape('float32', [p.heads, T ?? null, p.headDim], ['H', 'T', 'D']),
      k: tensorShape('float32', [Hkv, T ?? null, p.headDim], ['Hkv', 'T', 'D']),
      v: tensorShape('float32', [Hkv, T ?? null, p.headDim], ['Hkv', 'T', 'D']),
    };
  },
  cost(ins, p) {
    const env = {};
    const [T, C] = bindDims(env, 'x', ins.x, ['T', 'C']).map((d) => d ?? 0) as [number, number];
    const cols = (p.heads + 2 * kvHeadsOf(p)) * p.headDim;
    return {
      flops: 2 * T * C * cols,
      // x and the weights on the backend, and each [T, H·D] product with its split into heads.
      workspaceBytes: 4 * (T * C + C * cols + 2 * T * cols),
      bytesMoved: 4 * (T * C + C * cols + T * cols),
      note: `weights ${C}×${cols} f32`,
    };
  },
  async run(ctx, ins, p) {
    checkHeads(p);
    const [T, C] = xDims(ins.x);
    const { wq, wk, wv } = qkvWeights(p, C);
    const { tf } = ctx;
    const x = tf.tensor2d(ins.x.data as Float32Array, [T, C]);
    try {
      const out: Record<'q' | 'k' | 'v', Tensor> = {} as never;
      const jobs = [['q', wq, p.heads], ['k', wk, kvHeadsOf(p)], ['v', wv, kvHeadsOf(p)]] as const;
      for (const [i, [name, w, heads]] of jobs.entries()) {
        ctx.checkCancelled();
        out[name] = await projectTf(tf, x, w, C, heads, p.headDim);
        ctx.progress((i + 1) / 3);
      }
      return out;
    } finally {
      x.dispose();
    }
  },
  reference(ins, p) {
    checkHeads(p);
    const [T, C] = xDims(ins.x);
    const { wq, wk, wv } = qkvWeights(p, C);
    const x = ins.x.data as Float32Array;
    return {
      q: projectRef(x, T, C, wq, p.heads, p.headDim),
      k: projectRef(x, T, C, wk, kvHeadsOf(p), p.headDim),
      v: projectRef(x, T, C, wv, kvHeadsOf(p), p.headDim),
    };
  },
});
