// eval.perplexity: the survey's yardstick — perplexity as the context grows. For each length L the
// tokens are cut into windows of L (one every `stride` tokens); each window runs through the model
// from an empty cache and every position but the first is scored (−log p of the next token). The
// per-position curve is the mean NLL at each position in the window: past the trained length it
// rises sharply unless the position technique extends it.
import { z } from 'zod';
import { defineNode, ShapeError } from '../../engine/node.js';
import { metrics } from '../../engine/values.js';
import { forwardTokens, LlamaModel } from './llama.js';
import { exactTechniqueSibling, idsOf, resolveTechnique, techniqueParams, tokenInputs, tokensLength } from './technique.js';
import { perplexityMetrics } from './metrics.js';

/** Most points per NLL curve; longer windows are averaged into this many bins. */
export const CURVE_POINTS = 512;

const params = z.object({
  lengths: z.array(z.number().int().min(2).max(1 << 20)).min(1).default([128, 256]).describe('window lengths L, in tokens'),
  stride: z.number().int().min(1).optional().describe('tokens between window starts (default: L, disjoint windows)'),
  maxWindows: z.number().int().min(1).default(8).describe('most windows per length (the first ones)'),
  ...techniqueParams,
});

/** −log softmax(row)[target], in float64. */
export function nll(logits: Float32Array, row: number, V: number, target: number): number {
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, logits[row * V + i]!);
  let sum = 0;
  for (let i = 0; i < V; i++) sum += Math.exp(logits[row * V + i]! - max);
  return Math.log(sum) + max - logits[row * V + target]!;
}

/** Averages a curve into at most `points` bins of consecutive positions. */
export function binCurve(curve: number[], points = CURVE_POINTS): { position: number[]; nll: number[] } {
  if (curve.length <= points) return { position: curve.map((_, i) => i + 1), nll: curve };
  const position: number[] = [];
  const out: number[] = [];
  for (let b = 0; b < points; b++) {
    const i0 = Math.floor((b * curve.length) / points);
    const i1 = Math.floor(((b + 1) * curve.length) / points);
    const slice = curve.slice(i0, i1);
    position.push((i0 + i1 - 1) / 2 + 1);
    out.push(slice.reduce((s, v) => s + v, 0) / slice.length);
  }
  return { position, nll: out };
}

export const evalPerplexity = defineNode({
  type: 'eval.perplexity',
  family: 'model',
  title: 'Perplexity by length',
  summary:
    'Perplexity of a model over windows of each length (from an empty cache each), and the mean NLL at every position in the window: the curve that rises past the trained length unless a position technique extends it. Takes the same technique params as model.forward.',
  formula: 'NLL_t = −log softmax(logits_{t−1})[x_t], t = 1..L−1; PPL(L) = exp(mean over windows and t of NLL_t); curve(t) = mean over windows of NLL_t',
  references: [
    { title: 'Beyond the Limits: A Survey of Techniques to Extend the Context Length in Large Language Models', year: 2024 },
    { title: 'Extending Context Window of Large Language Models via Positional Interpolation', year: 2023 },
  ],
  params,
  inputs: tokenInputs,
  outputs: {
    metrics: {
      kind: 'metrics',
      metrics: perplexityMetrics,
      doc: 'lengths, perplexity (one per length), meanNll, windows and tokensScored per length, curves: per length {position[], nll[]} (at most 512 points, binned), attention, rope',
    },
  },
  // Compared with the same evaluation using exact attention and a full cache, perplexity by perplexity.
  exact: (p) => exactTechniqueSibling(p, [{ port: 'metrics', field: 'perplexity' }]),
  infer(ins, p) {
    const T = tokensLength(ins);
    if (T !== null) {
      const i = p.lengths.findIndex((L) => L > T);
      if (i >= 0) throw new ShapeError(ins.tokens ? 'tokens' : 'ids', `lengths[${i}] = ${p.lengths[i]} needs at least that many tokens; the input has ${T}`);
    }
    return { metrics: { kind: 'metrics', keys: ['lengths', 'perplexity', 'meanNll', 'windows', 'tokensScored', 'curves', 'attention', 'rope'] } };
  },
  cost: (ins, p) => ({
    flops: 0,
    workspaceBytes: ins.model.bytes ?? 0,
    note: `${p.lengths.length} lengths × up to ${p.maxWindows} windows of ${tokensLength(ins) ?? '?'} tokens; logits [L, vocab] f32 per window`,
  }),
  async run(ctx, ins, p) {
    const ids = idsOf(ins);
    const technique = resolveTechnique(ins.model, p);
    const model = await LlamaModel.load(ctx, ins.model);
    try {
      const V = model.arch.vocabSize;
      const plan = p.lengths.map((L, li) => {
        if (L > ids.length) throw new ShapeError(ins.tokens ? 'tokens' : 'ids', `lengths[${li}] = ${L} needs at least that many tokens; the input has ${ids.length}`);
        const stride = p.stride ?? L;
        const starts: number[] = [];
        for (let s = 0; s + L <= ids.length && starts.length < p.maxWindows; s += stride) starts.push(s);
        return { L, starts };
      });
      const total = plan.reduce((n, x) => n + x.starts.length * x.L, 0);
      let done = 0;
      const perplexity: number[] = [];
      const meanNll: number[] = [];
      const curves: { position: number[]; nll: number[] }[] = [];
      for (const { L, starts } of plan) {
        const sum = new Float64Array(L - 1);
        for (const s of starts) {
          const window = ids.subarray(s, s + L);
          const { logits } = await forwardTokens(model, technique, window, {
            prefillTokens: p.prefillTokens,
            onStep: (n) => ctx.progress(0.05 + (0.95 * (done + n)) / total),
          });
          for (let t = 1; t < L; t++) sum[t - 1] += nll(logits, t - 1, V, window[t]!);
          done += L;
          ctx.checkCancelled();
        }
        const curve = Array.from(sum, (v) => v / starts.length);
        const mean = curve.reduce((a, b) => a + b, 0) / curve.length;
        meanNll.push(mean);
        perplexity.push(Math.exp(mean));
        curves.push(binCurve(curve));
      }
      return {
        metrics: metrics({
          lengths: p.lengths,
          perplexity,
          meanNll,
          windows: plan.map((x) => x.starts.length),
          tokensScored: plan.map((x) => x.starts.length * (x.L - 1)),
          curves,
          attention: technique.attention.variant,
          rope: technique.position.variant,
        }),
      };
    } finally {
      model.dispose();
    }
  },
});
