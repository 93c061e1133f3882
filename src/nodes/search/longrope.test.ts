// search.longrope: the seeds and constraints by hand, the evolution on a synthetic score, and the
// node on a tiny model (elitism, at least as good as PI, the factors drop into a config).
import { describe, expect, it } from 'vitest';
import { i32 } from '../../engine/tensor.js';
import type { MetricsValue, ModelValue } from '../../engine/values.js';
import type { ProgressDetail } from '../../engine/node.js';
import { runNode, testContext } from '../testing.js';
import { evalPerplexity } from '../model/eval-perplexity.js';
import { type TinyConfig } from '../model/testdata/tiny.js';
import { useTinyModel } from '../model/testdata/tiny-fixture.js';
import { evolve, ntkFactors, piFactors, repair, searchLongrope, yarnFactors } from './longrope.js';

describe('LongRoPE seeds and constraints', () => {
  it('PI is s everywhere; NTK runs from 1 to s; YaRN keeps fast dims at 1 and slow ones at s', () => {
    expect(piFactors(4, 4)).toEqual([4, 4, 4, 4]);
    const ntk = ntkFactors(4, 8);
    expect(ntk[0]).toBe(1);
    expect(ntk[3]).toBeCloseTo(8, 12);
    expect(ntk[1]).toBeCloseTo(2, 12); // 8^(2/6)
    // D = 64, base 10000, L = 64: wavelength 2π·10000^(2i/64); dims with ≥ 32 turns in 64 tokens stay at 1.
    const y = yarnFactors(32, 4, 10000, 64);
    expect(y[0]).toBe(1);
    expect(y[31]).toBeCloseTo(4, 12);
    for (let i = 1; i < 32; i++) expect(y[i]!).toBeGreaterThanOrEqual(y[i - 1]!);
  });

  it('repair clamps to [1, 1.25·s] and makes λ non-decreasing', () => {
    expect(repair([0.5, 3, 2, 10], 4)).toEqual([1, 3, 3, 5]);
  });

  it('evolve never loses its best (elitism) and improves on its seeds on a synthetic score', async () => {
    const target = [1, 1.5, 3, 3.5, 4, 4.5];
    const score = async (l: number[]) => 1 + l.reduce((s, v, i) => s + (v - target[i]!) ** 2, 0);
    const r = await evolve(6, 4, { pi: piFactors(6, 4), ntk: ntkFactors(6, 4) }, { population: 8, generations: 6, mutationRate: 0.5, mutationScale: 0.2, seed: 1 }, score);
    expect(r.byGeneration).toHaveLength(7);
    for (let g = 1; g < r.byGeneration.length; g++) expect(r.byGeneration[g]!).toBeLessThanOrEqual(r.byGeneration[g - 1]!);
    expect(r.bestPerplexity).toBeLessThan(Math.min(r.seeds.pi!, r.seeds.ntk!));
    expect(r.bestPerplexity).toBe(await score(r.best));
    expect(repair(r.best, 4)).toEqual(r.best);
    // A graceful stop after generation 2 returns the same best-so-far as the full search had then.
    let gens = 0;
    const stopped = await evolve(6, 4, { pi: piFactors(6, 4), ntk: ntkFactors(6, 4) }, { population: 8, generations: 6, mutationRate: 0.5, mutationScale: 0.2, seed: 1 }, score, () => gens++, () => gens > 2);
    expect(stopped.stoppedEarly).toBe('stopped after generation 2 of 6');
    expect(stopped.byGeneration).toEqual(r.byGeneration.slice(0, 3));
    expect(r.stoppedEarly).toBeUndefined();
  });
});

const cfg: TinyConfig = {
  model_type: 'llama', hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1,
  vocab_size: 256, max_position_embeddings: 32, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true,
};
// Embeddings scaled up so the random model's attention is peaked enough for RoPE to matter.
const tiny = useTinyModel(cfg, { embedScale: 4 });

const ids = Array.from({ length: 128 }, (_, i) => (i * 37 + 11 + ((i * i) % 7)) % 256);

describe('search.longrope on a tiny model', () => {
  it('is at least as good as PI, never worse generation to generation, streams progress, and its factors drop into a config', async () => {
    const ctx = await testContext('cpu', ['model', 'metrics']);
    const series: number[][] = [];
    ctx.progress = (_f: number, d?: ProgressDetail) => void (d?.series && series.push(d.series.values));
    const p = searchLongrope.params.parse({ targetLength: 128, population: 4, generations: 2, seed: 3 });
    const out = await searchLongrope.run(ctx, { model: tiny.model, ids: i32([128], ids) } as never, p);
    const m = (out.metrics as MetricsValue).values as {
      rope_scaling: { rope_type: string; short_factor: number[]; long_factor: number[]; original_max_position_embeddings: number };
      bestPerplexity: number; perplexityByGeneration: number[]; seedPerplexity: Record<string, number>; max_position_embeddings: number;
    };
    expect(m.rope_scaling.rope_type).toBe('longrope');
    expect(m.rope_scaling.original_max_position_embeddings).toBe(32);
    expect(m.max_position_embeddings).toBe(128);
    expect(m.rope_scaling.long_factor).toHaveLength(8);
    expect(m.rope_scaling.short_factor).toEqual(new Array(8).fill(1));
    const lf = m.rope_scaling.long_factor;
    for (let i = 0; i < 8; i++) {
      expect(lf[i]!).toBeGreaterThanOrEqual(i ? lf[i - 1]! : 1);
      expect(lf[i]!).toBeLessThanOrEqual(1.25 * 4);
    }
    expect(m.perplexityByGeneration).toHaveLength(3);
    for (let g = 1; g < 3; g++) expect(m.perplexityByGeneration[g]!).toBeLessThanOrEqual(m.perplexityByGeneration[g - 1]!);
    expect(m.bestPerplexity).toBeLessThanOrEqual(m.seedPerplexity.pi!);
    expect(series.at(-1)).toEqual(m.perplexityByGeneration);
    // The output model, through eval.perplexity, scores exactly the best perplexity.
    const ev = await runNode(evalPerplexity, { model: out.model as ModelValue, ids: i32([128], ids) }, { lengths: [128], maxWindows: 1 });
    expect(((ev.metrics as MetricsValue).values.perplexity as number[])[0]).toBeCloseTo(m.bestPerplexity, 6);
  });

  it('refuses a target length within the original length, naming it', async () => {
    await expect(runNode(searchLongrope, { model: tiny.model, ids: i32([128], ids) }, { targetLength: 32 })).rejects.toThrow(/targetLength 32 must exceed the original length 32/);
  });
});
