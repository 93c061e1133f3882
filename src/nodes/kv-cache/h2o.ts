// H2O (Heavy-Hitter Oracle): keep the recentTokens newest tokens plus the heavyTokens older ones
// that received the most attention so far. Each step appends its tokens, lets its queries attend
// (causally) over what the cache holds, adds each query's softmax row to the keys' accumulated
// scores, and, once over budget, evicts the lowest-scoring token outside the recent window.
// H2O selects per head; here one selection serves all heads (scores summed over the query heads),
// so the cache stays one [Hkv, kept, D] tensor with one list of positions. Ties keep the earlier token.
import { z } from 'zod';
import { ShapeError } from '../../engine/node.js';
import { bytesPerToken, commonParams, schedule, StepRecorder, toRuns, type CacheShape, defineVariant } from './common.js';

const params = z
  .object({
    variant: z.literal('h2o'),
    ...commonParams,
    heavyTokens: z.number().int().min(0).default(128).describe('heavy hitters kept by accumulated attention (heavy_budget)'),
    recentTokens: z.number().int().min(0).default(128).describe('most recent tokens always kept (recent_budget)'),
  })
  .refine((p) => p.heavyTokens + p.recentTokens >= 1, { message: 'heavyTokens + recentTokens must be at least 1', path: ['heavyTokens'] });
const needQ = () => new ShapeError('q', 'h2o ranks tokens by the attention they receive from the queries: connect the "q" input ([H, T, D])');

/** Query–key pairs scored: the prefill attends causally over itself, each decode token over min(t, cap) + 1 keys. */
function scoredPairs(T: number, prefillTokens: number, cap: number): number {
  let n = 0;
  for (const [from, to] of schedule(T, prefillTokens))
    for (let i = from; i < to; i++) n += Math.min(from, cap) + (i - from) + 1;
  return n;
}

export const h2o = defineVariant(params, {
  doc: {
    title: 'H2O (heavy hitters + recent)',
    summary:
      'Keeps the recent window plus the heavyTokens tokens with the highest attention accumulated from q (the q input is required); each step\'s queries attend causally over what the cache holds. One selection serves all heads (scores summed over query heads); ties keep the earlier token.',
    formula: 'score_j += Σ_h softmax(q_i·K_heldᵀ/√D)_j per query i; kept = recent ∪ top-heavyTokens(score) of the rest',
    references: [{ title: 'H2O: Heavy-Hitter Oracle for Efficient Generative Inference of Large Language Models', year: 2023 }],
  },
  kept: (T, p) => Math.min(T, p.heavyTokens + p.recentTokens),
  check(s) {
    if (!s.hasQ) throw needQ();
  },
  cost(s, p) {
    const cap = p.heavyTokens + p.recentTokens;
    const pairs = scoredPairs(s.T, p.prefillTokens, cap);
    const held = Math.min(s.T, cap);
    const H = s.H ?? s.Hkv;
    return {
      // q·k per scored pair and head, plus the softmax (exp, sum, divide) and the score update.
      flops: H * pairs * (2 * s.D + 4),
      workspaceBytes: held * bytesPerToken(s) + (s.T + Math.min(s.T, Math.max(cap, p.prefillTokens) + 1)) * 8,
      bytesMoved: 4 * H * pairs * s.D,
      note: `${held} tokens held; ${pairs} query–key pairs scored`,
    };
  },
  simulate({ q, k }, p, s, cancel) {
    if (!q) throw needQ();
    const cap = p.heavyTokens + p.recentTokens;
    const score = new Float64Array(s.T);
    let held: number[] = [];
    const steps = schedule(s.T, p.prefillTokens);
    const rec = new StepRecorder(steps.length);
    // Scratch for every step (the cache never holds more than T tokens).
    const scratch = { row: new Float64Array(s.T), keyAt: new Int32Array(s.T) };
    for (const [from, to] of steps) {
      cancel();
      for (let t = from; t < to; t++) held.push(t);
      accumulate(q.data as Float32Array, k.data as Float32Array, s, held, from, to, score, scratch);
      if (held.length > cap) held = evict(held, score, p.recentTokens, p.heavyTokens);
      rec.record(to, held.length * bytesPerToken(s), () => toRuns(held));
    }
    return {
      positions: Int32Array.from(held),
      metrics: { ...rec.metrics({ s, tokensKept: held.length }), capacity: cap, scoredPairs: scoredPairs(s.T, p.prefillTokens, cap) },
    };
  },
});

/**
 * Queries from..to−1 (the last to − from entries of `held`) attend causally over `held`; every
 * head's softmax row is added to the keys' scores. Float64 accumulation.
 */
function accumulate(
  q: Float32Array, k: Float32Array, s: CacheShape, held: number[], from: number, to: number, score: Float64Array,
  { row, keyAt }: { row: Float64Array; keyAt: Int32Array },
) {
  const H = s.H!;
  const { D, T } = s;
  const group = H / s.Hkv;
  const scale = 1 / Math.sqrt(D);
  const base = held.length - (to - from);
  // keyAt[c]: offset of held[c]'s key row within its head.
  for (let c = 0; c < held.length; c++) keyAt[c] = held[c]! * D;
  const D4 = D - (D % 4);
  for (let h = 0; h < H; h++) {
    const kHead = Math.floor(h / group) * T * D;
    for (let i = from; i < to; i++) {
      const n = base + (i - from) + 1; // held[0..n) are the keys at or before i
      const qo = (h * T + i) * D;
      let max = -Infinity;
      for (let c = 0; c < n; c++) {
        const ko = kHead + keyAt[c]!;
        // Four partial sums: independent chains the JIT can overlap.
        let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        let d = 0;
        for (; d < D4; d += 4) {
          d0 += q[qo + d]! * k[ko + d]!;
          d1 += q[qo + d + 1]! * k[ko + d + 1]!;
          d2 += q[qo + d + 2]! * k[ko + d + 2]!;
          d3 += q[qo + d + 3]! * k[ko + d + 3]!;
        }
        for (; d < D; d++) d0 += q[qo + d]! * k[ko + d]!;
        const x = (d0 + d1 + (d2 + d3)) * scale;
        row[c] = x;
        if (x > max) max = x;
      }
      let sum = 0;
      for (let c = 0; c < n; c++) sum += row[c] = Math.exp(row[c]! - max);
      for (let c = 0; c < n; c++) score[held[c]!] += row[c]! / sum;
    }
  }
}

/** Keeps the last `recent` tokens and the `heavy` highest-scoring of the others, in position order. */
export function evict(held: number[], score: ArrayLike<number>, recent: number, heavy: number): number[] {
  const cut = held.length - Math.min(recent, held.length);
  if (cut === heavy + 1) {
    // A decode step: one token over budget. Drop the lowest score outside the recent window (on a tie, the later token).
    let drop = 0;
    for (let c = 1; c < cut; c++) if (score[held[c]!]! <= score[held[drop]!]!) drop = c;
    return [...held.slice(0, drop), ...held.slice(drop + 1)];
  }
  const top = held
    .slice(0, cut)
    .sort((a, b) => score[b]! - score[a]! || a - b)
    .slice(0, heavy)
    .sort((a, b) => a - b);
  return [...top, ...held.slice(cut)];
}
