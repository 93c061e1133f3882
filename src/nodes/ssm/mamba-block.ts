// `ssm.mamba-block`: one Mamba (S6) block with seeded weights, as mamba_simple.Mamba's reference path:
//   [x, z] = in_proj(h);  x = silu(causal depthwise conv1d(x));  [dt, B, C] = x_proj(x);  Δ = dt_proj.weight·dt;
//   y = selective_scan(x, Δ, A, B, C, D, z, deltaBias = dt_proj.bias, softplus);  out = out_proj(y).
// Initialisation as Mamba's: A = −exp(A_log) with A_log = log(1..N); D = 1; dt_proj.weight ~ U(±dtRank^−½);
// dt_proj.bias = softplus⁻¹(dt), dt log-uniform in [dtMin, dtMax] floored at dtInitFloor; the other
// linear and conv layers use PyTorch's default U(±1/√fan_in).
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { defineNode, ShapeError, type RunContext } from '../../engine/node.js';
import { bindDims } from '../../engine/shapes.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { metrics, tensorShape, type PortShape } from '../../engine/values.js';
import { rng } from '../common/random.js';
import { chunkScanBytes, scanFlops, selectiveScanSequential, silu } from './scan.js';
import { scanTensorsOnBackend } from './scan-kernels.js';
import { MAMBA_REF, scanImplParams } from './selective-scan.js';

const params = z.object({
  dModel: z.number().int().min(1).max(8192).default(64).describe('model width (the input\'s last dim)'),
  dState: z.number().int().min(1).max(256).default(16).describe('N: state size per channel'),
  dConv: z.number().int().min(1).max(16).default(4).describe('width of the causal depthwise convolution'),
  expand: z.number().int().min(1).max(8).default(2).describe('dInner = expand·dModel'),
  dtRank: z.number().int().min(1).max(8192).optional().describe('rank of the Δ projection; default ⌈dModel/16⌉'),
  dtMin: z.number().positive().default(0.001).describe('smallest initial Δ'),
  dtMax: z.number().positive().default(0.1).describe('largest initial Δ'),
  dtInitFloor: z.number().positive().default(1e-4).describe('initial Δ is clamped below at this'),
  seed: z.number().int().default(0).describe('seeds every weight (one random stream per layer)'),
  ...scanImplParams,
}).refine((p) => p.dtMin <= p.dtMax, { message: 'dtMin must not exceed dtMax', path: ['dtMin'] });
export type MambaParams = z.infer<typeof params>;

export function mambaDims(p: MambaParams) {
  const dInner = p.expand * p.dModel;
  return { dModel: p.dModel, dInner, N: p.dState, K: p.dConv, R: p.dtRank ?? Math.ceil(p.dModel / 16) };
}

/** Seeded weights in PyTorch's layouts (Linear: [out, in]; depthwise conv: [dInner, dConv]). */
export interface MambaWeights {
  inProj: Float32Array;
  convW: Float32Array;
  convB: Float32Array;
  xProj: Float32Array;
  dtW: Float32Array;
  dtBias: Float32Array;
  A: Float32Array;
  D: Float32Array;
  outProj: Float32Array;
}

const uniform = (n: number, bound: number, seed: number, stream: number) => {
  const r = rng(seed, stream);
  return Float32Array.from({ length: n }, () => (2 * r() - 1) * bound);
};

export function mambaWeights(p: MambaParams): MambaWeights {
  const { dModel, dInner, N, K, R } = mambaDims(p);
  const r = rng(p.seed, 6);
  const dtBias = Float32Array.from({ length: dInner }, () => {
    const dt = Math.max(p.dtInitFloor, Math.exp(r() * (Math.log(p.dtMax) - Math.log(p.dtMin)) + Math.log(p.dtMin)));
    return dt + Math.log(-Math.expm1(-dt)); // softplus⁻¹(dt)
  });
  const A = new Float32Array(dInner * N);
  for (let d = 0; d < dInner; d++) for (let n = 0; n < N; n++) A[d * N + n] = -Math.exp(Math.log(n + 1));
  return {
    inProj: uniform(2 * dInner * dModel, 1 / Math.sqrt(dModel), p.seed, 1),
    convW: uniform(dInner * K, 1 / Math.sqrt(K), p.seed, 2),
    convB: uniform(dInner, 1 / Math.sqrt(K), p.seed, 3),
    xProj: uniform((R + 2 * N) * dInner, 1 / Math.sqrt(dInner), p.seed, 4),
    dtW: uniform(dInner * R, 1 / Math.sqrt(R), p.seed, 5),
    dtBias,
    A,
    D: new Float32Array(dInner).fill(1),
    outProj: uniform(dModel * dInner, 1 / Math.sqrt(dInner), p.seed, 7),
  };
}

/** [L, dModel] or [batch, L, dModel]. */
function inferX(s: PortShape | undefined, p: MambaParams) {
  const rank = s?.kind === 'tensor' ? (s.shape?.length ?? 2) : 2;
  if (rank !== 2 && rank !== 3) throw new ShapeError('x', `"x" expects [L, dModel] or [batch, L, dModel], got rank ${rank}`);
  const env: Record<string, number | null> = {};
  const names = rank === 3 ? ['batch', 'L', 'dModel'] : ['L', 'dModel'];
  const dims = bindDims(env, 'x', s, names, { dtype: 'float32' });
  if (env.dModel !== null && env.dModel !== undefined && env.dModel !== p.dModel)
    throw new ShapeError('x', `"x" has width ${env.dModel} but dModel is ${p.dModel}`);
  return { shape: dims, names, batch: rank === 3 ? (env.batch ?? null) : 1, L: env.L ?? null };
}

/** Recurrent state a Mamba block carries between tokens: the SSM state and the conv window. */
const stateBytes = (p: MambaParams) => {
  const { dInner, N, K } = mambaDims(p);
  return (dInner * N + dInner * (K - 1)) * 4;
};

function mambaFlops(p: MambaParams, batch: number, L: number) {
  const { dModel, dInner, N, K, R } = mambaDims(p);
  const proj = 2 * L * (dModel * 2 * dInner + dInner * (R + 2 * N) + R * dInner + dInner * dModel);
  const conv = 2 * L * dInner * K + 4 * L * dInner; // conv, silu on x and on z
  return batch * (proj + conv) + scanFlops({ batch, Dm: dInner, L, N, G: 1 });
}

function blockMetrics(p: MambaParams, batch: number, L: number) {
  const { dModel, dInner, N, K, R } = mambaDims(p);
  // in_proj, conv (weight + bias), x_proj, dt_proj (weight + bias), A_log, D, out_proj
  const paramCount = dInner * (2 * dModel + K + 1 + (R + 2 * N) + R + 1 + N + 1 + dModel);
  const flops = mambaFlops(p, batch, L);
  return metrics({ paramCount, stateBytes: stateBytes(p), flops, flopsPerToken: flops / (batch * L) });
}

/** Plain-TS forward of one sequence x [L, dModel] (float64 accumulators). */
export function mambaForwardReference(x: Float32Array, L: number, p: MambaParams, w: MambaWeights, tick?: () => void): Float32Array {
  const { dModel, dInner, N, K, R } = mambaDims(p);
  const linear = (inp: ArrayLike<number>, W: Float32Array, nIn: number, nOut: number) => {
    const out = new Float32Array(L * nOut);
    for (let l = 0; l < L; l++)
      for (let o = 0; o < nOut; o++) {
        let s = 0;
        for (let i = 0; i < nIn; i++) s += inp[l * nIn + i]! * W[o * nIn + i]!;
        out[l * nOut + o] = s;
      }
    return out;
  };
  const xz = linear(x, w.inProj, dModel, 2 * dInner); // [L, 2·dInner]: x then z
  // Causal depthwise conv (torch pads dConv−1 on both sides and keeps the first L), then silu; [dInner, L].
  const u = new Float32Array(dInner * L);
  const zT = new Float32Array(dInner * L);
  for (let d = 0; d < dInner; d++)
    for (let l = 0; l < L; l++) {
      let s = w.convB[d]!;
      for (let k = 0; k < K; k++) {
        const j = l - (K - 1) + k;
        if (j >= 0) s += w.convW[d * K + k]! * xz[j * 2 * dInner + d]!;
      }
      u[d * L + l] = silu(s);
      zT[d * L + l] = xz[l * 2 * dInner + dInner + d]!;
    }
  const uL = new Float32Array(L * dInner);
  for (let d = 0; d < dInner; d++) for (let l = 0; l < L; l++) uL[l * dInner + d] = u[d * L + l]!;
  const dbl = linear(uL, w.xProj, dInner, R + 2 * N); // [L, R + 2N]
  const delta = new Float32Array(dInner * L);
  const B = new Float32Array(N * L);
  const C = new Float32Array(N * L);
  for (let l = 0; l < L; l++) {
    for (let d = 0; d < dInner; d++) {
      let s = 0;
      for (let r = 0; r < R; r++) s += w.dtW[d * R + r]! * dbl[l * (R + 2 * N) + r]!;
      delta[d * L + l] = s;
    }
    for (let n = 0; n < N; n++) {
      B[n * L + l] = dbl[l * (R + 2 * N) + R + n]!;
      C[n * L + l] = dbl[l * (R + 2 * N) + R + N + n]!;
    }
  }
  const y = new Float32Array(dInner * L);
  selectiveScanSequential({ u, delta, A: w.A, B, C, D: w.D, z: zT, deltaBias: w.dtBias }, { Dm: dInner, L, N, G: 1 }, true, y, new Float32Array(dInner * N), tick);
  const yL = new Float32Array(L * dInner);
  for (let d = 0; d < dInner; d++) for (let l = 0; l < L; l++) yL[l * dInner + d] = y[d * L + l]!;
  return linear(yL, w.outProj, dInner, dModel);
}

/** The block on the backend: tfjs matMul for the projections, shifted slices for the conv, the backend's scan. */
async function mambaForwardTf(ctx: RunContext, x: Float32Array, L: number, p: MambaParams, w: MambaWeights,
  progress: (fraction: number) => void): Promise<Float32Array> {
  const { tf } = ctx;
  const { dModel, dInner, N, K, R } = mambaDims(p);
  const keep: tfc.Tensor[] = [];
  try {
    const pre = tf.tidy(() => {
      const h = tf.tensor2d(x, [L, dModel]);
      const xz = tf.matMul(h, tf.tensor2d(w.inProj, [2 * dInner, dModel]), false, true);
      const xi = tf.slice(xz, [0, 0], [L, dInner]);
      const zi = tf.slice(xz, [0, dInner], [L, dInner]);
      // out[l, d] = bias[d] + Σ_k w[d, k]·x[l − (K−1) + k, d]
      // Per-channel vectors broadcast as [dInner] (a trailing-dim broadcast, the backends' fast path).
      const padded = tf.pad(xi, [[K - 1, 0], [0, 0]]);
      let conv: tfc.Tensor = tf.tensor1d(w.convB);
      for (let k = 0; k < K; k++) {
        const tap = Float32Array.from({ length: dInner }, (_, d) => w.convW[d * K + k]!);
        conv = tf.add(tf.mul(tf.slice(padded, [k, 0], [L, dInner]), tf.tensor1d(tap)), conv);
      }
      const u = tf.mul(conv, tf.sigmoid(conv)); // [L, dInner]
      const dbl = tf.matMul(u, tf.tensor2d(w.xProj, [R + 2 * N, dInner]), false, true); // [L, R + 2N]
      const dt = tf.matMul(tf.slice(dbl, [0, 0], [L, R]), tf.tensor2d(w.dtW, [dInner, R]), false, true); // [L, dInner]
      // The scan takes sequence-major tensors: B, C as [L, G = 1, N].
      const B = tf.reshape(tf.slice(dbl, [0, R], [L, N]), [L, 1, N]);
      const C = tf.reshape(tf.slice(dbl, [0, R + N], [L, N]), [L, 1, N]);
      return { u, delta: dt, B, C, z: zi } as Record<string, tfc.Tensor>;
    });
    keep.push(...Object.values(pre));
    const A = tf.tensor2d(w.A, [dInner, N]);
    const D = tf.tensor1d(w.D);
    const deltaBias = tf.tensor1d(w.dtBias);
    keep.push(A, D, deltaBias);
    // The backend's scan kernel (WGSL on webgpu: the tensors stay on the device; wasm SIMD on wasm).
    const { y, state } = await scanTensorsOnBackend(ctx, {
      u: pre.u as tfc.Tensor2D, delta: pre.delta as tfc.Tensor2D, A, B: pre.B as tfc.Tensor3D, C: pre.C as tfc.Tensor3D,
      D, z: pre.z as tfc.Tensor2D, deltaBias,
    }, { Dm: dInner, L, N, G: 1 }, { deltaSoftplus: true, chunkSize: p.chunkSize, progress });
    keep.push(y, state);
    const out = tf.tidy(() => tf.matMul(y, tf.tensor2d(w.outProj, [dModel, dInner]), false, true));
    keep.push(out);
    return (await out.data()) as Float32Array;
  } finally {
    tf.dispose(keep);
  }
}

/** Splits x into sequences: [L, dModel] is one, [batch, L, dModel] is `batch`. */
function sequences(x: Tensor, p: MambaParams) {
  const { names } = inferX(tensorShape('float32', x.shape), p);
  const batch = names.length === 3 ? x.shape[0]! : 1;
  const L = x.shape[names.length - 2]!;
  const seq = (b: number) => (x.data as Float32Array).subarray(b * L * p.dModel, (b + 1) * L * p.dModel);
  return { batch, L, names, seq };
}

export const mambaBlock = defineNode({
  type: 'ssm.mamba-block',
  family: 'ssm',
  title: 'Mamba block',
  summary:
    'One Mamba block with seeded weights and Mamba\'s initialisation: in_proj → causal depthwise conv → SiLU → x_proj → dt_proj → selective scan → gate by SiLU(z) → out_proj. Linear in L, with a constant-size recurrent state.',
  formula: '[x, z] = W_in·h; x = silu(conv(x)); (Δ, B, C) = proj(x); y = scan(x, softplus(W_Δ·Δ + b_Δ), −exp(A_log), B, C, D)·silu(z); out = W_out·y',
  references: [MAMBA_REF],
  params,
  inputs: { x: { kind: 'tensor', dims: ['L', 'dModel'], doc: 'hidden states, [L, dModel] or [batch, L, dModel]' } },
  outputs: {
    out: { kind: 'tensor', dims: ['L', 'dModel'], doc: 'the block\'s output (no residual added)' },
    metrics: { kind: 'metrics', doc: 'paramCount, stateBytes (SSM state + conv window per sequence), flops, flopsPerToken' },
  },
  infer(ins, p) {
    const { shape, names } = inferX(ins.x, p);
    return { out: tensorShape('float32', shape, names), metrics: { kind: 'metrics' } };
  },
  cost(ins, p) {
    const { batch, L } = inferX(ins.x, p);
    const { dInner, N, K, R } = mambaDims(p);
    const Ln = L ?? 0;
    const Lc = Math.min(p.chunkSize, Ln);
    return {
      flops: mambaFlops(p, batch ?? 1, Ln),
      // One sequence's activations on the backend (xz, conv terms, x_proj out, Δ, Δ·u, y) and the scan's chunk.
      workspaceBytes: 4 * Ln * (8 * dInner + R + 2 * N) + (p.scan === 'chunked' ? chunkScanBytes(dInner, Lc, N) : 0) + 4 * dInner * (K + N),
      note: `activations ${Ln}×${dInner} f32 and one scan chunk ${dInner}×${Lc}×${N} per scan level`,
    };
  },
  async run(ctx, { x }, p) {
    const w = mambaWeights(p);
    const { batch, L, names, seq } = sequences(x, p);
    const out = new Float32Array(x.data.length);
    for (let b = 0; b < batch; b++) {
      const y =
        p.scan === 'sequential'
          ? mambaForwardReference(seq(b), L, p, w, ctx.checkCancelled)
          : await mambaForwardTf(ctx, seq(b), L, p, w, (f) => ctx.progress((b + f) / batch));
      out.set(y, b * L * p.dModel);
    }
    return { out: f32([...x.shape], out, names), metrics: blockMetrics(p, batch, L) };
  },
  reference: ({ x }, p) => {
    const w = mambaWeights(p);
    const { batch, L, names, seq } = sequences(x, p);
    const out = new Float32Array(x.data.length);
    for (let b = 0; b < batch; b++) out.set(mambaForwardReference(seq(b), L, p, w), b * L * p.dModel);
    return { out: f32([...x.shape], out, names), metrics: blockMetrics(p, batch, L) };
  },
});
