// Applying a RotaryPlan: cos/sin tables built once on the host (angles in float64), the rotation as
// tfjs ops over the whole [H, T, D] tensor, and the plain-TS reference it is tested against.
import type * as tfc from '@tensorflow/tfjs-core';
import { f32, type Tensor } from '../../engine/tensor.js';
import type { Layout, RotaryPlan } from './common.js';

/**
 * cos and sin tables [T, D/2]: entry (t, i) = cos(n_t·inv_i)·a·decay, with a the attention factor and,
 * for xPos, decay = ζ_i^(sign·n_t/scaleBase) (sign +1 for q, −1 for k).
 */
export function rotaryTables(plan: RotaryPlan, positions: Int32Array, sign: 1 | -1): { cos: Float32Array; sin: Float32Array } {
  const half = plan.inv.length;
  const T = positions.length;
  const cos = new Float32Array(T * half);
  const sin = new Float32Array(T * half);
  for (let t = 0; t < T; t++) {
    const n = positions[t]!;
    for (let i = 0; i < half; i++) {
      const angle = n * plan.inv[i]!;
      const scale = plan.attentionFactor * (plan.xpos ? Math.pow(plan.xpos.zeta[i]!, (sign * n) / plan.xpos.scaleBase) : 1);
      cos[t * half + i] = Math.cos(angle) * scale;
      sin[t * half + i] = Math.sin(angle) * scale;
    }
  }
  return { cos, sin };
}

/**
 * Rotates every pair of x [H, T, D] by the tables [T, D/2] (broadcast over heads):
 * half: out = [x1·c − x2·s, x2·c + x1·s] with x = [x1, x2] (HF rotate_half);
 * interleaved: the same on pairs (2i, 2i+1).
 */
export function rotateTf(tf: typeof tfc, x: tfc.Tensor3D, cos: tfc.Tensor2D, sin: tfc.Tensor2D, layout: Layout): tfc.Tensor3D {
  const [H, T, D] = x.shape;
  return tf.tidy(() => {
    if (layout === 'half') {
      const [x1, x2] = tf.split(x, 2, 2) as [tfc.Tensor3D, tfc.Tensor3D];
      return tf.concat([tf.sub(tf.mul(x1, cos), tf.mul(x2, sin)), tf.add(tf.mul(x2, cos), tf.mul(x1, sin))], 2) as tfc.Tensor3D;
    }
    const pairs = tf.reshape(x, [H, T, D / 2, 2]);
    const [xe, xo] = tf.split(pairs, 2, 3).map((t) => tf.reshape(t, [H, T, D / 2]));
    const even = tf.sub(tf.mul(xe!, cos), tf.mul(xo!, sin));
    const odd = tf.add(tf.mul(xo!, cos), tf.mul(xe!, sin));
    return tf.reshape(tf.stack([even, odd], 3), [H, T, D]) as tfc.Tensor3D;
  });
}

/** Index of the two elements of pair i in a row of D: (i, i + D/2) or (2i, 2i + 1). */
const pairOf = (layout: Layout, i: number, D: number): [number, number] => (layout === 'half' ? [i, i + D / 2] : [2 * i, 2 * i + 1]);

/** The oracle: the rotation in float64, one pair at a time. */
export function rotateReference(x: Tensor, positions: Int32Array, plan: RotaryPlan, layout: Layout, sign: 1 | -1): Tensor {
  const [H, T, D] = x.shape as [number, number, number];
  const out = new Float32Array(x.data.length);
  for (let t = 0; t < T; t++) {
    const n = positions[t]!;
    for (let i = 0; i < D / 2; i++) {
      const decay = plan.xpos ? Math.pow(plan.xpos.zeta[i]!, (sign * n) / plan.xpos.scaleBase) : 1;
      const c = Math.cos(n * plan.inv[i]!) * plan.attentionFactor * decay;
      const s = Math.sin(n * plan.inv[i]!) * plan.attentionFactor * decay;
      const [a, b] = pairOf(layout, i, D);
      for (let h = 0; h < H; h++) {
        const row = (h * T + t) * D;
        const x1 = x.data[row + a]!;
        const x2 = x.data[row + b]!;
        out[row + a] = x1 * c - x2 * s;
        out[row + b] = x2 * c + x1 * s;
      }
    }
  }
  return f32([H, T, D], out, ['H', 'T', 'D']);
}

/** Vaswani's table [T, D]: sin(n·inv_i) at 2i, cos(n·inv_i) at 2i + 1. */
export function sinusoidTable(inv: Float64Array, positions: Int32Array): Float32Array {
  const D = inv.length * 2;
  const table = new Float32Array(positions.length * D);
  positions.forEach((n, t) => {
    for (let i = 0; i < D / 2; i++) {
      table[t * D + 2 * i] = Math.sin(n * inv[i]!);
      table[t * D + 2 * i + 1] = Math.cos(n * inv[i]!);
    }
  });
  return table;
}

/** The oracle for the sinusoidal variant: x[h, t, d] + PE(n_t)[d], computed per element. */
export function addSinusoidReference(x: Tensor, positions: Int32Array, inv: Float64Array): Tensor {
  const [H, T, D] = x.shape as [number, number, number];
  const out = new Float32Array(x.data.length);
  for (let h = 0; h < H; h++)
    for (let t = 0; t < T; t++)
      for (let d = 0; d < D; d++) {
        const a = positions[t]! * inv[d >> 1]!;
        out[(h * T + t) * D + d] = x.data[(h * T + t) * D + d]! + (d % 2 === 0 ? Math.sin(a) : Math.cos(a));
      }
  return f32([H, T, D], out, ['H', 'T', 'D']);
}
