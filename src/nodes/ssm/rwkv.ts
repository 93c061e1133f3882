// `ssm.rwkv`: the RWKV-4 WKV operator, a linear-attention recurrence with per-channel exponential
// time decay w = exp(timeDecay) and a bonus u = timeFirst for the current token:
//   wkv_t = (Σ_{i<t} e^{−(t−1−i)·w + k_i}·v_i + e^{u + k_t}·v_t) / (Σ_{i<t} e^{−(t−1−i)·w + k_i} + e^{u + k_t})
// computed in the numerically stable form of the RWKV CUDA kernel / HF `rwkv_linear_attention_cpu`:
// the state (a, b) is kept scaled by e^{−p}, p the running max exponent, so no e^{k} ever overflows.
// The recurrence is inherently sequential: run() and the reference share nothing but the formula —
// run() is the O(T) recurrence in plain TS, the reference the O(T²) sum above with a per-row max shift.
import { z } from 'zod';
import { defineNode, ShapeError } from '../../engine/node.js';
import { bindDims } from '../../engine/shapes.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { tensorShape, type PortShape } from '../../engine/values.js';

const RWKV_REF = { title: 'RWKV: Reinventing RNNs for the Transformer Era', year: 2023 };

/** [T, C] or [batch, T, C]. */
function rwkvShapes(ins: { k: PortShape; v: PortShape; timeDecay: PortShape; timeFirst: PortShape }) {
  const rank = ins.k?.kind === 'tensor' ? (ins.k.shape?.length ?? 2) : 2;
  if (rank !== 2 && rank !== 3) throw new ShapeError('k', `"k" expects [T, C] or [batch, T, C], got rank ${rank}`);
  const names = rank === 3 ? ['batch', 'T', 'C'] : ['T', 'C'];
  const env: Record<string, number | null> = {};
  const shape = bindDims(env, 'k', ins.k, names, { dtype: 'float32' });
  if (ins.v?.kind === 'tensor' && ins.v.shape && ins.v.shape.length !== rank)
    throw new ShapeError('v', `"v" must have the shape of "k", [${(ins.k.shape ?? []).join(', ')}]; got [${ins.v.shape.join(', ')}]`);
  bindDims(env, 'v', ins.v, names, { dtype: 'float32' });
  bindDims(env, 'timeDecay', ins.timeDecay, ['C'], { dtype: 'float32' });
  bindDims(env, 'timeFirst', ins.timeFirst, ['C'], { dtype: 'float32' });
  return { shape, names, batch: rank === 3 ? (env.batch ?? null) : 1, T: env.T ?? null, C: env.C ?? null };
}

function dimsOf(k: Tensor) {
  const batched = k.shape.length === 3;
  const [T, C] = k.shape.slice(-2) as [number, number];
  return { batched, batch: batched ? k.shape[0]! : 1, T, C };
}

const stateShape = (d: ReturnType<typeof dimsOf>) => ({ shape: [...(d.batched ? [d.batch] : []), 3, d.C], dims: [...(d.batched ? ['batch'] : []), 'abp', 'C'] });

/** The stable recurrence. State per channel: a = num·e^{−p}, b = den·e^{−p}, p (HF: num, den, max). */
export function wkvRecurrent(k: Tensor, v: Tensor, timeDecay: Tensor, timeFirst: Tensor): { wkv: Tensor; state: Tensor } {
  const d = dimsOf(k);
  const { T, C } = d;
  const out = new Float32Array(k.data.length);
  const state = new Float32Array(d.batch * 3 * C);
  for (let b = 0; b < d.batch; b++)
    for (let c = 0; c < C; c++) {
      const w = Math.exp(timeDecay.data[c]!);
      const u = timeFirst.data[c]!;
      let a = 0;
      let bb = 0;
      let p = -1e38;
      for (let t = 0; t < T; t++) {
        const i = (b * T + t) * C + c;
        const kt = k.data[i]!;
        const vt = v.data[i]!;
        // Output: the past (a, b at scale p) plus the current token with its bonus.
        let q = Math.max(p, u + kt);
        let e1 = Math.exp(p - q);
        let e2 = Math.exp(u + kt - q);
        out[i] = (e1 * a + e2 * vt) / (e1 * bb + e2);
        // State: decay the past by e^{−w}, add the current token without the bonus.
        q = Math.max(p - w, kt);
        e1 = Math.exp(p - w - q);
        e2 = Math.exp(kt - q);
        a = e1 * a + e2 * vt;
        bb = e1 * bb + e2;
        p = q;
      }
      state[(b * 3 + 0) * C + c] = a;
      state[(b * 3 + 1) * C + c] = bb;
      state[(b * 3 + 2) * C + c] = p;
    }
  const s = stateShape(d);
  return { wkv: f32([...k.shape], out, k.dims), state: f32(s.shape, state, s.dims) };
}

/** The O(T²) sum, each output shifted by its own max exponent, in float64. */
export function wkvDirect(k: Tensor, v: Tensor, timeDecay: Tensor, timeFirst: Tensor): Float32Array {
  const { batch, T, C } = dimsOf(k);
  const out = new Float32Array(k.data.length);
  const e = new Float64Array(T);
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < C; c++) {
      const w = Math.exp(timeDecay.data[c]!);
      for (let t = 0; t < T; t++) {
        let m = -Infinity;
        for (let i = 0; i <= t; i++) {
          const ki = k.data[(b * T + i) * C + c]!;
          e[i] = i < t ? -(t - 1 - i) * w + ki : timeFirst.data[c]! + ki;
          m = Math.max(m, e[i]!);
        }
        let num = 0;
        let den = 0;
        for (let i = 0; i <= t; i++) {
          const x = Math.exp(e[i]! - m);
          num += x * v.data[(b * T + i) * C + c]!;
          den += x;
        }
        out[(b * T + t) * C + c] = num / den;
      }
    }
  return out;
}

export const rwkv = defineNode({
  type: 'ssm.rwkv',
  family: 'ssm',
  title: 'RWKV-4 WKV',
  summary:
    'The WKV time-mixing operator of RWKV-4: attention-like weights e^{k} with a per-channel exponential decay over distance and a bonus for the current token, as an O(T) recurrence with a running-max exponent (numerically stable).',
  formula: 'wkv_t = (Σ_{i<t} e^{−(t−1−i)w + k_i} v_i + e^{u+k_t} v_t) / (Σ_{i<t} e^{−(t−1−i)w + k_i} + e^{u+k_t}),  w = exp(timeDecay), u = timeFirst',
  references: [RWKV_REF],
  params: z.object({}),
  inputs: {
    k: { kind: 'tensor', dims: ['T', 'C'], doc: 'keys, [T, C] or [batch, T, C]' },
    v: { kind: 'tensor', dims: ['T', 'C'], doc: 'values, shaped like k' },
    timeDecay: { kind: 'tensor', dims: ['C'], doc: 'log of the decay rate (HF `time_decay`): each step back multiplies by e^{−exp(timeDecay)}' },
    timeFirst: { kind: 'tensor', dims: ['C'], doc: 'bonus u for the current token (HF `time_first`)' },
  },
  outputs: {
    wkv: { kind: 'tensor', dims: ['T', 'C'] },
    state: { kind: 'tensor', dims: ['abp', 'C'], doc: 'the last state: rows a (numerator), b (denominator), p (max exponent); a·e^p / b·e^p are the raw sums' },
  },
  infer(ins) {
    const s = rwkvShapes(ins);
    const lead = s.names.length === 3 ? [s.batch] : [];
    return {
      wkv: tensorShape('float32', s.shape, s.names),
      state: tensorShape('float32', [...lead, 3, s.C], [...(lead.length ? ['batch'] : []), 'abp', 'C']),
    };
  },
  cost(ins) {
    const s = rwkvShapes(ins);
    const n = (s.batch ?? 1) * (s.T ?? 0) * (s.C ?? 0);
    // Per element: 2 max, 4 exp, 10 multiply-adds and a division.
    return { flops: 20 * n, workspaceBytes: 3 * 8, bytesMoved: 4 * 3 * n, note: 'three numbers of state per channel' };
  },
  run: (ctx, ins) => {
    ctx.checkCancelled();
    return wkvRecurrent(ins.k, ins.v, ins.timeDecay, ins.timeFirst);
  },
  reference: (ins) => ({ wkv: f32([...ins.k.shape], wkvDirect(ins.k, ins.v, ins.timeDecay, ins.timeFirst), ins.k.dims) }),
});
