// Star-Transformer: tokens (satellites) are joined in a ring to their neighbours and all to one shared
// relay node, so each update costs O(1) per token and the layer is O(T·D) — two hops link any pair.
// Per cycle t (Guo et al. 2019, Alg. 1), first every satellite, then the relay:
//   h_i^t = Att(h_i^{t−1}, [h_{i−1}^{t−1}; h_i^{t−1}; h_{i+1}^{t−1}; e_i; s^{t−1}])
//   s^t   = Att(s^{t−1},   [s^{t−1}; h_1^t; …; h_T^t])
// with h^0 = e (the tokens) and s^0 = their average. On this node's q, k, v (no projections of its own,
// like every attention variant): a node's query and key are its token's q and k (the relay's, the means
// of q and k), and what the cycles pass on is the value: e_i = v_i, h_i^0 = v_i, s^0 = mean(v). The
// output is the satellites' h^cycles. The paper's ReLU + LayerNorm after each update and its learned
// projections belong to the layer around this kernel and are left out. The relay sees every token:
// the model is bidirectional (causal is false).
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { f32, type Tensor } from '../../engine/tensor.js';
import { groupOf, headView, scaleOf, type AttentionInputs, type AttentionVariant, defineVariant } from './common.js';
import type { AttentionShape } from './reference.js';

type P = z.output<typeof params>;

function check({ bias, cache }: AttentionInputs, s: AttentionShape) {
  if ((bias?.terms.length ?? 0) > 0) throw new Error('attention variant "star": its pattern is the ring and the relay; it takes no "bias" input');
  if (cache) throw new Error('attention variant "star" reads K/V from "k" and "v", not from a "cache"');
  if (s.Tq !== s.Tk) throw new Error(`attention variant "star" needs as many queries as keys (every token is a satellite): got ${s.Tq} queries, ${s.Tk} keys`);
}

/** Satellite i's context as (key row, value source) pairs: ring neighbours, itself, its token e_i, the relay. */
function reference(ins: AttentionInputs, p: P, s: AttentionShape): Tensor {
  check(ins, s);
  const { H, Tq: T, D, Dv } = s;
  const scale = scaleOf(p, D);
  const out = new Float32Array(H * T * Dv);
  for (let h = 0; h < H; h++) {
    const q = headView(ins.q, h);
    const k = headView(ins.k, groupOf(h, s));
    const v = headView(ins.v, groupOf(h, s));
    const mean = (x: Float32Array, n: number) => Float64Array.from({ length: n }, (_, d) => { let a = 0; for (let t = 0; t < T; t++) a += x[t * n + d]!; return a / T; });
    const qs = mean(q, D);
    const ks = mean(k, D);
    let sat = Float64Array.from(v); // h^0 = e
    let relay = mean(v, Dv); // s^0 = average(e)
    const dot = (qi: ArrayLike<number>, qo: number, kj: ArrayLike<number>, ko: number) => { let a = 0; for (let d = 0; d < D; d++) a += qi[qo + d]! * kj[ko + d]!; return a * scale; };
    for (let c = 0; c < p.cycles; c++) {
      const next = new Float64Array(T * Dv);
      for (let i = 0; i < T; i++) {
        // [h_{i−1}; h_i; h_{i+1}; e_i; s] with keys [k_{i−1}; k_i; k_{i+1}; k_i; mean k].
        const ctx: { score: number; val: (d: number) => number }[] = [];
        if (i > 0) ctx.push({ score: dot(q, i * D, k, (i - 1) * D), val: (d) => sat[(i - 1) * Dv + d]! });
        ctx.push({ score: dot(q, i * D, k, i * D), val: (d) => sat[i * Dv + d]! });
        if (i < T - 1) ctx.push({ score: dot(q, i * D, k, (i + 1) * D), val: (d) => sat[(i + 1) * Dv + d]! });
        ctx.push({ score: dot(q, i * D, k, i * D), val: (d) => v[i * Dv + d]! });
        ctx.push({ score: dot(q, i * D, ks, 0), val: (d) => relay[d]! });
        const m = Math.max(...ctx.map((e) => e.score));
        const w = ctx.map((e) => Math.exp(e.score - m));
        const z = w.reduce((a, b) => a + b, 0);
        for (let d = 0; d < Dv; d++) next[i * Dv + d] = ctx.reduce((a, e, j) => a + (w[j]! / z) * e.val(d), 0);
      }
      sat = next;
      // The relay attends to itself and every updated satellite.
      const sc = [dot(qs, 0, ks, 0), ...Array.from({ length: T }, (_, j) => dot(qs, 0, k, j * D))];
      const m = Math.max(...sc);
      const w = sc.map((x) => Math.exp(x - m));
      const z = w.reduce((a, b) => a + b, 0);
      relay = Float64Array.from({ length: Dv }, (_, d) => {
        let a = (w[0]! / z) * relay[d]!;
        for (let j = 0; j < T; j++) a += (w[j + 1]! / z) * sat[j * Dv + d]!;
        return a;
      });
    }
    out.set(Float32Array.from(sat), h * T * Dv);
  }
  return f32([H, T, Dv], out, ['H', 'T', 'D']);
}

async function run(ctx: Parameters<AttentionVariant['run']>[0], ins: AttentionInputs, p: P, s: AttentionShape): Promise<Tensor> {
  check(ins, s);
  const { tf } = ctx;
  const { H, Tq: T, D, Dv } = s;
  const scale = scaleOf(p, D);
  const out = new Float32Array(H * T * Dv);
  // h shifted by one row: row i holds h_{i−1} ('prev') or h_{i+1} ('next'), zeros past the ends.
  const shift = (x: tfc.Tensor2D, dir: 'prev' | 'next') => T === 1 ? tf.zerosLike(x)
    : dir === 'prev' ? tf.pad(tf.slice(x, [0, 0], [T - 1, -1]), [[1, 0], [0, 0]]) : tf.pad(tf.slice(x, [1, 0], [T - 1, -1]), [[0, 1], [0, 0]]);
  const edge = new Float32Array(T * 2); // log-weights of the missing neighbours: column 0 for i = 0, 1 for i = T − 1
  edge[0] = -Infinity;
  edge[(T - 1) * 2 + 1] = -Infinity;
  for (let h = 0; h < H; h++) {
    ctx.checkCancelled();
    const g = groupOf(h, s);
    const o = tf.tidy(() => {
      const q = tf.tensor2d(headView(ins.q, h), [T, D]);
      const k = tf.tensor2d(headView(ins.k, g), [T, D]);
      const e = tf.tensor2d(headView(ins.v, g), [T, Dv]);
      const qs = tf.mean(q, 0, true); // [1, D]
      const ks = tf.mean(k, 0, true);
      const rowDot = (a: tfc.Tensor, b: tfc.Tensor) => tf.mul(tf.sum(tf.mul(a, b), 1, true), scale); // [T, 1]
      const self = rowDot(q, k);
      const ring = tf.add(tf.concat([rowDot(q, shift(k, 'prev')), rowDot(q, shift(k, 'next'))], 1), tf.tensor2d(edge, [T, 2]));
      // Scores of [h_{i−1}, h_{i+1}, h_i, e_i, s], the same every cycle: only the values move.
      const A = tf.softmax(tf.concat([ring, self, self, tf.mul(tf.matMul(q, ks, false, true), scale)], 1)); // [T, 5]
      const col = (j: number) => tf.slice(A, [0, j], [T, 1]);
      const relayW = tf.softmax(tf.mul(tf.concat([tf.matMul(qs, ks, false, true), tf.matMul(qs, k, false, true)], 1), scale)); // [1, T + 1]
      let sat: tfc.Tensor2D = e;
      let relay: tfc.Tensor = tf.mean(e, 0, true); // [1, Dv]
      for (let c = 0; c < p.cycles; c++) {
        sat = tf.addN([
          tf.mul(col(0), shift(sat, 'prev')), tf.mul(col(1), shift(sat, 'next')), tf.mul(col(2), sat), tf.mul(col(3), e), tf.mul(col(4), relay),
        ]) as tfc.Tensor2D;
        relay = tf.add(tf.mul(tf.slice(relayW, [0, 0], [1, 1]), relay), tf.matMul(tf.slice(relayW, [0, 1], [1, T]), sat));
      }
      return sat;
    });
    out.set((await o.data()) as Float32Array, h * T * Dv);
    o.dispose();
    ctx.progress((h + 1) / H);
  }
  return f32([H, T, Dv], out, ['H', 'T', 'D']);
}

const params = z.object({
  variant: z.literal('star'),
  causal: z.literal(false).default(false).describe('the relay reads every token: Star-Transformer is bidirectional'),
  scale: z.number().positive().optional().describe('score scale; default 1/√D'),
  cycles: z.number().int().min(1).max(64).default(2).describe('message-passing cycles (satellites, then the relay, per cycle)'),
});

export const star = defineVariant(params, {
  doc: {
    title: 'Star-Transformer (ring + relay)',
    summary:
      'Each token attends only to its ring neighbours, itself, its own input and one relay node; the relay attends to every token. Per cycle the satellites update, then the relay: O(T·D) per cycle, and any two tokens are two hops apart. Bidirectional. No projections of its own (values carry the messages); the probe shows exact attention\'s map.',
    formula: 'h_i^t = softmax-attend(q_i; [h_{i−1}^{t−1}, h_i^{t−1}, h_{i+1}^{t−1}, e_i, s^{t−1}]);  s^t = softmax-attend(q̄; [s^{t−1}, h_1^t … h_T^t]);  h^0 = e = v, s^0 = mean(v), keys k_{i±1}, k_i, k_i, k̄',
    references: [{ title: 'Star-Transformer', year: 2019 }],
  },
  cost(s, p) {
    const perCycle = s.H * s.Tq * (2 * 5 * s.Dv + 2 * s.Dv * 2); // satellites: 5 weighted values; relay: one row over T
    return {
      flops: s.H * s.Tq * 2 * 5 * s.D + p.cycles * perCycle,
      // One head's q, k, e and score columns, plus each cycle's shifted and weighted values (the tidy keeps them).
      workspaceBytes: 4 * s.Tq * (8 * s.D + 2 * s.Dv + 24 + p.cycles * 12 * s.Dv), // measured (memory-cases.test.ts)
      note: `${p.cycles} cycle(s) over a ring of ${s.Tq} satellites and one relay: O(T·D)`,
    };
  },
  implicitMap: true,
  run,
  reference,
});
