// LLMLingua (Jiang et al. 2023), coarse to fine:
// 1. Budget controller. The prompt is split into instruction, demonstrations and question. The
//    demonstrations get the budget left once instruction and question keep τ_ins and τ_que of theirs
//    (Eq. 1: τ_dems = (τ·L − τ_ins·L_ins − τ_que·L_que) / L_dems). Whole demonstrations are taken in
//    order of decreasing perplexity while they fit in k·τ_dems·L_dems tokens; what that leaves unused
//    goes to instruction and question (Eq. 2: Δτ = (k·τ_dems·L_dems − L_D) / (L_ins + L_que)).
// 2. Iterative token-level compression. The kept parts are cut into segments of `segmentTokens`;
//    segment by segment, each token is scored by its conditional perplexity given the already
//    COMPRESSED prefix and the segment's own earlier tokens, p(s_j,i | s̃_<j, s_j,<i), and the segment
//    keeps its most surprising tokens (the paper's threshold γ_j on perplexity, as a count).
// Not reproduced: the paper's instruction tuning of the small LM (distribution alignment).
//
// How the text is split: blocks separated by blank lines; with three or more blocks the first is the
// instruction, the last the question and the others are the demonstrations (one each); two blocks are
// demonstration + question; one block is a single demonstration.
// Token counts: N = round(targetRatio·T) tokens are kept exactly. Instruction and question keep
// round(min(1, τ + Δτ)·L); the demonstrations get the rest of N. If whole-demonstration selection
// leaves too few tokens to reach N, further demonstrations are added in perplexity order.
import { z } from 'zod';
import { allocate, commonParams, topK, defineVariant } from './common.js';
import { blockStarts, unitsFromStarts } from './units.js';

const budgetDefaults = { instruction: 0.85, demonstrations: 2, question: 0.9 };

/** [start, end) token ranges of the blank-line-separated blocks. */
function blockRanges(tokens: Parameters<typeof unitsFromStarts>[0]): [number, number][] {
  const { unitOf, count } = unitsFromStarts(tokens, blockStarts(tokens.text));
  const ranges: [number, number][] = Array.from({ length: count }, () => [0, 0]);
  for (let t = unitOf.length - 1; t >= 0; t--) ranges[unitOf[t]!]![0] = t;
  for (let t = 0; t < unitOf.length; t++) ranges[unitOf[t]!]![1] = t + 1;
  return ranges;
}

const span = ([s, e]: [number, number]) => Array.from({ length: e - s }, (_, i) => s + i);
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

export const llmlingua = defineVariant(z.object({
    variant: z.literal('llmlingua'),
    ...commonParams,
    targetRatio: z.number().min(0).max(1).default(0.5).describe('fraction of the tokens to keep (the reference code\'s rate): outputTokens / inputTokens'),
    segmentTokens: z.number().int().min(1).max(65536).default(100).describe('tokens per segment of the iterative compression (iterative_size in the reference code)'),
    budget: z
      .object({
        instruction: z.number().min(0).max(1).default(budgetDefaults.instruction).describe('τ_ins: fraction of the instruction to keep'),
        demonstrations: z
          .number()
          .min(1)
          .max(100)
          .default(budgetDefaults.demonstrations)
          .describe('k, the granular control coefficient: whole demonstrations are kept up to k·τ_dems·L_dems tokens before token-level pruning'),
        question: z.number().min(0).max(1).default(budgetDefaults.question).describe('τ_que: fraction of the question to keep'),
      })
      .default(budgetDefaults)
      .describe('budget controller: first block = instruction, last = question, blocks between = demonstrations'),
  }), {
  doc: {
    title: 'LLMLingua',
    summary:
      'Budget controller over instruction, demonstrations and question (whole demonstrations by perplexity), then iterative token-level pruning by perplexity conditioned on the compressed prefix.',
    formula:
      'τ_dems = (τL − τ_ins·L_ins − τ_que·L_que)/L_dems;  Δτ = (k·τ_dems·L_dems − L_D)/(L_ins + L_que);  keep s_j,i with the highest −log p(s_j,i | s̃_<j, s_j,<i)',
    references: [{ title: 'LLMLingua: Compressing Prompts for Accelerated Inference of Large Language Models', year: 2023 }],
  },
  compress(ctx, tokens, lm, p) {
    const T = tokens.ids.length;
    const N = Math.round(p.targetRatio * T);
    const blocks = blockRanges(tokens);
    const B = blocks.length;
    const ins = B >= 3 ? blocks[0]! : ([0, 0] as [number, number]);
    const que = B >= 2 ? blocks[B - 1]! : ([T, T] as [number, number]);
    const demos = blocks.slice(B >= 3 ? 1 : 0, B >= 2 ? B - 1 : B);
    const Lins = ins[1] - ins[0];
    const Lque = que[1] - que[0];
    const lens = demos.map(([s, e]) => e - s);
    const Ldems = lens.reduce((a, b) => a + b, 0);
    const { instruction: tauIns, question: tauQue, demonstrations: k } = p.budget;

    // 1. Budget controller: whole demonstrations by decreasing perplexity.
    let selected: number[] = [];
    let LD = 0;
    let deltaTau = 0;
    let tauDems = 0;
    if (Ldems > 0) {
      tauDems = (p.targetRatio * T - tauIns * Lins - tauQue * Lque) / Ldems;
      const cap = k * Math.max(0, tauDems) * Ldems;
      const ppl = demos.map((r) => {
        const lp = lm.logProbs(tokens.ids.subarray(r[0], r[1]));
        return Math.exp(-lp.reduce((a, b) => a + b, 0) / lp.length);
      });
      const order = demos.map((_, i) => i).sort((a, b) => ppl[b]! - ppl[a]! || a - b);
      let i = 0;
      for (; i < order.length && LD + lens[order[i]!]! <= cap; i++) LD += lens[order[i]!]!;
      // Guard: enough demonstration tokens to reach N even with instruction and question kept whole.
      for (; i < order.length && LD < N - Lins - Lque; i++) LD += lens[order[i]!]!;
      selected = order.slice(0, i).sort((a, b) => a - b);
      deltaTau = Lins + Lque > 0 ? (cap - LD) / (Lins + Lque) : 0;
    }
    ctx?.checkCancelled();

    // Token counts per part, summing to N exactly.
    let nIns = Math.round(clamp01(tauIns + deltaTau) * Lins);
    let nQue = Math.round(clamp01(tauQue + deltaTau) * Lque);
    let nD = N - nIns - nQue;
    if (nD < 0) {
      [nIns, nQue] = allocate(N, [nIns, nQue]) as [number, number];
      nD = 0;
    } else if (nD > LD) {
      const [a, b] = allocate(nD - LD, [Lins - nIns, Lque - nQue]);
      nIns += a!;
      nQue += b!;
      nD = LD;
    }

    // 2. Iterative token-level compression, segment by segment in text order.
    const parts: [number[], number][] = [
      [span(ins), nIns],
      [selected.flatMap((d) => span(demos[d]!)), nD],
      [span(que), nQue],
    ];
    const segments: [number[], number][] = [];
    const S = p.segmentTokens;
    for (const [idx, n] of parts) {
      const segs: number[][] = [];
      for (let s = 0; s < idx.length; s += S) segs.push(idx.slice(s, s + S));
      const counts = allocate(n, segs.map((s) => s.length));
      segs.forEach((s, j) => segments.push([s, counts[j]!]));
    }
    const keep = new Uint8Array(T);
    const prefix: number[] = [];
    segments.forEach(([seg, n], j) => {
      ctx?.checkCancelled();
      const seq = Int32Array.from([...prefix, ...seg.map((t) => tokens.ids[t]!)]);
      const lp = lm.logProbs(seq, prefix.length);
      const kept = topK(seg.map((_, i) => -lp[prefix.length + i]!), n);
      for (const i of kept) {
        keep[seg[i]!] = 1;
        prefix.push(tokens.ids[seg[i]!]!);
      }
      ctx?.progress((j + 1) / segments.length);
    });

    const ratio = (n: number, L: number) => (L > 0 ? n / L : null);
    return {
      keep,
      extra: {
        demonstrations: demos.length,
        demonstrationsKept: selected.length,
        instructionTokens: Lins,
        demonstrationTokens: Ldems,
        questionTokens: Lque,
        instructionRatio: ratio(nIns, Lins),
        demonstrationRatio: ratio(nD, Ldems),
        questionRatio: ratio(nQue, Lque),
        tauDems,
        deltaTau,
      },
    };
  },
});
