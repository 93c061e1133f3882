// Compressors against scoring LMs whose scores are set by hand (which also exercises the plug-in
// interface): the expected kept tokens follow from the formulas, worked out in the comments.
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../engine/tensor.js';
import type { MetricsValue, TokensValue } from '../../engine/values.js';
import { tokenize } from '../text/tokenizer.js';
import { runNode } from '../testing.js';
import { compress, registerScoringLM, type ScoringLM } from './index.js';

/** Self-information set per character (the `bytes` encoding of ASCII text: one token per character). */
function byChar(info: Record<string, number>): ScoringLM {
  return {
    name: 'by-char',
    logProbs(ids, from = 0) {
      const out = new Float64Array(ids.length).fill(Number.NaN);
      for (let i = from; i < ids.length; i++) out[i] = -(info[String.fromCharCode(ids[i]!)] ?? 1);
      return out;
    },
  };
}
registerScoringLM('test-selective', async () => byChar({ a: 5, b: 1, c: 4, d: 2, e: 3 }));
registerScoringLM('test-budget', async () => byChar({ i: 2, a: 1, b: 3, c: 2, q: 2, '\n': 0.5 }));
// 5 nats for an id not seen before in the sequence it is given, 1 nat for one seen: shows what the prefix is.
registerScoringLM('test-seen', async () => ({
  name: 'seen',
  logProbs(ids, from = 0) {
    const out = new Float64Array(ids.length).fill(Number.NaN);
    for (let i = from; i < ids.length; i++) out[i] = ids.subarray(0, i).includes(ids[i]!) ? -1 : -5;
    return out;
  },
}));

async function run(text: string, params: Record<string, unknown>) {
  const out = await runNode(compress, { tokens: await tokenize(text, 'bytes') }, params);
  return { text: (out.tokens as TokensValue).text, kept: [...(out.kept as Tensor).data], m: (out.metrics as MetricsValue).values };
}

describe('selective-context, hand-set scores', () => {
  it('drops the units under the dropRatio-th percentile of self-information', async () => {
    // I = [5, 1, 4, 2, 3]; the 40th percentile: position 0.4·4 = 1.6 in [1, 2, 3, 4, 5] → 2.6; drop 1 and 2.
    const r = await run('abcde', { variant: 'selective-context', lm: 'test-selective', unit: 'token', dropRatio: 0.4 });
    expect(r.kept).toEqual([1, 0, 1, 0, 1]);
    expect(r.text).toBe('ace');
    expect(r.m).toMatchObject({ inputTokens: 5, outputTokens: 3, ratio: 0.6, units: 5, unitsDropped: 2, threshold: 2.6 });
  });

  it('sums self-information over a sentence', async () => {
    // Sentences "aa. " (5+5+1+1 = 12), "bb. " (1+1+1+1 = 4), "cc." (4+4+1 = 9); median 9: drop "bb. " only.
    const r = await run('aa. bb. cc.', { variant: 'selective-context', lm: 'test-selective', unit: 'sentence', dropRatio: 0.5 });
    expect(r.text).toBe('aa. cc.');
    expect(r.m).toMatchObject({ units: 3, unitsDropped: 1, threshold: 9 });
  });
});

describe('llmlingua, hand-set scores', () => {
  // Instruction: 18 × "i" + blank line (20 tokens); demonstrations "a", "b", "c" (20 each); question 20 × "q".
  const block = (ch: string) => ch.repeat(18) + '\n\n';
  const prompt = block('i') + block('a') + block('b') + block('c') + 'q'.repeat(20);

  it('budget controller: Eq. 1, whole demonstrations by perplexity, Eq. 2', async () => {
    // T = 100, τ = 0.5 → N = 50. τ_dems = (50 − 0.8·20 − 0.9·20)/60 = 16/60; cap = k·τ_dems·L_dems = 1.5·16 = 24.
    // Perplexity order b > c > a: b fits (20 ≤ 24), c does not (40 > 24). L_D = 20.
    // Δτ = (24 − 20)/(20 + 20) = 0.1 → instruction keeps round(0.9·20) = 18, question round(1·20) = 20,
    // demonstration b the remaining 50 − 38 = 12: its 12 first "b" (ties go to the earlier token).
    const r = await run(prompt, {
      variant: 'llmlingua', lm: 'test-budget', targetRatio: 0.5, segmentTokens: 100,
      budget: { instruction: 0.8, demonstrations: 1.5, question: 0.9 },
    });
    expect(r.text).toBe('i'.repeat(18) + 'b'.repeat(12) + 'q'.repeat(20));
    expect(r.m.outputTokens).toBe(50);
    expect(r.m).toMatchObject({ demonstrations: 3, demonstrationsKept: 1, instructionRatio: 0.9, questionRatio: 1, demonstrationRatio: 12 / 60 });
    expect(r.m.tauDems as number).toBeCloseTo(16 / 60, 12);
    expect(r.m.deltaTau as number).toBeCloseTo(0.1, 12);
  });

  it('conditions each segment on the compressed prefix, not the original one', async () => {
    // One block = one demonstration; N = 3 over segments "abc" | "abc" → counts [2, 1].
    // Segment 1: all new (5 nats) → keeps "a", "b". Segment 2 given the compressed prefix "ab":
    // "a" and "b" were seen (1 nat), "c" was dropped so it is new (5 nats) → keeps "c".
    // (Conditioned on the original prefix, all three would be seen and the tie would keep "a".)
    const r = await run('abcabc', { variant: 'llmlingua', lm: 'test-seen', targetRatio: 0.5, segmentTokens: 3 });
    expect(r.kept).toEqual([1, 1, 0, 0, 0, 1]);
    expect(r.text).toBe('abc');
  });
});

describe('compress node', () => {
  it('names unknown scoring LMs and non-token inputs', async () => {
    await expect(run('abc', { variant: 'selective-context', lm: 'gpt-17' })).rejects.toThrow(/unknown scoring LM "gpt-17"; known: ngram, ngram-static/);
    expect(() => compress.infer({ tokens: { kind: 'text' } }, compress.params.parse({ variant: 'llmlingua' }))).toThrow(/"tokens" expects tokens/);
    expect(() => compress.params.parse({ variant: 'llmlingua', targetRatio: 1.5 })).toThrow();
    expect(() => compress.params.parse({ variant: 'selective-context', unit: 'word' })).toThrow();
  });

  it('infers a uint8 mask over the input tokens', () => {
    const s = compress.infer({ tokens: { kind: 'tokens', shape: [null] } }, compress.params.parse({ variant: 'selective-context' }));
    expect(s.kept).toEqual({ kind: 'tensor', dtype: 'uint8', shape: [null], dims: ['T'] });
    expect(s.tokens).toEqual({ kind: 'tokens', shape: [null] });
  });
});
