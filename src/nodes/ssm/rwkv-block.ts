// `ssm.rwkv-block`: one RWKV-4 block with seeded weights, as HF `RwkvBlock` (modeling_rwkv.py):
//   x' = x + TimeMix(LN1(x)),  out = x' + ChannelMix(LN2(x')), where, with the token shift
//   s_t = h_{t−1} (s_0 = 0) and mix(μ) = μ⊙h_t + (1−μ)⊙s_t,
//   TimeMix:    r = σ(W_r·mix(μ_r)), k = W_k·mix(μ_k), v = W_v·mix(μ_v), o = W_o·(r ⊙ WKV(k, v; w, u))
//   ChannelMix: r = σ(W_r·mix(μ_r)), k = relu(W_k·mix(μ_k))², o = r ⊙ W_v·k
// Weights carry HF names (attention.time_decay, feed_forward.key.weight, ...). time_mix_*, time_decay are
// initialised as HF `_init_weights` for (layerId, numHiddenLayers); time_first as RWKV-LM (ln 0.3 + a
// zigzag: HF's init reduces it to ones); linear layers PyTorch's U(±1/√fan_in); LayerNorms 1 and 0.
// The block of layer 0 in HF also applies `pre_ln` to the embeddings: that belongs to the model, not here.
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { defineNode, ShapeError } from '../../engine/node.js';
import { bindDims } from '../../engine/shapes.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { metrics, tensorShape, type PortShape } from '../../engine/values.js';
import { rng } from '../common/random.js';
import { wkvDirect, wkvRecurrent } from './rwkv.js';

const RWKV_REF = { title: 'RWKV: Reinventing RNNs for the Transformer Era', year: 2023 };

const params = z.object({
  hiddenSize: z.number().int().min(2).max(8192).default(64).describe('C: model width (the input\'s last dim)'),
  intermediateSize: z.number().int().min(1).max(65536).optional().describe('channel-mix width; default 4·hiddenSize'),
  layerId: z.number().int().min(0).max(1023).default(0).describe('this block\'s layer index (sets the time_mix and time_decay init)'),
  numHiddenLayers: z.number().int().min(2).max(1024).default(2).describe('layers of the model the init assumes'),
  layerNormEpsilon: z.number().positive().default(1e-5).describe('LayerNorm ε'),
  seed: z.number().int().default(0).describe('seeds the linear layers (one random stream per layer)'),
}).refine((p) => p.layerId < p.numHiddenLayers, { message: 'layerId must be below numHiddenLayers', path: ['layerId'] });
export type RwkvBlockParams = z.infer<typeof params>;

/** Weights in PyTorch layouts (Linear: [out, in]), keyed by their HF names within a block. */
export interface RwkvBlockWeights {
  'ln1.weight': Float32Array;
  'ln1.bias': Float32Array;
  'ln2.weight': Float32Array;
  'ln2.bias': Float32Array;
  'attention.time_decay': Float32Array;
  'attention.time_first': Float32Array;
  'attention.time_mix_key': Float32Array;
  'attention.time_mix_value': Float32Array;
  'attention.time_mix_receptance': Float32Array;
  'attention.key.weight': Float32Array;
  'attention.value.weight': Float32Array;
  'attention.receptance.weight': Float32Array;
  'attention.output.weight': Float32Array;
  'feed_forward.time_mix_key': Float32Array;
  'feed_forward.time_mix_receptance': Float32Array;
  'feed_forward.key.weight': Float32Array;
  'feed_forward.receptance.weight': Float32Array;
  'feed_forward.value.weight': Float32Array;
}

export const rwkvDims = (p: RwkvBlockParams) => ({ C: p.hiddenSize, F: p.intermediateSize ?? 4 * p.hiddenSize });

const uniform = (n: number, fanIn: number, seed: number, stream: number) => {
  const r = rng(seed, 0x5f4b, stream);
  const b = 1 / Math.sqrt(fanIn);
  return Float32Array.from({ length: n }, () => (2 * r() - 1) * b);
};

export function rwkvBlockWeights(p: RwkvBlockParams): RwkvBlockWeights {
  const { C, F } = rwkvDims(p);
  const r01 = p.layerId / (p.numHiddenLayers - 1);
  const r10 = 1 - p.layerId / p.numHiddenLayers;
  const tw = (i: number) => i / C;
  const vec = (f: (i: number) => number) => Float32Array.from({ length: C }, (_, i) => f(i));
  return {
    'ln1.weight': vec(() => 1),
    'ln1.bias': vec(() => 0),
    'ln2.weight': vec(() => 1),
    'ln2.bias': vec(() => 0),
    'attention.time_decay': vec((h) => -5 + 8 * (h / (C - 1)) ** (0.7 + 1.3 * r01)),
    'attention.time_first': vec((i) => Math.log(0.3) + (((i + 1) % 3) - 1) * 0.5),
    'attention.time_mix_key': vec((i) => tw(i) ** r10),
    'attention.time_mix_value': vec((i) => tw(i) ** r10 + 0.3 * r01),
    'attention.time_mix_receptance': vec((i) => tw(i) ** (0.5 * r10)),
    'attention.key.weight': uniform(C * C, C, p.seed, 1),
    'attention.value.weight': uniform(C * C, C, p.seed, 2),
    'attention.receptance.weight': uniform(C * C, C, p.seed, 3),
    'attention.output.weight': uniform(C * C, C, p.seed, 4),
    'feed_forward.time_mix_key': vec((i) => tw(i) ** r10),
    'feed_forward.time_mix_receptance': vec((i) => tw(i) ** r10),
    'feed_forward.key.weight': uniform(F * C, C, p.seed, 5),
    'feed_forward.receptance.weight': uniform(C * C, C, p.seed, 6),
    'feed_forward.value.weight': uniform(C * F, F, p.seed, 7),
  };
}

/** [T, C] or [batch, T, C]. */
function inferX(s: PortShape | undefined, p: RwkvBlockParams) {
  const rank = s?.kind === 'tensor' ? (s.shape?.length ?? 2) : 2;
  if (rank !== 2 && rank !== 3) throw new ShapeError('x', `"x" expects [T, C] or [batch, T, C], got rank ${rank}`);
  const env: Record<string, number | null> = {};
  const names = rank === 3 ? ['batch', 'T', 'C'] : ['T', 'C'];
  const shape = bindDims(env, 'x', s, names, { dtype: 'float32' });
  if (env.C !== null && env.C !== undefined && env.C !== p.hiddenSize)
    throw new ShapeError('x', `"x" has width ${env.C} but hiddenSize is ${p.hiddenSize}`);
  return { shape, names, batch: rank === 3 ? (env.batch ?? null) : 1, T: env.T ?? null };
}

function blockFlops(p: RwkvBlockParams, tokens: number) {
  const { C, F } = rwkvDims(p);
  // Projections (4·C² time-mix, 2·C·F + C² channel-mix), token-shift mixes, LayerNorms, WKV (20/channel).
  return tokens * (2 * (5 * C * C + 2 * C * F) + 5 * 3 * C + 2 * 8 * C + 20 * C + 4 * C + F);
}

function blockMetrics(p: RwkvBlockParams, batch: number, T: number) {
  const { C, F } = rwkvDims(p);
  const paramCount = 4 * C + 5 * C + 5 * C * C + 2 * C + 2 * C * F;
  const flops = blockFlops(p, batch * T);
  // The RNN state HF carries per layer: the two token-shift inputs and WKV's (num, den, max).
  return metrics({ paramCount, stateBytes: 5 * C * 4, flops, flopsPerToken: flops / Math.max(1, batch * T) });
}

/** Plain-TS forward of one sequence x [T, C] (float64 accumulators; WKV as its O(T²) sum). */
export function rwkvBlockReference(x: Float32Array, T: number, p: RwkvBlockParams, w: RwkvBlockWeights): Float32Array {
  const { C, F } = rwkvDims(p);
  const layerNorm = (h: ArrayLike<number>, g: Float32Array, b: Float32Array) => {
    const out = new Float64Array(T * C);
    for (let t = 0; t < T; t++) {
      let mean = 0;
      for (let c = 0; c < C; c++) mean += h[t * C + c]!;
      mean /= C;
      let vr = 0;
      for (let c = 0; c < C; c++) vr += (h[t * C + c]! - mean) ** 2;
      const inv = 1 / Math.sqrt(vr / C + p.layerNormEpsilon);
      for (let c = 0; c < C; c++) out[t * C + c] = (h[t * C + c]! - mean) * inv * g[c]! + b[c]!;
    }
    return out;
  };
  // mix(μ)_t = μ⊙h_t + (1−μ)⊙h_{t−1}, h_{−1} = 0 (HF's ZeroPad2d time shift).
  const mix = (h: Float64Array, mu: Float32Array) => {
    const out = new Float64Array(T * C);
    for (let t = 0; t < T; t++)
      for (let c = 0; c < C; c++) out[t * C + c] = mu[c]! * h[t * C + c]! + (1 - mu[c]!) * (t > 0 ? h[(t - 1) * C + c]! : 0);
    return out;
  };
  const linear = (h: ArrayLike<number>, W: Float32Array, nIn: number, nOut: number) => {
    const out = new Float64Array(T * nOut);
    for (let t = 0; t < T; t++)
      for (let o = 0; o < nOut; o++) {
        let s = 0;
        for (let i = 0; i < nIn; i++) s += h[t * nIn + i]! * W[o * nIn + i]!;
        out[t * nOut + o] = s;
      }
    return out;
  };
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  // Time mix.
  const a = layerNorm(x, w['ln1.weight'], w['ln1.bias']);
  const k = linear(mix(a, w['attention.time_mix_key']), w['attention.key.weight'], C, C);
  const v = linear(mix(a, w['attention.time_mix_value']), w['attention.value.weight'], C, C);
  const r = linear(mix(a, w['attention.time_mix_receptance']), w['attention.receptance.weight'], C, C);
  const wkv = wkvDirect(f32([T, C], Float32Array.from(k)), f32([T, C], Float32Array.from(v)),
    f32([C], w['attention.time_decay']), f32([C], w['attention.time_first']));
  const rw = new Float64Array(T * C);
  for (let i = 0; i < T * C; i++) rw[i] = sigmoid(r[i]!) * wkv[i]!;
  const att = linear(rw, w['attention.output.weight'], C, C);
  const h1 = new Float64Array(T * C);
  for (let i = 0; i < T * C; i++) h1[i] = x[i]! + att[i]!;
  // Channel mix.
  const b = layerNorm(h1, w['ln2.weight'], w['ln2.bias']);
  const kk = linear(mix(b, w['feed_forward.time_mix_key']), w['feed_forward.key.weight'], C, F);
  for (let i = 0; i < kk.length; i++) kk[i] = Math.max(0, kk[i]!) ** 2;
  const vv = linear(kk, w['feed_forward.value.weight'], F, C);
  const rr = linear(mix(b, w['feed_forward.time_mix_receptance']), w['feed_forward.receptance.weight'], C, C);
  const out = new Float32Array(T * C);
  for (let i = 0; i < T * C; i++) out[i] = h1[i]! + sigmoid(rr[i]!) * vv[i]!;
  return out;
}

/** The block on the backend: tfjs for LayerNorm, token shift and projections; WKV as its O(T) recurrence. */
export async function rwkvBlockTf(tf: typeof tfc, x: Float32Array, T: number, p: RwkvBlockParams, w: RwkvBlockWeights): Promise<Float32Array> {
  const { C, F } = rwkvDims(p);
  const ln = (h: tfc.Tensor2D, g: Float32Array, b: Float32Array) => {
    const { mean, variance } = tf.moments(h, 1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, p.layerNormEpsilon))), tf.tensor1d(g)), tf.tensor1d(b)) as tfc.Tensor2D;
  };
  const shift = (h: tfc.Tensor2D) => tf.pad(tf.slice(h, [0, 0], [T - 1, C]), [[1, 0], [0, 0]]);
  const mix = (h: tfc.Tensor2D, s: tfc.Tensor, mu: Float32Array) => {
    const m = tf.tensor1d(mu);
    return tf.add(tf.mul(h, m), tf.mul(s, tf.sub(1, m))) as tfc.Tensor2D;
  };
  const lin = (h: tfc.Tensor2D, W: Float32Array, nIn: number, nOut: number) => tf.matMul(h, tf.tensor2d(W, [nOut, nIn]), false, true);
  const keep: tfc.Tensor[] = [];
  try {
    const pre = tf.tidy(() => {
      const h = tf.tensor2d(x, [T, C]);
      const a = ln(h, w['ln1.weight'], w['ln1.bias']);
      const s = shift(a);
      return [
        lin(mix(a, s, w['attention.time_mix_key']), w['attention.key.weight'], C, C),
        lin(mix(a, s, w['attention.time_mix_value']), w['attention.value.weight'], C, C),
        tf.sigmoid(lin(mix(a, s, w['attention.time_mix_receptance']), w['attention.receptance.weight'], C, C)),
      ];
    });
    keep.push(...pre);
    const [kd, vd] = await Promise.all([pre[0]!.data(), pre[1]!.data()]);
    const { wkv } = wkvRecurrent(f32([T, C], kd as Float32Array), f32([T, C], vd as Float32Array),
      f32([C], w['attention.time_decay']), f32([C], w['attention.time_first']));
    const out = tf.tidy(() => {
      const h1 = tf.add(tf.tensor2d(x, [T, C]), lin(tf.mul(pre[2]!, tf.tensor2d(wkv.data as Float32Array, [T, C])) as tfc.Tensor2D, w['attention.output.weight'], C, C)) as tfc.Tensor2D;
      const b = ln(h1, w['ln2.weight'], w['ln2.bias']);
      const s = shift(b);
      const k = tf.square(tf.relu(lin(mix(b, s, w['feed_forward.time_mix_key']), w['feed_forward.key.weight'], C, F))) as tfc.Tensor2D;
      const r = tf.sigmoid(lin(mix(b, s, w['feed_forward.time_mix_receptance']), w['feed_forward.receptance.weight'], C, C));
      return tf.add(h1, tf.mul(r, lin(k, w['feed_forward.value.weight'], F, C)));
    });
    keep.push(out);
    return (await out.data()) as Float32Array;
  } finally {
    tf.dispose(keep);
  }
}

function sequences(x: Tensor, p: RwkvBlockParams) {
  const { names } = inferX(tensorShape('float32', x.shape), p);
  const batch = names.length === 3 ? x.shape[0]! : 1;
  const T = x.shape[names.length - 2]!;
  const C = p.hiddenSize;
  const seq = (b: number) => (x.data as Float32Array).subarray(b * T * C, (b + 1) * T * C);
  return { batch, T, names, seq };
}

export const rwkvBlock = defineNode({
  type: 'ssm.rwkv-block',
  family: 'ssm',
  title: 'RWKV-4 block',
  summary:
    'One RWKV-4 block with seeded weights (HF names and init): LayerNorm → time mix (token shift, WKV with per-channel decay, receptance gate) → residual → LayerNorm → channel mix (token shift, squared-ReLU FFN, receptance gate) → residual. Linear in T, with a constant-size recurrent state.',
  formula:
    'mix_μ(h)_t = μ⊙h_t + (1−μ)⊙h_{t−1};  x\' = x + W_o·(σ(W_r·mix_r(a)) ⊙ WKV(W_k·mix_k(a), W_v·mix_v(a))), a = LN₁(x);  out = x\' + σ(W_r\'·mix_r\'(b)) ⊙ W_v\'·relu(W_k\'·mix_k\'(b))², b = LN₂(x\')',
  references: [RWKV_REF],
  params,
  inputs: { x: { kind: 'tensor', dims: ['T', 'C'], doc: 'hidden states, [T, C] or [batch, T, C]' } },
  outputs: {
    out: { kind: 'tensor', dims: ['T', 'C'], doc: 'the block\'s output (both residuals added, as HF RwkvBlock)' },
    metrics: { kind: 'metrics', doc: 'paramCount, stateBytes (token-shift inputs and WKV state per sequence), flops, flopsPerToken' },
  },
  infer(ins, p) {
    const { shape, names } = inferX(ins.x, p);
    return { out: tensorShape('float32', shape, names), metrics: { kind: 'metrics' } };
  },
  cost(ins, p) {
    const { batch, T } = inferX(ins.x, p);
    const { C, F } = rwkvDims(p);
    const Tn = T ?? 0;
    return {
      flops: blockFlops(p, (batch ?? 1) * Tn),
      // One sequence's tensors as the two tidies hold them until they return: about 28 of [T, C] (LayerNorm
      // steps, shifts, mixes, projections, gates, residuals) and 3 of [T, F] (key, relu, square); plus the
      // weights. Measured on cpu and wasm (memory-cases.test.ts).
      workspaceBytes: 4 * Tn * (28 * C + 3 * F) + 4 * (5 * C * C + 2 * C * F),
      note: `activations ${Tn}×${C} and ${Tn}×${F} f32`,
    };
  },
  async run(ctx, { x }, p) {
    const w = rwkvBlockWeights(p);
    const { batch, T, names, seq } = sequences(x, p);
    const out = new Float32Array(x.data.length);
    for (let b = 0; b < batch; b++) {
      ctx.checkCancelled();
      out.set(await rwkvBlockTf(ctx.tf, seq(b), T, p, w), b * T * p.hiddenSize);
      ctx.progress((b + 1) / batch);
    }
    return { out: f32([...x.shape], out, names), metrics: blockMetrics(p, batch, T) };
  },
  reference: ({ x }, p) => {
    const w = rwkvBlockWeights(p);
    const { batch, T, names, seq } = sequences(x, p);
    const out = new Float32Array(x.data.length);
    for (let b = 0; b < batch; b++) out.set(rwkvBlockReference(seq(b), T, p, w), b * T * p.hiddenSize);
    return { out: f32([...x.shape], out, names), metrics: blockMetrics(p, batch, T) };
  },
});
