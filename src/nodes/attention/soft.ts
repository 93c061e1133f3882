// SOFT: softmax-free attention with a Gaussian kernel κ(x, y) = exp(−‖x − y‖²/2) on q, k scaled by
// √scale (= exp(−‖q − k‖²/(2√D)) at the default scale), approximated by Nyström over m landmarks L:
//   S ≈ κ(Q, L) · κ(L, L)⁺ · κ(L, K),
// the pseudo-inverse by Newton–Schulz iterations V ← 2V − V·P·V from V₀ = P/(‖P‖₁‖P‖∞) (SOFT uses
// Newton iterations too). Landmarks: means of `landmarks` consecutive segments of the keys (SOFT
// learns a strided convolution; the mean is its parameter-free form), per kv head. The low-rank
// form is a feature map, φ(q_i) = κ(q_i, L)·κ(L, L)⁺ and ψ(k_j) = κ(L, k_j), so it runs as linear
// attention (kernelized.ts): O(T·m·(D + Dv)). As published the output is S·V, unnormalised;
// `normalize` divides by the approximated row sums S̃·1. When causal, landmarks are built causally:
// query i uses only the n(i) landmarks whose segments end at or before i, with the pseudo-inverse of
// their own κ(L≤n, L≤n), so no key after i reaches it (queries in the first segment see no landmark
// and output 0). That is a pseudo-inverse per prefix: O(iterations·m⁴) per kv head, once.
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import type { Tensor } from '../../engine/tensor.js';
import { commonParams, groupOf, headView, scaleOf, defineVariant } from './common.js';
import { featureAttention, featureCost, kernelReference, type FeatureMap } from './kernelized.js';
import type { AttentionShape } from './reference.js';

type P = z.output<typeof params>;

type TF = Parameters<FeatureMap['keys']>[0];

/** κ(X, Y) = exp(−‖x − y‖²/2) for every row pair: [n, m]. */
function gaussian(tf: TF, x: tfc.Tensor2D, y: tfc.Tensor2D): tfc.Tensor2D {
  const d2 = tf.sub(tf.add(tf.sum(tf.square(x), 1, true), tf.reshape(tf.sum(tf.square(y), 1), [1, -1])), tf.mul(tf.matMul(x, y, false, true), 2));
  return tf.exp(tf.mul(tf.maximum(d2, 0), -0.5)) as tfc.Tensor2D;
}

/** Segment b of T positions among m: [⌊b·T/m⌋, ⌊(b+1)·T/m⌋). */
const segment = (b: number, T: number, m: number) => [Math.floor((b * T) / m), Math.floor(((b + 1) * T) / m)] as const;

/** Averaging matrix [m, T] whose row b averages segment b. */
function poolMatrix(T: number, m: number): Float32Array {
  const R = new Float32Array(m * T);
  for (let b = 0; b < m; b++) {
    const [a, e] = segment(b, T, m);
    for (let t = a; t < e; t++) R[b * T + t] = 1 / (e - a);
  }
  return R;
}

/** Newton–Schulz pseudo-inverse of a symmetric positive matrix P (tfjs), from V₀ = P/(‖P‖₁‖P‖∞). */
function pinvOf(tf: TF, P: tfc.Tensor2D, iterations: number): tfc.Tensor2D {
  return tf.tidy(() => {
    // ‖P‖₁‖P‖∞ (P is symmetric and positive, so both are the largest row sum).
    let V = tf.div(P, tf.square(tf.max(tf.sum(P, 1)))) as tfc.Tensor2D;
    for (let t = 0; t < iterations; t++) V = tf.sub(tf.mul(V, 2), tf.matMul(tf.matMul(V, P), V)) as tfc.Tensor2D;
    return V;
  });
}

/** Causal: how many landmark segments end at or before absolute key position i (all of them are visible). */
export function visibleLandmarks(i: number, Tk: number, m: number): number {
  let n = 0;
  while (n < m && segment(n, Tk, m)[1] <= i + 1) n++;
  return n;
}

function featureMap(p: P, s: AttentionShape): FeatureMap {
  const m = Math.min(p.landmarks, s.Tk);
  const off = s.Tk - s.Tq;
  // Per kv head: the landmarks, and the pseudo-inverse of κ(L, L) (causal: of each prefix κ(L<n, L<n)).
  const kept = new Map<number, { L: tfc.Tensor2D; pinv: Map<number, tfc.Tensor2D> }>();
  const free = (g: number) => {
    const e = kept.get(g);
    if (!e) return;
    e.L.dispose();
    for (const t of e.pinv.values()) t.dispose();
    kept.delete(g);
  };
  return {
    keys(tf, k, g) {
      const L = tf.matMul(tf.tensor2d(poolMatrix(s.Tk, m), [m, s.Tk]), k) as tfc.Tensor2D;
      const P = gaussian(tf, L, L);
      const pinv = new Map<number, tfc.Tensor2D>();
      if (!p.causal) pinv.set(m, tf.keep(pinvOf(tf, P, p.pinvIterations)));
      else {
        // Only the prefixes some query uses: n(off) … n(Tk − 1) = m.
        for (let n = Math.max(1, visibleLandmarks(off, s.Tk, m)); n <= m; n++)
          pinv.set(n, tf.keep(pinvOf(tf, tf.slice(P, [0, 0], [n, n]) as tfc.Tensor2D, p.pinvIterations)));
      }
      free(g);
      kept.set(g, { L: tf.keep(L), pinv });
      return gaussian(tf, k, L);
    },
    queries(tf, q, h) {
      const { L, pinv } = kept.get(groupOf(h, s))!;
      if (!p.causal) return tf.matMul(gaussian(tf, q, L), pinv.get(m)!);
      // Rows grouped by how many landmarks they see; features past n are 0 (those landmarks are unseen).
      const parts: tfc.Tensor2D[] = [];
      for (let r0 = 0; r0 < s.Tq; ) {
        const n = visibleLandmarks(off + r0, s.Tk, m);
        let r1 = r0 + 1;
        while (r1 < s.Tq && visibleLandmarks(off + r1, s.Tk, m) === n) r1++;
        const rows = r1 - r0;
        if (n === 0) parts.push(tf.zeros([rows, m]) as tfc.Tensor2D);
        else {
          const f = tf.matMul(gaussian(tf, tf.slice(q, [r0, 0], [rows, s.D]) as tfc.Tensor2D, tf.slice(L, [0, 0], [n, s.D]) as tfc.Tensor2D), pinv.get(n)!) as tfc.Tensor2D;
          parts.push(n === m ? f : (tf.pad(f, [[0, 0], [0, m - n]]) as tfc.Tensor2D));
        }
        r0 = r1;
      }
      return parts.length === 1 ? parts[0]! : (tf.concat(parts, 0) as tfc.Tensor2D);
    },
    normalize: p.normalize,
    dispose() {
      for (const g of [...kept.keys()]) free(g);
    },
  };
}

// --- Plain-TS reference (float64) ---------------------------------------------------------------

/** exp(−‖c·x − y‖²/2) for row x at xo and row y at yo. */
const kernel = (x: ArrayLike<number>, xo: number, c: number, y: ArrayLike<number>, yo: number, D: number) => {
  let d2 = 0;
  for (let d = 0; d < D; d++) d2 += (c * x[xo + d]! - y[yo + d]!) ** 2;
  return Math.exp(-d2 / 2);
};

function matmul(a: Float64Array, b: Float64Array, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let t = 0; t < k; t++) for (let j = 0; j < m; j++) out[i * m + j] += a[i * k + t]! * b[t * m + j]!;
  return out;
}

/** Newton–Schulz pseudo-inverse of a symmetric positive m×m matrix, as in the kernel. */
function newtonSchulzPinv(P: Float64Array, m: number, iterations: number): Float64Array {
  let maxRow = 0;
  for (let i = 0; i < m; i++) maxRow = Math.max(maxRow, P.subarray(i * m, (i + 1) * m).reduce((a, b) => a + Math.abs(b), 0));
  let V = P.map((x) => x / (maxRow * maxRow));
  for (let t = 0; t < iterations; t++) {
    const VPV = matmul(matmul(V, P, m, m, m), V, m, m, m);
    V = V.map((x, e) => 2 * x - VPV[e]!);
  }
  return V;
}

/** Landmarks (segment means of √scale·k) and κ(q_i, L)·pinv, κ(L, k_j) for every row, per kv head. */
function nystromReference(q: Tensor, k: Tensor, p: P, s: AttentionShape) {
  const c = Math.sqrt(scaleOf(p, s.D));
  const m = Math.min(p.landmarks, s.Tk);
  const { D, Tq, Tk } = s;
  const perGroup = Array.from({ length: s.Hkv }, (_, g) => {
    const kg = headView(k, g);
    const L = new Float64Array(m * D);
    for (let b = 0; b < m; b++) {
      const [a, e] = segment(b, Tk, m);
      for (let t = a; t < e; t++) for (let d = 0; d < D; d++) L[b * D + d] += (c * kg[t * D + d]!) / (e - a);
    }
    const P = new Float64Array(m * m);
    for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) P[a * m + b] = kernel(L, a * D, 1, L, b * D, D);
    const B = new Float64Array(Tk * m); // κ(k_j, L)
    for (let j = 0; j < Tk; j++) for (let b = 0; b < m; b++) B[j * m + b] = kernel(kg, j * D, c, L, b * D, D);
    // Causal: the pseudo-inverse of each prefix κ(L<n, L<n) (n landmarks seen), else of all of it.
    const pinv = new Map<number, Float64Array>();
    for (let n = p.causal ? 1 : m; n <= m; n++) {
      const Pn = new Float64Array(n * n);
      for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) Pn[a * n + b] = P[a * m + b]!;
      pinv.set(n, newtonSchulzPinv(Pn, n, p.pinvIterations));
    }
    return { L, pinv, B };
  });
  const off = Tk - Tq;
  const A = Array.from({ length: s.H }, (_, h) => {
    const { L, pinv } = perGroup[groupOf(h, s)]!;
    const qh = headView(q, h);
    const out = new Float64Array(Tq * m);
    for (let i = 0; i < Tq; i++) {
      const n = p.causal ? visibleLandmarks(off + i, Tk, m) : m;
      if (n === 0) continue;
      const kql = new Float64Array(n);
      for (let b = 0; b < n; b++) kql[b] = kernel(qh, i * D, c, L, b * D, D);
      out.set(matmul(kql, pinv.get(n)!, 1, n, n), i * m);
    }
    return out;
  });
  return { m, A, B: perGroup.map((x) => x.B) };
}

const params = z.object({
  variant: z.literal('soft'),
  ...commonParams,
  landmarks: z.number().int().min(1).max(4096).default(64).describe('Nyström landmarks m (segment means of the keys)'),
  pinvIterations: z.number().int().min(0).max(100).default(20).describe('Newton–Schulz iterations for κ(L, L)⁺'),
  normalize: z.boolean().default(false).describe('divide by the approximated row sums (SOFT as published: no)'),
});

export const soft = defineVariant(params, {
  doc: {
    title: 'SOFT (Gaussian kernel, Nyström)',
    summary: 'Softmax-free attention with a Gaussian kernel, approximated by Nyström over m landmarks with a Newton–Schulz pseudo-inverse: O(T·m·D). Causal: each query uses only the landmarks of key segments it sees whole. The probe shows exact attention\'s map.',
    formula: 'S ≈ κ(Q, L)·κ(L, L)⁺·κ(L, K), κ(x, y) = exp(−‖x − y‖²·scale/2); O = S·V (÷ S·1 when normalize)',
    references: [{ title: 'SOFT: Softmax-free Transformer with Linear Complexity', year: 2021 }],
  },
  cost(s, p, c) {
    const m = Math.min(p.landmarks, s.Tk);
    // Landmarks, κ(L, L) and its pseudo-inverse per kv head; κ(Q, L)·pinv per head; κ(K, L).
    // Causal: one pseudo-inverse per prefix, Σₙ 4·iterations·n³ ≈ iterations·m⁴.
    const pinv = p.causal ? p.pinvIterations * m ** 2 * (m + 1) ** 2 : 4 * p.pinvIterations * m ** 3;
    const features = s.Hkv * (2 * m * s.Tk * s.D + 2 * m * m * s.D + pinv + 2 * s.Tk * m * s.D) + s.H * (2 * s.Tq * m * (s.D + m));
    return featureCost(s, p.causal, m, features, c);
  },
  implicitMap: true,
  run: (ctx, ins, p, s) => featureAttention(ctx, ins, p, s, featureMap(p, s)),
  reference({ q, k, v, bias }, p, s) {
    const { m, A, B } = nystromReference(q, k, p, s);
    const off = s.Tk - s.Tq;
    const kappa = (h: number, i: number, j: number) => {
      const a = A[h]!;
      const b = B[groupOf(h, s)]!;
      let x = 0;
      for (let t = 0; t < m; t++) x += a[(i - off) * m + t]! * b[j * m + t]!;
      return x;
    };
    return kernelReference({ v, bias }, p, s, kappa, p.normalize);
  },
});
