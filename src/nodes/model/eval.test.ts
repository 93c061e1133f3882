// eval.perplexity against NLLs computed from the plain-TS reference's logits; eval.passkey's prompt
// construction and its run on a tiny byte-level model.
import { describe, expect, it, vi } from 'vitest';
import { i32 } from '../../engine/tensor.js';
import type { MetricsValue } from '../../engine/values.js';
import { runNode } from '../testing.js';
import { loadTokenizer } from '../text/encodings.js';
import { parseModelConfig } from './config.js';
import { evalPasskey, passkeyNeedle, passkeyPrompt, PASSKEY_QUESTION } from './eval-passkey.js';
import { binCurve, evalPerplexity, nll } from './eval-perplexity.js';
import { LlamaSession } from './llama.js';
import { passkeyMetrics, perplexityMetrics } from './metrics.js';
import { llamaReference } from './reference.js';
import { tinyWeights } from './testdata/tiny.js';
import { TINY_CONFIG, useTinyModel } from './testdata/tiny-fixture.js';
import { ropeInv } from '../position/common.js';

const cfg = TINY_CONFIG;
const tiny = useTinyModel(cfg);

const ids = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % 256);

describe('eval.perplexity', () => {
  it('perplexity and the per-position curve are those of the reference logits over each window', async () => {
    const out = await runNode(evalPerplexity, { model: tiny.model, ids: i32([40], ids) }, { lengths: [8, 16], stride: 12, maxWindows: 2 });
    // Parsed by the schema the node declares: what the editor's view reads.
    const m = perplexityMetrics.parse((out.metrics as MetricsValue).values);
    expect(m.windows).toEqual([2, 2]);
    expect(m.tokensScored).toEqual([14, 30]);
    const arch = parseModelConfig(cfg);
    const w = tinyWeights(cfg);
    [8, 16].forEach((L, li) => {
      const curve = new Array<number>(L - 1).fill(0);
      for (const s of [0, 12]) {
        const win = ids.slice(s, s + L);
        const logits = llamaReference(arch, w, win, { inv: ropeInv(10000, 8), eps: 1e-5 });
        for (let t = 1; t < L; t++) curve[t - 1]! += nll(logits, t - 1, 256, win[t]!) / 2;
      }
      const mean = curve.reduce((a, b) => a + b, 0) / curve.length;
      expect(Math.log(m.perplexity[li]!)).toBeCloseTo(mean, 4);
      m.curves[li]!.nll.forEach((v, i) => expect(v).toBeCloseTo(curve[i]!, 4));
    });
  });

  it('refuses a length longer than the tokens, naming it', async () => {
    await expect(runNode(evalPerplexity, { model: tiny.model, ids: i32([40], ids) }, { lengths: [8, 64] })).rejects.toThrow(/lengths\[1\] = 64 needs at least that many tokens; the input has 40/);
  });

  it('bins long curves by averaging consecutive positions', () => {
    const c = binCurve([1, 2, 3, 4, 5, 6], 3);
    expect(c).toEqual({ position: [1.5, 3.5, 5.5], nll: [1.5, 3.5, 5.5] });
  });
});

describe('eval.passkey', () => {
  it('builds the longest prompt that fits, with the needle at the depth', async () => {
    const tok = await loadTokenizer('bytes');
    for (const depth of [0, 0.5, 1]) {
      const p = passkeyPrompt(tok, 1000, depth, '12345');
      expect(p.ids.length).toBeLessThanOrEqual(1000);
      expect(p.ids.length + 89).toBeGreaterThan(1000); // one more filler (89 bytes) would not fit
      expect(p.text.endsWith(PASSKEY_QUESTION)).toBe(true);
      expect(p.at).toBe(Math.round(depth * p.fillers));
      const needleAt = p.text.indexOf(passkeyNeedle('12345'));
      const fillersBefore = p.text.slice(0, needleAt).split('Here we go.').length - 1;
      expect(fillersBefore).toBe(p.at);
    }
  });

  it('scores a grid of lengths × depths on a byte-level model', async () => {
    const out = await runNode(evalPasskey, { model: tiny.model }, { lengths: [320, 400], depths: [0, 1], trials: 1, encoding: 'bytes', digits: 3 });
    const m = passkeyMetrics.parse((out.metrics as MetricsValue).values);
    expect(m.accuracy.length).toBe(2);
    for (const row of m.accuracy) for (const a of row) expect([0, 1]).toContain(a);
    for (const [i, L] of [320, 400].entries()) for (const n of m.promptTokens[i]!) expect(n).toBeLessThanOrEqual(L);
    // Greedy decoding wrote digits + 2 tokens (bytes here).
    expect(new TextEncoder().encode(m.answers[0]!).length).toBeLessThanOrEqual(5);
  });

  it('with prefillTokens feeds the rest of the prompt one token per step, so an evicting cache applies to it', async () => {
    const run = async (extra: Record<string, unknown>) => {
      const append = vi.spyOn(LlamaSession.prototype, 'append');
      try {
        const out = await runNode(evalPasskey, { model: tiny.model }, { lengths: [320], depths: [0.5], trials: 1, encoding: 'bytes', digits: 3, ...extra });
        const m = (out.metrics as MetricsValue).values as { answers: string[]; promptTokens: number[][] };
        return { answers: m.answers, appends: append.mock.calls.map((c) => c[0].length), T: m.promptTokens[0]![0]! };
      } finally {
        append.mockRestore();
      }
    };
    const whole = await run({});
    const streamed = await run({ prefillTokens: 16 });
    // One prefill then digits + 1 decode steps, against 16, then one token per step to the end.
    expect(whole.appends).toEqual([whole.T, 1, 1, 1, 1]);
    expect(streamed.appends).toEqual([16, ...Array<number>(streamed.T - 16 + 4).fill(1)]);
    // With a full cache the continuation is the same however the prompt is fed.
    expect(streamed.answers).toEqual(whole.answers);
  });
});
