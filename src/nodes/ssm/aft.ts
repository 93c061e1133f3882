// `ssm.aft`: the Attention Free Transformer's operation (Zhai et al. 2021),
//   Y_t = σ(Q_t) ⊙ Σ_{t'} exp(K_{t'} + w_{t,t'}) ⊙ V_{t'} / Σ_{t'} exp(K_{t'} + w_{t,t'}),
// elementwise over channels, with learned pairwise position biases w. Modes:
//   full:   w as given, O(T²·D) (two [T, T]×[T, D] products per row block);
//   simple: w = 0, so the weights are a softmax of K over positions, O(T·D);
//   local:  w_{t,t'} kept for |t − t'| < window and 0 outside (not −∞: far tokens still count, through
//           exp(K) alone), computed as the simple sum plus a band correction in O(T·window·D).
// causal restricts t' ≤ t. Shifts by the max of K per channel and of w per row keep exp() finite.
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { defineNode, ShapeError } from '../../engine/node.js';
import { bindDims } from '../../engine/shapes.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { tensorShape, type PortShape } from '../../engine/values.js';
import { mix32 } from '../common/random.js';

const AFT_REF = { title: 'An Attention Free Transformer', year: 2021 };

const params = z.object({
  mode: z.enum(['full', 'simple', 'local']).default('full').describe('full: all position biases; simple: none; local: biases within the window only'),
  window: z.number().int().min(1).max(1 << 20).default(32).describe('local mode: w_{t,t\'} is kept where |t − t\'| < window'),
  causal: z.boolean().default(true).describe('position t sees t\' ≤ t only'),
  seed: z.number().int().default(0).describe('seeds the position biases when the `w` port is not connected'),
  posBiasStd: z.number().min(0).max(100).default(0.1).describe('standard deviation of the seeded position biases'),
  blockSize: z.number().int().min(1).max(8192).default(256).describe('full mode: query rows per block'),
});
type P = z.infer<typeof params>;

/** Position biases: the `w` input, or seeded N(0, posBiasStd²) values hashed from (seed, t, t'). */
function biasSource(w: Tensor | undefined, p: P, T: number): (t: number, tp: number) => number {
  if (w) return (t, tp) => w.data[t * T + tp]!;
  return (t, tp) => {
    const h = mix32(mix32(p.seed ^ mix32(t)) ^ tp);
    const u1 = (mix32(h) + 1) / 4294967297;
    const u2 = mix32(h ^ 0x5bd1e995) / 4294967296;
    return p.posBiasStd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  };
}

function aftShapes(ins: { q: PortShape; k: PortShape; v: PortShape; w?: PortShape }) {
  const rank = ins.q?.kind === 'tensor' ? (ins.q.shape?.length ?? 2) : 2;
  if (rank !== 2 && rank !== 3) throw new ShapeError('q', `"q" expects [T, D] or [batch, T, D], got rank ${rank}`);
  const names = rank === 3 ? ['batch', 'T', 'D'] : ['T', 'D'];
  const env: Record<string, number | null> = {};
  const shape = bindDims(env, 'q', ins.q, names, { dtype: 'float32' });
  for (const port of ['k', 'v'] as const) {
    const s = ins[port];
    if (s?.kind === 'tensor' && s.shape && s.shape.length !== rank)
      throw new ShapeError(port, `"${port}" must have the rank of "q" (${rank}), got [${s.shape.join(', ')}]`);
    bindDims(env, port, s, names, { dtype: 'float32' });
  }
  if (ins.w) bindDims({ T: env.T ?? null, Tk: env.T ?? null }, 'w', ins.w, ['T', 'Tk'], { dtype: 'float32' });
  return { shape, names, batch: rank === 3 ? (env.batch ?? null) : 1, T: env.T ?? null, D: env.D ?? null };
}

function dimsOf(q: Tensor) {
  const [T, D] = q.shape.slice(-2) as [number, number];
  return { batch: q.shape.length === 3 ? q.shape[0]! : 1, T, D };
}

/** Whether t' enters position t's sum, and the bias it gets there (0 outside the local window). */
function weightRule(p: P, bias: (t: number, tp: number) => number) {
  const allowed = (t: number, tp: number) => !p.causal || tp <= t;
  const w = (t: number, tp: number) =>
    p.mode === 'simple' || (p.mode === 'local' && Math.abs(t - tp) >= p.window) ? 0 : bias(t, tp);
  return { allowed, w };
}

/** The formula per (t, d) in float64, each output shifted by its own max logit. O(T²·D). */
export function aftReference(ins: { q: Tensor; k: Tensor; v: Tensor; w?: Tensor }, p: P): Tensor {
  const { batch, T, D } = dimsOf(ins.q);
  const { allowed, w } = weightRule(p, biasSource(ins.w, p, T));
  const out = new Float32Array(ins.q.data.length);
  const logit = new Float64Array(T);
  const wRow = new Float64Array(T);
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < T; t++) {
      for (let tp = 0; tp < T; tp++) wRow[tp] = allowed(t, tp) ? w(t, tp) : NaN;
      for (let d = 0; d < D; d++) {
        let m = -Infinity;
        for (let tp = 0; tp < T; tp++) {
          logit[tp] = Number.isNaN(wRow[tp]!) ? -Infinity : ins.k.data[(b * T + tp) * D + d]! + wRow[tp]!;
          m = Math.max(m, logit[tp]!);
        }
        let num = 0;
        let den = 0;
        for (let tp = 0; tp < T; tp++) {
          const e = Math.exp(logit[tp]! - m);
          num += e * ins.v.data[(b * T + tp) * D + d]!;
          den += e;
        }
        const i = (b * T + t) * D + d;
        out[i] = (num / den) / (1 + Math.exp(-ins.q.data[i]!));
      }
    }
  return f32([...ins.q.shape], out, ins.q.dims);
}

/** One sequence on the backend. q, k, v are [T, D]. */
async function aftSequence(ctx: { tf: typeof tfc; checkCancelled(): void }, q: Float32Array, k: Float32Array, v: Float32Array,
  T: number, D: number, p: P, bias: (t: number, tp: number) => number): Promise<Float32Array> {
  const { tf } = ctx;
  const { allowed, w } = weightRule(p, bias);
  const keep: tfc.Tensor[] = [];
  const hold = <X extends tfc.Tensor>(x: X) => (keep.push(x), x);
  try {
    const Q = hold(tf.tensor2d(q, [T, D]));
    // exp(K − max_t K) and its product with V: the shared factors of every mode.
    const [eK, eKV] = tf.tidy(() => {
      const K = tf.tensor2d(k, [T, D]);
      const eK = tf.exp(tf.sub(K, tf.max(K, 0, true)));
      return [eK, tf.mul(eK, tf.tensor2d(v, [T, D]))];
    });
    hold(eK!);
    hold(eKV!);
    let out: tfc.Tensor;
    if (p.mode === 'full') {
      const parts: tfc.Tensor[] = [];
      for (let r0 = 0; r0 < T; r0 += p.blockSize) {
        ctx.checkCancelled();
        const rows = Math.min(p.blockSize, T - r0);
        const cols = p.causal ? r0 + rows : T; // causal rows never see columns past their own
        const W = new Float32Array(rows * cols);
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < cols; c++) W[r * cols + c] = allowed(r0 + r, c) ? w(r0 + r, c) : -Infinity;
        parts.push(hold(tf.tidy(() => {
          const Wt = tf.tensor2d(W, [rows, cols]);
          const E = tf.exp(tf.sub(Wt, tf.max(Wt, 1, true)));
          const num = tf.matMul(E, tf.slice(eKV!, [0, 0], [cols, D]));
          const den = tf.matMul(E, tf.slice(eK!, [0, 0], [cols, D]));
          return tf.div(num, den);
        })));
      }
      out = hold(parts.length === 1 ? parts[0]! : tf.concat(parts, 0));
    } else {
      // Global sums (prefix sums when causal): simple mode's answer, local mode's base.
      const [G, H] = tf.tidy(() =>
        p.causal ? [tf.cumsum(eKV!, 0), tf.cumsum(eK!, 0)] : [tf.tile(tf.sum(eKV!, 0, true), [T, 1]), tf.tile(tf.sum(eK!, 0, true), [T, 1])]);
      hold(G!);
      hold(H!);
      if (p.mode === 'simple') out = hold(tf.div(G!, H!));
      else {
        // num_t = e^{−m_t}·G_t + Σ_o (e^{w_{t,t+o} − m_t} − e^{−m_t})·eKV_{t+o},  m_t = max(0, max_o w_{t,t+o}).
        const lo = -(p.window - 1);
        const hi = p.causal ? 0 : p.window - 1;
        const nOff = hi - lo + 1;
        const coef = new Float32Array(nOff * T);
        const base = new Float32Array(T);
        for (let t = 0; t < T; t++) {
          let m = 0;
          for (let o = lo; o <= hi; o++) if (t + o >= 0 && t + o < T && allowed(t, t + o)) m = Math.max(m, w(t, t + o));
          base[t] = Math.exp(-m);
          for (let o = lo; o <= hi; o++)
            if (t + o >= 0 && t + o < T && allowed(t, t + o)) coef[(o - lo) * T + t] = Math.exp(w(t, t + o) - m) - Math.exp(-m);
        }
        let num = hold(tf.tidy(() => tf.mul(G!, tf.tensor2d(base, [T, 1]))));
        let den = hold(tf.tidy(() => tf.mul(H!, tf.tensor2d(base, [T, 1]))));
        for (let o = lo; o <= hi; o++) {
          if (Math.abs(o) >= T) continue;
          ctx.checkCancelled();
          const [n2, d2] = tf.tidy(() => {
            // Row t of the shifted tensor is row t + o of the original (zero outside).
            const shift = (x: tfc.Tensor) =>
              o >= 0 ? tf.pad(tf.slice(x, [o, 0], [T - o, D]), [[0, o], [0, 0]]) : tf.pad(tf.slice(x, [0, 0], [T + o, D]), [[-o, 0], [0, 0]]);
            const c = tf.tensor2d(coef.subarray((o - lo) * T, (o - lo + 1) * T), [T, 1]);
            return [tf.add(num, tf.mul(c, shift(eKV!))), tf.add(den, tf.mul(c, shift(eK!)))];
          });
          tf.dispose([num, den]);
          num = n2!;
          den = d2!;
          keep.push(num, den);
        }
        out = hold(tf.div(num, den));
      }
    }
    const y = hold(tf.mul(out, tf.sigmoid(Q)));
    return (await y.data()) as Float32Array;
  } finally {
    tf.dispose(keep.filter((t) => !t.isDisposed));
  }
}

export const aft = defineNode({
  type: 'ssm.aft',
  family: 'ssm',
  title: 'Attention Free Transformer',
  summary:
    'AFT: each position mixes the values with weights exp(K + w) — a key-dependent softmax over positions plus learned pairwise position biases — gated by σ(Q). No dot products between queries and keys; simple mode is O(T·D), local O(T·window·D), full O(T²·D).',
  formula: 'Y_t = σ(Q_t) ⊙ Σ_{t\'} exp(K_{t\'} + w_{t,t\'}) ⊙ V_{t\'} / Σ_{t\'} exp(K_{t\'} + w_{t,t\'})',
  references: [AFT_REF],
  params,
  inputs: {
    q: { kind: 'tensor', dims: ['T', 'D'], doc: 'queries (gate), [T, D] or [batch, T, D]' },
    k: { kind: 'tensor', dims: ['T', 'D'], doc: 'keys' },
    v: { kind: 'tensor', dims: ['T', 'D'], doc: 'values' },
    w: { kind: 'tensor', optional: true, dims: ['T', 'T'], doc: 'pairwise position biases w[t, t\'] (full and local modes); seeded when absent' },
  },
  outputs: { out: { kind: 'tensor', dims: ['T', 'D'] } },
  infer(ins) {
    const s = aftShapes(ins);
    return { out: tensorShape('float32', s.shape, s.names) };
  },
  cost(ins, p) {
    const s = aftShapes(ins);
    const B = s.batch ?? 1;
    const T = s.T ?? 0;
    const D = s.D ?? 0;
    const base = 8 * B * T * D; // exp(K), K·V, the gate, the division
    if (p.mode === 'full') {
      const pairs = p.causal ? (T * (T + 1)) / 2 : T * T;
      const cols = p.causal ? Math.min(T, p.blockSize) : T;
      return {
        flops: base + B * pairs * (4 * D + 3),
        // Measured on the cpu backend: about four [block, T] and [T, D] temporaries live at once.
        workspaceBytes: 4.5 * (Math.min(p.blockSize, T) * T + T * D) * 4,
        note: `a ${Math.min(p.blockSize, T)}×${T} block of position weights (${cols}+ columns)`,
      };
    }
    if (p.mode === 'simple') return { flops: base + 4 * B * T * D, workspaceBytes: 9 * T * D * 4, note: 'prefix sums of exp(K)·V and exp(K), and their operands' };
    const offs = p.causal ? p.window : 2 * p.window - 1;
    return {
      flops: base + 4 * B * T * D + 4 * B * T * D * offs,
      workspaceBytes: 15 * T * D * 4 + offs * T * 4,
      note: `band coefficients ${offs}×${T} and running sums ${T}×${D}`,
    };
  },
  async run(ctx, ins, p) {
    const { batch, T, D } = dimsOf(ins.q);
    const bias = biasSource(ins.w, p, T);
    const out = new Float32Array(ins.q.data.length);
    const seq = (t: Tensor, b: number) => (t.data as Float32Array).subarray(b * T * D, (b + 1) * T * D);
    for (let b = 0; b < batch; b++) {
      out.set(await aftSequence(ctx, seq(ins.q, b), seq(ins.k, b), seq(ins.v, b), T, D, p, bias), b * T * D);
      ctx.progress((b + 1) / batch);
    }
    return { out: f32([...ins.q.shape], out, ins.q.dims) };
  },
  reference: (ins, p) => ({ out: aftReference(ins, p) }),
});
