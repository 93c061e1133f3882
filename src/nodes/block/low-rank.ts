// `block.low-rank-attention`: self-attention whose Q/K/V projections are rank-r products, as the
// Low-Rank Transformer / LED of Winata et al. (2020): W (C × H·D) ≈ E·F with E ∈ ℝ^(C×r), F ∈ ℝ^(r×H·D),
// so each projection holds r·(C + H·D) numbers instead of C·H·D and costs 2·T·r·(C + H·D) FLOPs instead of
// 2·T·C·H·D. The paper trains E, F from scratch; here, so the output can be compared with the full-rank
// layer's, they are the best rank-r factors of the seeded full-rank W (Eckart–Young: W_r = U_r·U_rᵀ·W, U_r
// the top r left singular vectors; E = U_r, F = U_rᵀ·W). Without `rank` the layer is the full-rank one.
// Seeded W has a decaying spectrum (W = G₁·diag((i+1)^−decay)·G₂ᵀ, as trained weights have), so that a
// small r keeps most of it; decay 0 gives a flat-ish spectrum that low rank cannot keep.
// Unlike Linformer (attention variant `linformer`), which projects the sequence — K and V shrink from T rows
// to k — LED factorises the weight matrices: every query still attends to all T keys (O(T²) scores), and
// what shrinks is the parameter count and the projections' FLOPs.
import { z } from 'zod';
import { defineNode, ShapeError } from '../../engine/node.js';
import { bindDims } from '../../engine/shapes.js';
import { f32 } from '../../engine/tensor.js';
import { metrics, tensorShape, type PortShape } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';

const LED_REF = { title: 'Lightweight and Efficient End-to-End Speech Recognition Using Low-Rank Transformer', year: 2020 };

const params = z.object({
  heads: z.number().int().min(1).max(256).default(4).describe('H: heads'),
  headDim: z.number().int().min(1).max(1024).default(16).describe('D: per-head width'),
  rank: z.number().int().min(1).max(8192).optional().describe('r: rank of each of W_q, W_k, W_v; absent: full rank'),
  causal: z.boolean().default(true).describe('mask keys after the query position'),
  spectrumDecay: z.number().min(0).max(4).default(1).describe('seeded W has singular values shaped like (i+1)^−decay'),
  seed: z.number().int().default(0).describe('seeds W_q, W_k, W_v'),
});
export type LowRankParams = z.infer<typeof params>;

function inferX(s: PortShape | undefined) {
  const rank = s?.kind === 'tensor' ? (s.shape?.length ?? 2) : 2;
  if (rank !== 2 && rank !== 3) throw new ShapeError('x', `"x" expects [T, C] or [1, T, C], got rank ${rank}`);
  if (rank === 3 && s?.kind === 'tensor' && s.shape?.[0] !== 1 && s.shape?.[0] !== null)
    throw new ShapeError('x', `"x" takes one sequence: its batch must be 1, got ${s.shape?.[0]}`);
  const env: Record<string, number | null> = {};
  bindDims(env, 'x', s, rank === 3 ? ['batch', 'T', 'C'] : ['T', 'C'], { dtype: 'float32' });
  return { T: env.T ?? 0, C: env.C ?? 0 };
}

/** Symmetric eigen-decomposition by cyclic Jacobi rotations (float64): eigenvalues descending, vectors as columns. */
export function symmetricEigen(S: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(S);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y]! - a[x * n + x]!);
  const values = Float64Array.from(order, (i) => a[i * n + i]!);
  const vectors = new Float64Array(n * n);
  for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) vectors[k * n + j] = v[k * n + order[j]!]!;
  return { values, vectors };
}

/** Seeded full-rank W [C, M] = G₁·diag((i+1)^−decay)·G₂ (scaled so unit inputs give about unit outputs). */
export function seededWeight(C: number, M: number, decay: number, seed: number, stream: number): Float32Array {
  const n = Math.min(C, M);
  const g1 = fillGaussian(new Float32Array(C * n), seed, 0x1ed, stream, 1);
  const g2 = fillGaussian(new Float32Array(n * M), seed, 0x1ed, stream, 2);
  const sig = Float64Array.from({ length: n }, (_, i) => (i + 1) ** -decay);
  const norm = Math.sqrt(sig.reduce((a, s) => a + s * s, 0) * C);
  const W = new Float32Array(C * M);
  for (let c = 0; c < C; c++)
    for (let m = 0; m < M; m++) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += g1[c * n + i]! * sig[i]! * g2[i * M + m]!;
      W[c * M + m] = acc / norm;
    }
  return W;
}

/** Best rank-r factors of W [C, M]: E = U_r [C, r], F = U_rᵀ·W [r, M]. */
export function lowRankFactors(W: Float32Array, C: number, M: number, r: number): { E: Float32Array; F: Float32Array } {
  const G = new Float64Array(C * C);
  for (let i = 0; i < C; i++)
    for (let j = i; j < C; j++) {
      let acc = 0;
      for (let m = 0; m < M; m++) acc += W[i * M + m]! * W[j * M + m]!;
      G[i * C + j] = G[j * C + i] = acc;
    }
  const { vectors } = symmetricEigen(G, C);
  const E = new Float32Array(C * r);
  for (let c = 0; c < C; c++) for (let k = 0; k < r; k++) E[c * r + k] = vectors[c * C + k]!;
  const F = new Float32Array(r * M);
  for (let k = 0; k < r; k++)
    for (let m = 0; m < M; m++) {
      let acc = 0;
      for (let c = 0; c < C; c++) acc += vectors[c * C + k]! * W[c * M + m]!;
      F[k * M + m] = acc;
    }
  return { E, F };
}

/** Each projection: full [C, M] or its rank-r factors. */
export type Projection = { W: Float32Array } | { E: Float32Array; F: Float32Array; r: number };

export function lowRankWeights(p: LowRankParams, C: number): { q: Projection; k: Projection; v: Projection } {
  const M = p.heads * p.headDim;
  const make = (stream: number): Projection => {
    const W = seededWeight(C, M, p.spectrumDecay, p.seed, stream);
    const r = p.rank;
    if (r === undefined || r >= Math.min(C, M)) return { W };
    return { ...lowRankFactors(W, C, M, r), r };
  };
  return { q: make(0), k: make(1), v: make(2) };
}

function counts(p: LowRankParams, T: number, C: number) {
  const M = p.heads * p.headDim;
  const r = p.rank !== undefined && p.rank < Math.min(C, M) ? p.rank : undefined;
  const per = r === undefined ? C * M : r * (C + M);
  const pairs = p.causal ? (T * (T + 1)) / 2 : T * T;
  const attend = 4 * p.heads * pairs * p.headDim;
  return { paramCount: 3 * per, fullParamCount: 3 * C * M, projFlops: 3 * 2 * T * per, fullProjFlops: 3 * 2 * T * C * M, attend, r };
}

/** Plain-TS layer (float64): the projections as given (full or E then F), then exact softmax attention per head. */
function referenceForward(x: Float32Array, T: number, C: number, p: LowRankParams, w: ReturnType<typeof lowRankWeights>): Float32Array {
  const H = p.heads;
  const D = p.headDim;
  const M = H * D;
  const project = (pr: Projection) => {
    const out = new Float64Array(T * M);
    for (let t = 0; t < T; t++) {
      if ('W' in pr) {
        for (let m = 0; m < M; m++) { let a = 0; for (let c = 0; c < C; c++) a += x[t * C + c]! * pr.W[c * M + m]!; out[t * M + m] = a; }
      } else {
        const z = new Float64Array(pr.r);
        for (let k = 0; k < pr.r; k++) { let a = 0; for (let c = 0; c < C; c++) a += x[t * C + c]! * pr.E[c * pr.r + k]!; z[k] = a; }
        for (let m = 0; m < M; m++) { let a = 0; for (let k = 0; k < pr.r; k++) a += z[k]! * pr.F[k * M + m]!; out[t * M + m] = a; }
      }
    }
    return out;
  };
  const [Q, K, V] = [project(w.q), project(w.k), project(w.v)];
  const out = new Float32Array(H * T * D);
  const s = new Float64Array(T);
  for (let h = 0; h < H; h++)
    for (let i = 0; i < T; i++) {
      const last = p.causal ? i : T - 1;
      let mx = -Infinity;
      for (let j = 0; j <= last; j++) {
        let a = 0;
        for (let d = 0; d < D; d++) a += Q[i * M + h * D + d]! * K[j * M + h * D + d]!;
        s[j] = a / Math.sqrt(D);
        mx = Math.max(mx, s[j]!);
      }
      let z = 0;
      for (let j = 0; j <= last; j++) z += s[j] = Math.exp(s[j]! - mx);
      for (let d = 0; d < D; d++) {
        let a = 0;
        for (let j = 0; j <= last; j++) a += s[j]! * V[j * M + h * D + d]!;
        out[(h * T + i) * D + d] = a / z;
      }
    }
  return out;
}

function layerMetrics(p: LowRankParams, T: number, C: number) {
  const c = counts(p, T, C);
  return metrics({
    rank: c.r ?? Math.min(C, p.heads * p.headDim),
    paramCount: c.paramCount,
    fullParamCount: c.fullParamCount,
    paramRatio: c.paramCount / c.fullParamCount,
    projectionFlops: c.projFlops,
    fullProjectionFlops: c.fullProjFlops,
    flops: c.projFlops + c.attend,
  });
}

export const lowRankAttention = defineNode({
  type: 'block.low-rank-attention',
  family: 'block',
  title: 'Low-rank attention (LED)',
  summary:
    'Self-attention whose Q/K/V projections are rank-r products E·F (Winata et al. 2020): r·(C + H·D) parameters per projection instead of C·H·D, and as many fewer projection FLOPs. Factors are the best rank-r approximation of seeded full-rank weights, so the output can be compared with the full-rank layer (no `rank`). Not Linformer: Linformer shrinks the sequence (K, V to k rows); this shrinks the weight matrices, and attention still sees all T keys.',
  formula: 'Q = (x·E_q)·F_q, K = (x·E_k)·F_k, V = (x·E_v)·F_v, E ∈ ℝ^(C×r), F ∈ ℝ^(r×H·D);  O_h = softmax(Q_h K_hᵀ/√D)·V_h;  params 3·r·(C + H·D) vs 3·C·H·D',
  references: [LED_REF],
  params,
  inputs: { x: { kind: 'tensor', dims: ['T', 'C'], doc: 'hidden states [T, C]' } },
  outputs: {
    out: { kind: 'tensor', dims: ['H', 'T', 'D'], doc: 'attention output per head' },
    metrics: { kind: 'metrics', doc: 'rank, paramCount, fullParamCount, paramRatio, projectionFlops, fullProjectionFlops, flops' },
  },
  infer(ins, p) {
    inferX(ins.x);
    return { out: tensorShape('float32', [p.heads, inferX(ins.x).T, p.headDim], ['H', 'T', 'D']), metrics: { kind: 'metrics' } };
  },
  cost(ins, p) {
    const { T, C } = inferX(ins.x);
    const c = counts(p, T, C);
    const M = p.heads * p.headDim;
    return {
      flops: c.projFlops + c.attend,
      // Weights (and the full W each factorisation starts from), Q, K, V and their head copies, x·E, and one
      // head's T×T scores with mask, exponentials and softmax (measured: memory-cases.test.ts).
      workspaceBytes: 4 * (c.paramCount + C * M) + 4 * T * (5 * M + 3 * (c.r ?? 0) + C) + 4 * 6 * T * T,
      note: c.r ? `rank ${c.r}: ${c.paramCount} projection weights instead of ${c.fullParamCount}` : 'full-rank projections',
    };
  },
  // Its exact counterpart is the same layer at full rank (the factors approximate those weights).
  exact: ({ rank, ...full }) => (rank === undefined ? undefined : { kind: 'sibling', params: full, ports: ['out'] }),
  async run(ctx, { x }, p) {
    const { T, C } = inferX(tensorShape('float32', x.shape));
    const { tf } = ctx;
    const w = lowRankWeights(p, C);
    const H = p.heads;
    const D = p.headDim;
    const M = H * D;
    const out = new Float32Array(H * T * D);
    const [Q, K, V] = tf.tidy(() => {
      const xt = tf.tensor2d(x.data as Float32Array, [T, C]);
      const proj = (pr: Projection) => 'W' in pr
        ? tf.matMul(xt, tf.tensor2d(pr.W, [C, M]))
        : tf.matMul(tf.matMul(xt, tf.tensor2d(pr.E, [C, pr.r])), tf.tensor2d(pr.F, [pr.r, M]));
      // [T, M] → [H, T, D]
      return [w.q, w.k, w.v].map((pr) => tf.transpose(tf.reshape(proj(pr), [T, H, D]), [1, 0, 2]));
    });
    try {
      const mask = p.causal ? new Float32Array(T * T) : undefined;
      if (mask) for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -Infinity;
      for (let h = 0; h < H; h++) {
        ctx.checkCancelled();
        const o = tf.tidy(() => {
          const sl = (t: typeof Q) => tf.reshape(tf.slice(t!, [h, 0, 0], [1, T, D]), [T, D]);
          let s = tf.mul(tf.matMul(sl(Q), sl(K), false, true), 1 / Math.sqrt(D));
          if (mask) s = tf.add(s, tf.tensor2d(mask, [T, T]));
          return tf.matMul(tf.softmax(s), sl(V));
        });
        out.set((await o.data()) as Float32Array, h * T * D);
        o.dispose();
        ctx.progress((h + 1) / H);
      }
    } finally {
      tf.dispose([Q!, K!, V!]);
    }
    return { out: f32([H, T, D], out, ['H', 'T', 'D']), metrics: layerMetrics(p, T, C) };
  },
  reference: ({ x }, p) => {
    const { T, C } = inferX(tensorShape('float32', x.shape));
    const out = referenceForward(x.data as Float32Array, T, C, p, lowRankWeights(p, C));
    return { out: f32([p.heads, T, p.headDim], out, ['H', 'T', 'D']), metrics: layerMetrics(p, T, C) };
  },
});
