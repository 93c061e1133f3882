// A seeded synthetic attention workload: Q, K, V whose attention has sinks (the first tokens draw
// attention from every query) and locality (nearby tokens score higher), so eviction and sparsity
// have realistic, non-uniform attention to lose.
import { z } from 'zod';
import { defineNode } from '../../engine/node.js';
import { f32 } from '../../engine/tensor.js';
import { tensorShape } from '../../engine/values.js';
import { fillGaussian, gaussian, rng } from '../common/random.js';

const params = z.object({
  heads: z.number().int().min(1).max(256).default(8),
  kvHeads: z.number().int().min(1).max(256).optional().describe('K/V heads (grouped-query); default = heads'),
  seqLen: z.number().int().min(1).max(1 << 22).default(1024),
  headDim: z.number().int().min(1).max(1024).default(64),
  seed: z.number().int().default(0),
  sinkStrength: z.number().min(0).max(100).default(4).describe('logit added to the sink tokens for every query'),
  sinkTokens: z.number().int().min(0).default(4).describe('how many leading tokens act as sinks'),
  locality: z.number().min(0).max(100).default(2).describe('logit boost between neighbouring tokens, decaying as 0.9^|i−j|'),
  sinkDims: z
    .enum(['all', 'last'])
    .default('all')
    .describe('"all": the sink direction is a random unit vector; "last": the last head dim only — the lowest-frequency rotary dim in both RoPE layouts, so the sink survives rotation (as sinks in trained models do)'),
});
type P = z.infer<typeof params>;

/** Correlation of the locality component between tokens i and j is RHO^|i−j|. */
export const RHO = 0.9;

/** Generates the workload; params not given take their defaults. */
export function syntheticQkv(input: z.input<typeof params>) {
  const p: P = params.parse(input);
  const H = p.heads;
  const Hkv = p.kvHeads ?? p.heads;
  if (H % Hkv !== 0) throw new Error(`kvHeads (${Hkv}) must divide heads (${H})`);
  const T = p.seqLen;
  const D = p.headDim;
  const q = new Float32Array(H * T * D);
  const k = new Float32Array(Hkv * T * D);
  const v = new Float32Array(Hkv * T * D);
  // Logit contributions per pair: sink = a²/√D with a² = sinkStrength·√D; locality = γ²·ρ^|i−j|·D/√D
  // with γ² = locality/√D (unit-variance elements, so r_i·r_j ≈ D·ρ^|i−j|).
  const a = Math.sqrt(p.sinkStrength * Math.sqrt(D));
  const gamma = Math.sqrt(p.locality / Math.sqrt(D));
  for (let g = 0; g < Hkv; g++) {
    // Sink direction: a unit vector per kv head.
    const dir = fillGaussian(new Float32Array(D), p.seed, 1, g);
    if (p.sinkDims === 'last') dir.fill(0)[D - 1] = 1;
    const norm = Math.hypot(...dir);
    for (let d = 0; d < D; d++) dir[d]! /= norm;
    // Locality: an AR(1) process over positions, shared by this group's queries and keys.
    const local = new Float32Array(T * D);
    const gl = gaussian(rng(p.seed, 2, g));
    const c = Math.sqrt(1 - RHO * RHO);
    for (let t = 0; t < T; t++)
      for (let d = 0; d < D; d++) local[t * D + d] = t === 0 ? gl() : RHO * local[(t - 1) * D + d]! + c * gl();
    const kg = k.subarray(g * T * D, (g + 1) * T * D);
    fillGaussian(kg, p.seed, 3, g);
    fillGaussian(v.subarray(g * T * D, (g + 1) * T * D), p.seed, 4, g);
    for (let t = 0; t < T; t++)
      for (let d = 0; d < D; d++) kg[t * D + d] += gamma * local[t * D + d]! + (t < p.sinkTokens ? a * dir[d]! : 0);
    for (let h = g * (H / Hkv); h < (g + 1) * (H / Hkv); h++) {
      const qh = q.subarray(h * T * D, (h + 1) * T * D);
      fillGaussian(qh, p.seed, 5, h);
      for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) qh[t * D + d] += gamma * local[t * D + d]! + a * dir[d]!;
    }
  }
  const dims = ['H', 'T', 'D'];
  return { q: f32([H, T, D], q, dims), k: f32([Hkv, T, D], k, dims), v: f32([Hkv, T, D], v, dims) };
}

export const syntheticQkvNode = defineNode({
  type: 'source.synthetic-qkv',
  family: 'source',
  title: 'Synthetic Q/K/V',
  summary: 'Seeded attention workload with attention sinks and locality; identical on every backend and platform.',
  formula: 'q·k/√D ≈ N(0,1) + sinkStrength·[j < sinkTokens] + locality·0.9^|i−j|',
  references: [{ title: 'Efficient Streaming Language Models with Attention Sinks', year: 2023 }],
  params,
  inputs: {},
  outputs: {
    q: { kind: 'tensor', dims: ['H', 'T', 'D'] },
    k: { kind: 'tensor', dims: ['Hkv', 'T', 'D'] },
    v: { kind: 'tensor', dims: ['Hkv', 'T', 'D'] },
  },
  infer(_, p) {
    const Hkv = p.kvHeads ?? p.heads;
    if (p.heads % Hkv !== 0) throw new Error(`kvHeads (${Hkv}) must divide heads (${p.heads})`);
    return {
      q: tensorShape('float32', [p.heads, p.seqLen, p.headDim], ['H', 'T', 'D']),
      k: tensorShape('float32', [Hkv, p.seqLen, p.headDim], ['Hkv', 'T', 'D']),
      v: tensorShape('float32', [Hkv, p.seqLen, p.headDim], ['Hkv', 'T', 'D']),
    };
  },
  cost: (_, p) => ({ flops: 0, workspaceBytes: p.seqLen * p.headDim * 4 }),
  run: (_ctx, _ins, p) => syntheticQkv(p),
  reference: (_ins, p) => syntheticQkv(p),
});
