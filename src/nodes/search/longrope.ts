// search.longrope: LongRoPE's evolutionary search (Ding et al. 2024, §3.2) for per-dimension RoPE
// rescale factors λ_i at a target length, scored by the model's perplexity there — no fine-tuning.
// A candidate is HF's longrope rope_scaling (Phi-3's format: the long factors are λ), run through the
// same forward pass and perplexity as eval.perplexity. The initial population holds PI (λ_i = s),
// NTK-aware (λ_i = s^(2i/(D−2))) and YaRN's ramp, plus their mutations; every generation keeps the
// better half (elitism: the best perplexity never rises) and adds children by crossover and mutation,
// repaired to LongRoPE's constraints (1 ≤ λ_i ≤ 1.25·s, non-decreasing in i).
import { z } from 'zod';
import { defineNode, ShapeError } from '../../engine/node.js';
import { metrics, type ModelValue } from '../../engine/values.js';
import { gaussian, rng } from '../common/random.js';
import { forwardArch, forwardTokens, LlamaModel } from '../model/llama.js';
import { nll } from '../model/eval-perplexity.js';
import { exactTechnique, idsOf, tokenInputs, tokensLength } from '../model/technique.js';

const params = z.object({
  targetLength: z.number().int().min(4).max(1 << 20).default(256).describe('the extended context length L′ the factors are searched for (and scored at)'),
  factor: z.number().min(1).max(1024).optional().describe('extension factor s = L′ / L (default: targetLength / original length)'),
  originalMaxPositionEmbeddings: z.number().int().min(2).optional().describe('the trained length L (default: the config\'s original_max_position_embeddings or max_position_embeddings)'),
  population: z.number().int().min(2).max(256).default(8).describe('candidates per generation'),
  generations: z.number().int().min(1).max(100).default(3).describe('generations after the initial population'),
  mutationRate: z.number().min(0).max(1).default(0.3).describe('probability that a child\'s λ_i is mutated'),
  mutationScale: z.number().gt(0).max(2).default(0.1).describe('a mutation multiplies λ_i by exp(N(0, mutationScale²))'),
  maxWindows: z.number().int().min(1).default(1).describe('windows of targetLength tokens scored per candidate (the first ones)'),
  seed: z.number().int().default(0),
});
type P = z.infer<typeof params>;

/** PI: every dimension interpolated by s. */
export const piFactors = (half: number, s: number) => new Array<number>(half).fill(s);

/** NTK-aware: base·s^(D/(D−2)) as per-dimension factors, λ_i = s^(2i/(D−2)). */
export const ntkFactors = (half: number, s: number) => Array.from({ length: half }, (_, i) => Math.pow(s, (2 * i) / (2 * half - 2)));

/**
 * YaRN's NTK-by-parts ramp as factors: dimensions whose wavelength fits more than β_fast = 32 times in
 * the original length keep λ = 1, those fitting fewer than β_slow = 1 times get λ = s, linear in between
 * on the frequency: 1/λ_i = (1 − γ_i)/s + γ_i.
 */
export function yarnFactors(half: number, s: number, base: number, orig: number, betaFast = 32, betaSlow = 1): number[] {
  const D = 2 * half;
  const dimAt = (rot: number) => (D * Math.log(orig / (rot * 2 * Math.PI))) / (2 * Math.log(base));
  const low = Math.max(Math.floor(dimAt(betaFast)), 0);
  const high = Math.min(Math.ceil(dimAt(betaSlow)), half - 1);
  return Array.from({ length: half }, (_, i) => {
    const ramp = Math.min(1, Math.max(0, (i - low) / Math.max(high - low, 0.001)));
    const gamma = 1 - ramp;
    return 1 / ((1 - gamma) / s + gamma);
  });
}

/** LongRoPE's constraints: 1 ≤ λ_i ≤ 1.25·s and λ non-decreasing in i (lower frequencies stretch at least as much). */
export function repair(lambda: number[], s: number): number[] {
  const out: number[] = [];
  let prev = 1;
  for (const v of lambda) {
    const c = Math.min(1.25 * s, Math.max(prev, Math.max(1, v)));
    out.push(c);
    prev = c;
  }
  return out;
}

/** Phi-3's rope_scaling for factors λ (short factors 1: the original length is left as trained). */
export function longropeScaling(lambda: number[], orig: number): { rope_type: 'longrope'; short_factor: number[]; long_factor: number[]; original_max_position_embeddings: number } {
  return { rope_type: 'longrope', short_factor: lambda.map(() => 1), long_factor: lambda, original_max_position_embeddings: orig };
}

export interface SearchResult {
  best: number[];
  bestPerplexity: number;
  /** Best perplexity after the initial population (index 0) and after each generation. */
  byGeneration: number[];
  seeds: Record<string, number>;
  evaluated: number;
  /** Set when a graceful stop ended the search before its last generation. */
  stoppedEarly?: string;
}

/**
 * The evolutionary search, independent of the model: `score(λ)` is the perplexity at the target
 * length (lower is better). Deterministic for a seed; a candidate seen before is not scored again.
 */
export async function evolve(
  half: number,
  s: number,
  seeds: Record<string, number[]>,
  p: Pick<P, 'population' | 'generations' | 'mutationRate' | 'mutationScale' | 'seed'>,
  score: (lambda: number[]) => Promise<number>,
  onGeneration?: (gen: number, best: number, byGeneration: number[]) => void,
  /** A graceful stop: the search ends before the next generation and returns the best so far. */
  stopRequested: () => boolean = () => false,
): Promise<SearchResult> {
  const u = rng(p.seed, 0x10e6);
  const g = gaussian(u);
  const seen = new Map<string, number>();
  const keyOf = (l: number[]) => l.map((v) => v.toFixed(6)).join(',');
  const evaluate = async (l: number[]) => {
    const k = keyOf(l);
    if (!seen.has(k)) seen.set(k, await score(l));
    return seen.get(k)!;
  };
  const mutate = (l: number[]) => repair(l.map((v) => (u() < p.mutationRate ? v * Math.exp(p.mutationScale * g()) : v)), s);
  const seedScores: Record<string, number> = {};
  let pop: { l: number[]; ppl: number }[] = [];
  for (const [name, l] of Object.entries(seeds)) {
    const r = repair(l, s);
    seedScores[name] = await evaluate(r);
    pop.push({ l: r, ppl: seedScores[name]! });
  }
  // The rest of the initial population: mutations of the seeds, in turn.
  const seedList = Object.values(seeds).map((l) => repair(l, s));
  for (let i = 0; pop.length < Math.max(p.population, seedList.length); i++) {
    const l = mutate(seedList[i % seedList.length]!);
    pop.push({ l, ppl: await evaluate(l) });
  }
  const rank = () => pop.sort((a, b) => a.ppl - b.ppl);
  rank();
  const byGeneration = [pop[0]!.ppl];
  onGeneration?.(0, pop[0]!.ppl, byGeneration);
  let stoppedEarly: string | undefined;
  for (let gen = 1; gen <= p.generations; gen++) {
    if (stopRequested()) {
      stoppedEarly = `stopped after generation ${gen - 1} of ${p.generations}`;
      break;
    }
    const parents = pop.slice(0, Math.max(1, Math.ceil(p.population / 2)));
    const children: { l: number[]; ppl: number }[] = [];
    for (let tries = 0; parents.length + children.length < p.population && tries < 10 * p.population; tries++) {
      const a = parents[Math.floor(u() * parents.length)]!.l;
      const b = parents[Math.floor(u() * parents.length)]!.l;
      // Uniform crossover, then mutation; a child equal to a candidate already scored is dropped.
      const child = mutate(a.map((v, i) => (u() < 0.5 ? v : b[i]!)));
      if (seen.has(keyOf(child))) continue;
      children.push({ l: child, ppl: await evaluate(child) });
    }
    pop = [...parents, ...children];
    rank();
    byGeneration.push(pop[0]!.ppl);
    onGeneration?.(gen, pop[0]!.ppl, byGeneration);
  }
  return { best: pop[0]!.l, bestPerplexity: pop[0]!.ppl, byGeneration, seeds: seedScores, evaluated: seen.size, ...(stoppedEarly ? { stoppedEarly } : {}) };
}

export const searchLongrope = defineNode({
  type: 'search.longrope',
  family: 'search',
  title: 'LongRoPE search',
  summary:
    'Evolutionary search for per-dimension RoPE rescale factors at a target length, scored by the model\'s perplexity there (no fine-tuning); seeded with PI, NTK and YaRN. Outputs Phi-3\'s rope_scaling (longrope short_factor/long_factor) and the model with it; streams the best perplexity per generation. The initial-token count n̂ is not searched: HF\'s longrope format has no field for it.',
  formula:
    'θ′_i = θ_i / λ_i, θ_i = base^(−2i/D); minimise PPL(L′; λ) s.t. 1 ≤ λ_i ≤ 1.25·s, λ_i ≤ λ_{i+1}; cos, sin ×= √(1 + ln s / ln L); population ← best half ∪ mutate(crossover(best half))',
  references: [
    { title: 'LongRoPE: Extending LLM Context Window Beyond 2 Million Tokens', year: 2024 },
    { title: 'Phi-3 Technical Report: A Highly Capable Language Model Locally on Your Phone', year: 2024 },
    { title: 'YaRN: Efficient Context Window Extension of Large Language Models', year: 2023 },
    { title: 'Extending Context Window of Large Language Models via Positional Interpolation', year: 2023 },
  ],
  params,
  inputs: tokenInputs,
  outputs: {
    model: { kind: 'model', doc: 'the model with the searched rope_scaling and max_position_embeddings = targetLength in its config (same weights)' },
    metrics: {
      kind: 'metrics',
      doc: 'rope_scaling (Phi-3 format), max_position_embeddings, bestPerplexity, perplexityByGeneration, seedPerplexity {pi, ntk, yarn}, plainRopePerplexity, evaluated',
    },
  },
  infer(ins, p) {
    const T = tokensLength(ins);
    if (T !== null && T < p.targetLength) throw new ShapeError(ins.tokens ? 'tokens' : 'ids', `targetLength ${p.targetLength} needs at least that many tokens; the input has ${T}`);
    return {
      model: { kind: 'model', bytes: ins.model.bytes },
      metrics: { kind: 'metrics', keys: ['rope_scaling', 'max_position_embeddings', 'bestPerplexity', 'perplexityByGeneration', 'seedPerplexity', 'plainRopePerplexity', 'evaluated'] },
    };
  },
  cost: (ins, p) => ({
    flops: 0,
    workspaceBytes: ins.model.bytes ?? 0,
    note: `≤ ${p.population + p.generations * p.population + 1} candidates × ${p.maxWindows} forward passes of ${p.targetLength} tokens`,
  }),
  // A graceful stop ends the search before the next generation, with the best factors so far.
  flags: { stoppable: true },
  async run(ctx, ins, p) {
    const ids = idsOf(ins);
    const port = ins.tokens ? 'tokens' : 'ids';
    if (ids.length < p.targetLength) throw new ShapeError(port, `targetLength ${p.targetLength} needs at least that many tokens; the input has ${ids.length}`);
    const arch = forwardArch(ins.model);
    if (!arch.rope) throw new ShapeError('model', `${arch.source}: the model has no RoPE to rescale`);
    const scheme = ins.model.config.position_embedding_type ?? 'rope';
    if (scheme !== 'rope') throw new ShapeError('model', `${arch.source}: position_embedding_type "${String(scheme)}": LongRoPE rescales RoPE only`);
    const c = ins.model.config;
    const orig = p.originalMaxPositionEmbeddings ?? (c.original_max_position_embeddings as number | undefined) ?? arch.maxPositionEmbeddings;
    if (p.targetLength <= orig) throw new ShapeError('model', `targetLength ${p.targetLength} must exceed the original length ${orig} (HF's longrope uses long_factor only past it)`);
    const s = p.factor ?? p.targetLength / orig;
    const half = arch.headDim / 2;
    // The config the factors go into: max_position_embeddings = L′, so HF's attention factor √(1 + ln s / ln L) applies.
    const { rope_scaling: _old, ...rest } = c;
    const configFor = (l: number[] | null) => ({ ...rest, max_position_embeddings: p.targetLength, ...(l ? { rope_scaling: longropeScaling(l, orig) } : {}) });
    const windows: Int32Array[] = [];
    for (let st = 0; st + p.targetLength <= ids.length && windows.length < p.maxWindows; st += p.targetLength) windows.push(ids.subarray(st, st + p.targetLength));
    for (const w of windows) for (const id of w) if (!(id >= 0 && id < arch.vocabSize)) throw new ShapeError(port, `token id ${id} is outside the model's vocabulary [0, ${arch.vocabSize})`);
    const model = await LlamaModel.load(ctx, ins.model);
    const perplexity = async (l: number[] | null): Promise<number> => {
      const m: ModelValue = { ...ins.model, config: configFor(l) };
      const technique = exactTechnique(m, l ? undefined : null);
      let sum = 0;
      let n = 0;
      for (const w of windows) {
        const { logits } = await forwardTokens(model, technique, w);
        for (let t = 1; t < w.length; t++) sum += nll(logits, t - 1, arch.vocabSize, w[t]!);
        n += w.length - 1;
        ctx.checkCancelled();
      }
      return Math.exp(sum / n);
    };
    // Progress per candidate scored (the plain-RoPE baseline, the initial population, the children).
    const total = 1 + Math.max(p.population, 3) + p.generations * (p.population - Math.ceil(p.population / 2));
    let scored = 0;
    let gen = 0;
    let curve: number[] = [];
    const report = () =>
      ctx.progress(Math.min(1, scored / total), {
        text: `generation ${gen}/${p.generations} · ${scored} candidates scored${curve.length ? ` · best ppl ${curve[curve.length - 1]!.toFixed(3)}` : ''}`,
        series: { name: 'best ppl', values: [...curve] },
      });
    const score = async (l: number[] | null) => {
      const v = await perplexity(l);
      scored++;
      report();
      return v;
    };
    try {
      const seeds = { pi: piFactors(half, s), ntk: ntkFactors(half, s), yarn: yarnFactors(half, s, arch.rope.theta, orig) };
      const plain = await score(null);
      const r = await evolve(half, s, seeds, p, score, (g, _best, byGen) => {
        gen = g;
        curve = byGen;
        report();
      }, () => ctx.stopRequested?.() ?? false);
      const rope_scaling = longropeScaling(r.best, orig);
      return {
        model: { kind: 'model', config: configFor(r.best), weights: ins.model.weights, source: `${ins.model.source ?? 'model'} (longrope ×${+s.toFixed(3)})` },
        metrics: metrics({
          rope_scaling,
          max_position_embeddings: p.targetLength,
          factor: s,
          bestPerplexity: r.bestPerplexity,
          perplexityByGeneration: r.byGeneration,
          seedPerplexity: r.seeds,
          plainRopePerplexity: plain,
          evaluated: r.evaluated,
          ...(r.stoppedEarly ? { stoppedEarly: r.stoppedEarly } : {}),
        }),
      };
    } finally {
      model.dispose();
    }
  },
});


