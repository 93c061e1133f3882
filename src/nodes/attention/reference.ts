// The plain-TypeScript oracle for exact attention: softmax(QKᵀ·scale + bias + mask)·V, one query
// row at a time, in float64 accumulators. Every exact kernel on every backend is tested against it.
import { headBias } from '../common/bias.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import type { BiasValue } from '../../engine/values.js';

export interface AttentionShape {
  H: number;
  Hkv: number;
  Tq: number;
  Tk: number;
  D: number;
  Dv: number;
}

/** [H, T, D] dims of q, k, v (a leading batch of 1 dropped). */
export function attentionDims(q: Tensor, k: Tensor, v: Tensor): AttentionShape {
  const s = (t: Tensor) => (t.shape.length === 4 && t.shape[0] === 1 ? t.shape.slice(1) : t.shape);
  const [H, Tq, D] = s(q) as [number, number, number];
  const [Hkv, Tk] = s(k) as [number, number, number];
  const Dv = s(v)[2]!;
  return { H, Hkv, Tq, Tk, D, Dv };
}

/**
 * Query row r of Tq sits at absolute position (Tk − Tq) + r: with fewer queries than keys (decoding),
 * the queries are the last rows, and causality compares absolute positions.
 */
export function naiveAttentionReference(q: Tensor, k: Tensor, v: Tensor, opts: { causal: boolean; scale?: number; bias?: BiasValue }): Tensor {
  const { H, Hkv, Tq, Tk, D, Dv } = attentionDims(q, k, v);
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const out = new Float32Array(H * Tq * Dv);
  const scores = new Float64Array(Tk);
  const group = H / Hkv;
  const offset = Tk - Tq;
  for (let h = 0; h < H; h++) {
    const g = Math.floor(h / group);
    const hb = headBias(opts.bias, h);
    for (let r = 0; r < Tq; r++) {
      const i = offset + r;
      let max = -Infinity;
      for (let j = 0; j < Tk; j++) {
        if ((opts.causal && j > i) || !hb.allowed(i, j)) {
          scores[j] = -Infinity;
          continue;
        }
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q.data[(h * Tq + r) * D + d]! * k.data[(g * Tk + j) * D + d]!;
        const s = dot * scale + hb.add(i, j);
        scores[j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = 0; j < Tk; j++) {
        const e = scores[j] === -Infinity ? 0 : Math.exp(scores[j]! - max);
        scores[j] = e;
        sum += e;
      }
      for (let d = 0; d < Dv; d++) {
        let acc = 0;
        for (let j = 0; j < Tk; j++) if (scores[j]) acc += scores[j]! * v.data[(g * Tk + j) * Dv + d]!;
        out[(h * Tq + r) * Dv + d] = sum > 0 ? acc / sum : 0;
      }
    }
  }
  return f32([H, Tq, Dv], out, ['H', 'T', 'D']);
}
