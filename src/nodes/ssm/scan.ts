// The selective scan of Mamba (S6), with the semantics of `selective_scan_ref` in mamba_ssm:
//   Δ ← Δ + deltaBias, then softplus(Δ) when deltaSoftplus;
//   x_0 = 0; x_l = exp(Δ_l·A) ⊙ x_{l−1} + Δ_l·B_l·u_l;  y_l = Σ_n x_l[n]·C_l[n] + D·u_l;  y ← y·silu(z).
// Two implementations: the sequential recurrence (plain TS, the oracle) and a chunked parallel scan
// (tfjs ops): within a chunk, a log-step (Hillis–Steele) scan of the affine maps x ↦ a·x + b, then the
// state carried from chunk to chunk.
import type * as tfc from '@tensorflow/tfjs-core';
import type { ScanGpuTensors } from '../../kernels/webgpu/scan.js';

/** Dims of one scan problem. Channel d reads B/C group ⌊d / (Dm/G)⌋ (selective_scan_ref's repeat). */
export interface ScanDims {
  batch: number;
  /** Whether the tensors carry a leading batch dimension. */
  batched: boolean;
  Dm: number;
  L: number;
  N: number;
  G: number;
}

/** Plain arrays for one batch element: u, delta, z [Dm, L]; A [Dm, N]; B, C [G, N, L]; D, deltaBias [Dm]. */
export interface ScanArrays {
  u: ArrayLike<number>;
  delta: ArrayLike<number>;
  A: ArrayLike<number>;
  B: ArrayLike<number>;
  C: ArrayLike<number>;
  D?: ArrayLike<number>;
  z?: ArrayLike<number>;
  deltaBias?: ArrayLike<number>;
}

/** torch.nn.functional.softplus (beta 1, threshold 20: linear above it). */
export const softplus = (x: number): number => (x > 20 ? x : Math.log1p(Math.exp(x)));
export const silu = (x: number): number => x / (1 + Math.exp(-x));

/**
 * The sequential reference: one step per position, state in float64. Writes y [Dm, L] and the last
 * state [Dm, N] into the given arrays. `tick` is called before each channel (cancellation checks).
 */
export function selectiveScanSequential(
  a: ScanArrays,
  dims: Omit<ScanDims, 'batch' | 'batched'>,
  deltaSoftplus: boolean,
  y: Float32Array,
  state: Float32Array,
  tick?: () => void,
): void {
  const { Dm, L, N, G } = dims;
  const perGroup = Dm / G;
  const x = new Float64Array(N);
  for (let d = 0; d < Dm; d++) {
    tick?.();
    const g = Math.floor(d / perGroup);
    x.fill(0);
    const bias = a.deltaBias ? a.deltaBias[d]! : 0;
    for (let l = 0; l < L; l++) {
      let dt = a.delta[d * L + l]! + bias;
      if (deltaSoftplus) dt = softplus(dt);
      const u = a.u[d * L + l]!;
      let acc = 0;
      for (let n = 0; n < N; n++) {
        const bc = (g * N + n) * L + l;
        x[n] = Math.exp(dt * a.A[d * N + n]!) * x[n]! + dt * a.B[bc]! * u;
        acc += x[n]! * a.C[bc]!;
      }
      if (a.D) acc += a.D[d]! * u;
      if (a.z) acc *= silu(a.z[d * L + l]!);
      y[d * L + l] = acc;
    }
    for (let n = 0; n < N; n++) state[d * N + n] = x[n]!;
  }
}

/**
 * The same inputs as tfjs tensors (one batch element), sequence-major so that a chunk is a contiguous
 * slice: u, delta, z [L, Dm]; B, C [L, G, N]; A [Dm, N]; D, deltaBias [Dm].
 */
export type ScanTensors = ScanGpuTensors;

/**
 * Chunked parallel scan on the backend. Per chunk of `chunkSize` positions:
 *   a_l = exp(Δ_l·A), b_l = Δ_l·u_l·B_l                                  [Lc, Dm, N]
 *   log2(Lc) doubling steps: (a, b)_l ← (a_{l−s}·a_l, a_l·b_{l−s} + b_l)    (inclusive scan)
 *   x_l = a_l·x_in + b_l;  y_l = Σ_n x_l·C_l;  x_in ← x_{last}
 * Every factor a is in (0, 1] (A < 0, Δ ≥ 0), so products never overflow, unlike the
 * exp(cumsum)·cumsum(exp(−cumsum)·b) form. The outer products Δu⊗B and x·C are batched matMuls.
 * Returns y [L, Dm] and the last state [Dm, N]; the caller disposes them.
 */
export function selectiveScanChunked(
  tf: typeof tfc,
  t: ScanTensors,
  dims: Omit<ScanDims, 'batch' | 'batched'>,
  opts: { deltaSoftplus: boolean; chunkSize: number; onChunk?: (done: number, total: number) => void },
): { y: tfc.Tensor2D; state: tfc.Tensor2D } {
  const { Dm, L, N, G } = dims;
  const perGroup = Dm / G;
  // Δ for the whole sequence: [L, Dm] is small next to the [Lc, Dm, N] chunk tensors.
  const dt = tf.tidy(() => {
    let d: tfc.Tensor = t.deltaBias ? tf.add(t.delta, t.deltaBias) : t.delta;
    if (opts.deltaSoftplus) d = softplusTf(tf, d);
    return d as tfc.Tensor2D;
  });
  const dtu = tf.mul(dt, t.u) as tfc.Tensor2D;
  let x: tfc.Tensor2D = tf.zeros([Dm, N]);
  const ys: tfc.Tensor2D[] = [];
  const chunks = Math.ceil(L / opts.chunkSize);
  try {
    for (let c = 0; c < chunks; c++) {
      const l0 = c * opts.chunkSize;
      const Lc = Math.min(opts.chunkSize, L - l0);
      const [yc, xNext] = tf.tidy(() => {
        const rows = <R extends tfc.Rank>(v: tfc.Tensor<R>) => tf.slice(v, l0, Lc);
        let a: tfc.Tensor = tf.exp(tf.mul(tf.reshape(rows(dt), [Lc, Dm, 1]), t.A));
        // b[l, d, n] = (Δu)[l, d]·B[l, g(d), n]: an outer product per (l, g).
        const dtuc = tf.reshape(rows(dtu), [Lc * G, perGroup, 1]) as tfc.Tensor3D;
        let b: tfc.Tensor = tf.reshape(tf.matMul(dtuc, tf.reshape(rows(t.B), [Lc * G, 1, N]) as tfc.Tensor3D), [Lc, Dm, N]);
        for (let s = 1; s < Lc; s *= 2) {
          // Shift by s along the sequence, filling with the identity map (a = 1, b = 0).
          const aPrev = tf.concat([tf.ones([s, Dm, N]), tf.slice(a, 0, Lc - s)], 0);
          const bPrev = tf.concat([tf.zeros([s, Dm, N]), tf.slice(b, 0, Lc - s)], 0);
          b = tf.add(tf.mul(a, bPrev), b);
          a = tf.mul(a, aPrev);
        }
        const xs = tf.add(tf.mul(a, x), b);
        const Cc = tf.reshape(rows(t.C), [Lc * G, N, 1]) as tfc.Tensor3D;
        const yc = tf.reshape(tf.matMul(tf.reshape(xs, [Lc * G, perGroup, N]) as tfc.Tensor3D, Cc), [Lc, Dm]);
        return [yc as tfc.Tensor2D, tf.reshape(tf.slice(xs, Lc - 1, 1), [Dm, N]) as tfc.Tensor2D];
      });
      x.dispose();
      x = xNext;
      ys.push(yc);
      opts.onChunk?.(c + 1, chunks);
    }
    const y = tf.tidy(() => {
      let y: tfc.Tensor = ys.length === 1 ? ys[0]! : tf.concat(ys, 0);
      if (t.D) y = tf.add(y, tf.mul(t.u, t.D));
      if (t.z) y = tf.mul(y, tf.mul(t.z, tf.sigmoid(t.z)));
      return y as tfc.Tensor2D;
    });
    return { y, state: x };
  } catch (err) {
    x.dispose();
    throw err;
  } finally {
    tf.dispose([dt, dtu, ...ys]);
  }
}

/** softplus with torch's threshold: x above 20 passes through. */
export function softplusTf(tf: typeof tfc, x: tfc.Tensor): tfc.Tensor {
  return tf.tidy(() => tf.where(tf.greater(x, 20), x, tf.log1p(tf.exp(tf.minimum(x, 20)))));
}

/**
 * FLOPs of the scan, the technique's count: per (channel, position, state) exp(Δ·A) 2, Δ·B·u 2, the
 * update 2, x·C 2; per (channel, position) Δ·u, D·u and the gate. The fused kernels (wasm, webgpu) do
 * this work; the chunked tfjs scan (cpu) does 3 more per doubling step and 2 for the carry, which its
 * profile shows as a lower share of the backend's peak rather than as more FLOPs.
 */
export function scanFlops(d: Omit<ScanDims, 'batched'>): number {
  return d.batch * d.Dm * d.L * (d.N * 8 + 4);
}

/**
 * Bytes the chunked scan holds at its peak for one chunk of Lc positions: the Hillis–Steele scan's
 * ⌈log₂ Lc⌉ levels each leave about 8 [Dm, Lc, N] tensors (shifted a and b, their products and
 * sums) alive until the chunk is done, plus the chunk's a and b (measured: src/nodes/memory-cases.test.ts).
 */
export function chunkScanBytes(Dm: number, Lc: number, N: number): number {
  return (8 * Math.ceil(Math.log2(Math.max(2, Lc))) + 2) * Dm * Lc * N * 4;
}
