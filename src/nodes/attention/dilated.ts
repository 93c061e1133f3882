// LongNet dilated attention. For each pair (w, r): cut the sequence into segments of length w,
// keep every r-th position of each segment (starting at offset h mod r, so heads cover different
// positions), and run dense attention among the kept positions of each segment — a gather and one
// batched matMul over a batch of segments on the backend. The pairs are then combined weighted by
// their softmax denominators, as in the paper: O = Σₖ sₖ·Oₖ / Σₖ sₖ (a row no pair keeps gets 0);
// that scatter-and-merge is a few flops per kept row, done on the host in plain TS.
// Work per pair and head: (T/w)·(w/r)²·D = T·w·D/r².
import { z } from 'zod';
import { biasTerms, headBias } from '../common/bias.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { commonParams, groupOf, scaleOf, type AttentionInputs, type AttentionVariant, uploadHead, defineVariant } from './common.js';
import type { AttentionShape } from './reference.js';
import { mergeRanges, type SparsePattern } from './sparse.js';
import { fusedAvailable, kernelCall } from './fused.js';

type P = z.output<typeof params>;

/** Score entries per batch of segments ([segments, n, n]). */
const BATCH_ENTRIES = 1 << 20;

/** Segment length W (clipped to the sequence), head offset o, kept positions per segment n. */
export function geometry(w: number, r: number, h: number, Tk: number) {
  const W = Math.min(w, Tk);
  const o = h % r;
  const n = Math.max(0, Math.ceil((W - o) / r));
  /** Whether position pos is kept by this pair for this head. */
  const kept = (pos: number) => {
    const t = (pos % W) - o;
    return t >= 0 && t % r === 0;
  };
  return { W, o, n, segments: Math.ceil(Tk / W), kept };
}

/** Pairs (w, r) whose segments hold position i and j and keep both: LongNet's attention pattern. */
export function dilatedPattern(p: Pick<P, 'segmentLengths' | 'dilationRates'>, Tk: number): SparsePattern {
  return {
    keyRanges(h, i0, i1) {
      const ranges: [number, number][] = [];
      p.segmentLengths.forEach((w, k) => {
        const { W } = geometry(w, p.dilationRates[k]!, h, Tk);
        for (let t = Math.floor(i0 / W); t * W < i1; t++) ranges.push([t * W, (t + 1) * W]);
      });
      return mergeRanges(ranges, 0, Tk);
    },
    logWeight(h, i, j) {
      let count = 0;
      p.segmentLengths.forEach((w, k) => {
        const g = geometry(w, p.dilationRates[k]!, h, Tk);
        if (Math.floor(i / g.W) === Math.floor(j / g.W) && g.kept(i) && g.kept(j)) count++;
      });
      return Math.log(count);
    },
  };
}

/**
 * wasm/webgpu: every (head, pair) as one sub-sequence of a single kernel call — their kept positions
 * concatenated, an interval rule on (sub-sequence, segment) ids keeping each row in its own, and
 * tile lists naming only the sub-sequence's own key tiles (planning proportional to the tiles
 * computed). One call instead of H × pairs small ones: the per-call layout, planning and thread
 * wake-up no longer dominate the short pairs; the kernel also merges each row's pairs. ALiBi's
 * slopes go per row (each sub-sequence's head's), since the call's rows come from every head.
 */
async function runConcatenated(ctx: Parameters<AttentionVariant['run']>[0], { q, k, v, bias }: AttentionInputs, p: P, s: AttentionShape): Promise<Tensor> {
  const { Tq, Tk, D, Dv } = s;
  const off = Tk - Tq;
  const B = 64; // the kernel's tiles (keys) and query blocks
  const subs: { h: number; g: number; W: number; qpos: Int32Array; kpos: Int32Array; q0: number; k0: number }[] = [];
  let nq = 0;
  let nk = 0;
  for (let h = 0; h < s.H; h++)
    for (let pk = 0; pk < p.segmentLengths.length; pk++) {
      const r = p.dilationRates[pk]!;
      const { W, o } = geometry(p.segmentLengths[pk]!, r, h, Tk);
      const kept: number[] = [];
      for (let t0 = 0; t0 < Tk; t0 += W) for (let x = t0 + o; x < Math.min(Tk, t0 + W); x += r) kept.push(x);
      const kpos = Int32Array.from(kept);
      const qpos = kpos.filter((x) => x >= off);
      if (!qpos.length) continue;
      // Each sub-sequence starts on a tile boundary (rows and keys), so no tile holds two of them.
      subs.push({ h, g: groupOf(h, s), W, qpos, kpos, q0: nq, k0: nk });
      nq += Math.ceil(qpos.length / B) * B;
      nk += Math.ceil(kpos.length / B) * B;
    }
  // Rows of q (as [H·Tq] rows) and of k/v ([Hkv·Tk] rows) that the kernel gathers; −1 pads.
  const qRows = new Int32Array(nq).fill(-1);
  const kRows = new Int32Array(nk).fill(-1);
  // Padding rows and keys: positions that no rule lets through (segment id −1 against −2).
  const qposC = new Int32Array(nq);
  const kposC = new Int32Array(nk);
  const qid = new Int32Array(nq).fill(-1);
  const kid = new Int32Array(nk).fill(-2);
  const segBase = Math.max(...p.segmentLengths.map((w) => Math.ceil(Tk / Math.min(w, Tk)))) + 1;
  subs.forEach((u, x) => {
    for (let a = 0; a < u.qpos.length; a++) {
      qRows[u.q0 + a] = u.h * Tq + u.qpos[a]! - off;
      qid[u.q0 + a] = x * segBase + Math.floor(u.qpos[a]! / u.W);
    }
    for (let a = 0; a < u.kpos.length; a++) {
      kRows[u.k0 + a] = u.g * Tk + u.kpos[a]!;
      kid[u.k0 + a] = x * segBase + Math.floor(u.kpos[a]! / u.W);
    }
    qposC.set(u.qpos, u.q0);
    kposC.set(u.kpos, u.k0);
  });
  // The sub-sequence of each query block (blocks never straddle two), and its key tiles.
  const subOfBlock = new Int32Array(nq / B);
  subs.forEach((u, x) => subOfBlock.fill(x, u.q0 / B, (u.q0 + Math.ceil(u.qpos.length / B) * B) / B));
  // A block's rows lie in segments [lo, hi] (ids); its keys there are one run of the sub-sequence
  // (ids ascend along it), so the list holds only the tiles the segments reach: planning costs the
  // tiles near the computed ones, not all of the sub-sequence's.
  const firstKey = (u: (typeof subs)[number], id: number) => {
    let a = u.k0;
    let b = u.k0 + u.kpos.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (kid[m]! < id) a = m + 1;
      else b = m;
    }
    return a;
  };
  const tilesOf = (_h: number, r0: number, rows: number) => {
    const u = subs[subOfBlock[r0 / B]!]!;
    const n = Math.min(rows, u.q0 + u.qpos.length - r0);
    const ka = firstKey(u, qid[r0]!);
    const kb = firstKey(u, qid[r0 + n - 1]! + 1);
    const list: number[] = [];
    for (let t = Math.floor(ka / B); t * B < kb; t++) list.push(t);
    return list;
  };
  // Each output row (h·Tq + row) merges its pairs' sub-sequence rows by log-sum-exp, in the kernel:
  // O = Σₖ e^(lseₖ−M)·Oₖ / Σₖ e^(lseₖ−M); a row no pair keeps gets 0.
  const P = p.segmentLengths.length;
  const index = new Int32Array(s.H * Tq * (1 + P));
  for (const u of subs)
    for (let a = 0; a < u.qpos.length; a++) {
      const at = (u.h * Tq + u.qpos[a]! - off) * (1 + P);
      index[at + 1 + index[at]!++] = u.q0 + a;
    }
  // ALiBi: each row gets its head's slope (summed over the ALiBi terms, as biasRules does per head);
  // a sub-sequence's padding rows share its last block, so they get the same slope.
  const alibi = biasTerms(bias).flatMap((t) => (t.type === 'alibi' ? [t.slopes] : []));
  let rowSlopes: Float32Array | undefined;
  if (alibi.length) {
    rowSlopes = new Float32Array(nq);
    for (const u of subs) rowSlopes.fill(alibi.reduce((m, sl) => m + sl[u.h % sl.length]!, 0), u.q0, u.q0 + Math.ceil(u.qpos.length / B) * B);
  }
  const r = await kernelCall(ctx, {
    q: q.data as Float32Array,
    k: k.data as Float32Array,
    v: v.data as Float32Array,
    qRows,
    kRows,
    s: { H: 1, Hkv: 1, Tq: nq, Tk: nk, D, Dv },
    p,
    bias: bias && { ...bias, terms: biasTerms(bias).filter((t) => t.type !== 'alibi') },
    rowSlopes,
    qpos: qposC,
    kpos: kposC,
    intervals: [{ qa: qid, qb: qid, ka: kid, kb: kid }],
    blockQ: B,
    blockK: B,
    tilesOf,
    merge: { rows: s.H * Tq, parts: P, index },
  });
  return f32([s.H, Tq, Dv], r.out, ['H', 'T', 'D']);
}

async function run(ctx: Parameters<AttentionVariant['run']>[0], { q, k, v, bias }: AttentionInputs, p: P, s: AttentionShape): Promise<Tensor> {
  if (fusedAvailable(ctx)) return runConcatenated(ctx, { q, k, v, bias }, p, s);
  const { tf } = ctx;
  const scale = scaleOf(p, s.D);
  const off = s.Tk - s.Tq;
  const out = new Float32Array(s.H * s.Tq * s.Dv);
  // Running (max, denominator, unnormalised output) per query row, merged across pairs.
  const mRun = new Float64Array(s.Tq);
  const lRun = new Float64Array(s.Tq);
  const accRun = new Float64Array(s.Tq * s.Dv);
  ctx.track(mRun.byteLength * 2 + accRun.byteLength);
  for (let h = 0; h < s.H; h++) {
    const g = groupOf(h, s);
    const hb = headBias(bias, h);
    mRun.fill(-Infinity);
    lRun.fill(0);
    accRun.fill(0);
    const [qh, kh, vh] = uploadHead(tf, q, k, v, h, g, scale, s);
    for (let pk = 0; pk < p.segmentLengths.length; pk++) {
      const { W, o, n, segments } = geometry(p.segmentLengths[pk]!, p.dilationRates[pk]!, h, s.Tk);
      const r = p.dilationRates[pk]!;
      if (n === 0) continue;
      const per = Math.max(1, Math.floor(BATCH_ENTRIES / (n * n)));
      // Only segments that hold query rows (all of them unless Tq < Tk).
      for (let t0 = Math.floor(off / W); t0 < segments; t0 += per) {
        ctx.checkCancelled();
        const nb = Math.min(per, segments - t0);
        const pos = new Int32Array(nb * n).fill(-1);
        for (let b = 0; b < nb; b++)
          for (let u = 0; u < n; u++) {
            const x = (t0 + b) * W + o + u * r;
            if (x < Math.min(s.Tk, (t0 + b + 1) * W)) pos[b * n + u] = x;
          }
        const mask = new Float32Array(nb * n * n);
        for (let b = 0; b < nb; b++)
          for (let a = 0; a < n; a++) {
            const i = pos[b * n + a]!;
            for (let c = 0; c < n; c++) {
              const j = pos[b * n + c]!;
              const ok = i >= off && j >= 0 && (!p.causal || j <= i) && hb.allowed(i, j);
              mask[(b * n + a) * n + c] = ok ? hb.add(i, j) : -Infinity;
            }
          }
        const res = tf.tidy(() => {
          const qi = tf.tensor1d(pos.map((x) => Math.max(0, x - off)), 'int32');
          const ki = tf.tensor1d(pos.map((x) => Math.max(0, x)), 'int32');
          const qs = tf.reshape(tf.gather(qh, qi), [nb, n, s.D]);
          const ks = tf.reshape(tf.gather(kh, ki), [nb, n, s.D]);
          const vs = tf.reshape(tf.gather(vh, ki), [nb, n, s.Dv]);
          const sc = tf.add(tf.matMul(qs, ks, false, true), tf.tensor3d(mask, [nb, n, n]));
          const m = tf.maximum(tf.max(sc, 2, true), -1e30);
          const pr = tf.exp(tf.sub(sc, m));
          return tf.concat([m, tf.sum(pr, 2, true), tf.matMul(pr, vs)], 2); // [nb, n, 2 + Dv]
        });
        const d = (await res.data()) as Float32Array;
        res.dispose();
        // Scatter and merge: weights e^(mₖ − m) are the paper's sₖ / Σ sₖ, computed stably.
        for (let e = 0; e < nb * n; e++) {
          const i = pos[e]!;
          const l = d[e * (s.Dv + 2) + 1]!;
          if (i < off || !(l > 0)) continue;
          const row = i - off;
          const m = d[e * (s.Dv + 2)]!;
          const mNew = Math.max(mRun[row]!, m);
          const cOld = Math.exp(mRun[row]! - mNew);
          const cNew = Math.exp(m - mNew);
          mRun[row] = mNew;
          lRun[row] = lRun[row]! * cOld + l * cNew;
          for (let c = 0; c < s.Dv; c++) accRun[row * s.Dv + c] = accRun[row * s.Dv + c]! * cOld + d[e * (s.Dv + 2) + 2 + c]! * cNew;
        }
      }
    }
    tf.dispose([qh, kh, vh]);
    for (let row = 0; row < s.Tq; row++)
      for (let c = 0; c < s.Dv; c++) out[(h * s.Tq + row) * s.Dv + c] = lRun[row]! > 0 ? accRun[row * s.Dv + c]! / lRun[row]! : 0;
    ctx.progress((h + 1) / s.H);
  }
  ctx.release(mRun.byteLength * 2 + accRun.byteLength);
  return f32([s.H, s.Tq, s.Dv], out, ['H', 'T', 'D']);
}

/** The paper's formula in float64 loops: Oₖ and log sₖ per pair and row, then Σ sₖ·Oₖ / Σ sₖ. */
function reference({ q, k, v, bias }: AttentionInputs, p: P, s: AttentionShape): Tensor {
  const { H, Tq, Tk, D, Dv } = s;
  const scale = scaleOf(p, D);
  const out = new Float32Array(H * Tq * Dv);
  for (let h = 0; h < H; h++) {
    const g = groupOf(h, s);
    const hb = headBias(bias, h);
    for (let row = 0; row < Tq; row++) {
      const i = Tk - Tq + row;
      const parts: { lse: number; o: Float64Array }[] = [];
      p.segmentLengths.forEach((w, pk) => {
        const geo = geometry(w, p.dilationRates[pk]!, h, Tk);
        if (!geo.kept(i)) return;
        const t = Math.floor(i / geo.W);
        const keys: number[] = [];
        for (let j = t * geo.W; j < Math.min(Tk, (t + 1) * geo.W); j++)
          if (geo.kept(j) && (!p.causal || j <= i) && hb.allowed(i, j)) keys.push(j);
        if (!keys.length) return;
        const sc = keys.map((j) => {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q.data[(h * Tq + row) * D + d]! * k.data[(g * Tk + j) * D + d]!;
          return dot * scale + hb.add(i, j);
        });
        const max = Math.max(...sc);
        const e = sc.map((x) => Math.exp(x - max));
        const sum = e.reduce((a, b) => a + b, 0);
        const o = new Float64Array(Dv);
        keys.forEach((j, n) => {
          for (let d = 0; d < Dv; d++) o[d] += (e[n]! / sum) * v.data[(g * Tk + j) * Dv + d]!;
        });
        parts.push({ lse: max + Math.log(sum), o });
      });
      if (!parts.length) continue;
      const M = Math.max(...parts.map((x) => x.lse));
      const wts = parts.map((x) => Math.exp(x.lse - M));
      const Z = wts.reduce((a, b) => a + b, 0);
      for (let d = 0; d < Dv; d++) out[(h * Tq + row) * Dv + d] = parts.reduce((a, x, n) => a + (wts[n]! / Z) * x.o[d]!, 0);
    }
  }
  return f32([H, Tq, Dv], out, ['H', 'T', 'D']);
}

const params = z
  .object({
    variant: z.literal('dilated'),
    ...commonParams,
    segmentLengths: z.array(z.number().int().min(1).max(1 << 22)).min(1).max(16).default([512, 1024, 2048]).describe('segment length w of each pair'),
    dilationRates: z.array(z.number().int().min(1).max(4096)).min(1).max(16).default([1, 2, 4]).describe('dilation rate r of each pair'),
  })
  .refine((p) => p.segmentLengths.length === p.dilationRates.length, {
    message: 'segmentLengths and dilationRates must have the same length (one (w, r) pair each)',
    path: ['dilationRates'],
  });

export const dilated = defineVariant(params, {
  doc: {
    title: 'Dilated attention (LongNet)',
    summary:
      'Per (w, r) pair: segments of length w, every r-th position kept (offset by head), dense attention inside each sparsified segment; the pairs are mixed by their softmax denominators. O(T·Σ w/r²·D).',
    formula: 'Oₖ = softmax(Q̃ₖK̃ₖᵀ·scale + bias)·Ṽₖ per segment; O = Σₖ sₖ·Oₖ / Σₖ sₖ, sₖ the softmax denominator of pair k',
    references: [{ title: 'LongNet: Scaling Transformers to 1,000,000,000 Tokens', year: 2023 }],
  },
  cost(s, p) {
    let entries = 0;
    let maxBatch = 0;
    for (let h = 0; h < s.H; h++)
      p.segmentLengths.forEach((w, pk) => {
        const { W, n, segments } = geometry(w, p.dilationRates[pk]!, h, s.Tk);
        entries += (segments - Math.floor((s.Tk - s.Tq) / W)) * n * n;
        maxBatch = Math.max(maxBatch, Math.min(segments, Math.max(1, Math.floor(BATCH_ENTRIES / Math.max(1, n * n)))) * n * n);
      });
    return {
      flops: 2 * entries * (s.D + s.Dv),
      // One batch of segment scores, mask and probabilities; the running merge state of a head.
      workspaceBytes: 3 * maxBatch * 4 + s.Tq * (s.Dv + 2) * 8 + (s.Tq * s.D + s.Tk * (s.D + s.Dv)) * 4,
      bytesMoved: 4 * (s.H * s.Tq * (s.D + s.Dv) * p.segmentLengths.length + entries * 2),
      note: `pairs ${p.segmentLengths.map((w, k) => `(${w}, ${p.dilationRates[k]})`).join(' ')}`,
    };
  },
  run,
  reference,
  probe: (p, s) => ({ activation: 'softmax', pattern: dilatedPattern(p, s.Tk) }),
});
