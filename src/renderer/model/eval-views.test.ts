import { describe, expect, it } from 'vitest';
import { passkeyMetrics, perplexityMetrics, type PerplexityMetrics } from '../../nodes/model/metrics.js';
import { accuracyColor, passkeyGrid, perplexitySeries } from './eval-views.js';

/** Metrics as eval.perplexity reports them, with the figures the views read. */
const ppl = (lengths: number[], perplexity: number[], rope = 'rope', attention = 'naive'): PerplexityMetrics => {
  const each = lengths.map(() => 1);
  return { lengths, perplexity, meanNll: perplexity.map(Math.log), windows: each, tokensScored: each, curves: lengths.map(() => ({ position: [1], nll: [1] })), rope, attention };
};

describe('perplexitySeries', () => {
  it('aligns every node on the union of lengths, one line per node, labelled with its technique', () => {
    const r = perplexitySeries([
      { id: 'rope', metrics: ppl([32, 64, 128], [300, 280, 900]) },
      { id: 'dynamic', metrics: ppl([64, 256, 32], [281, 400, 301], 'dynamic') },
      { id: 'window', metrics: ppl([32], [Infinity], 'rope', 'sliding-window') },
    ]);
    expect(r.xs).toEqual([32, 64, 128, 256]);
    expect(r.series).toEqual([
      { id: 'rope', label: 'rope', ys: [300, 280, 900, null] },
      { id: 'dynamic', label: 'dynamic · rope dynamic', ys: [301, 281, null, 400] },
      { id: 'window', label: 'window · sliding-window', ys: [null, null, null, null] },
    ]);
  });
  it('leaves out nodes not run yet; the declared schema refuses malformed metrics before they get here', () => {
    const r = perplexitySeries([
      { id: 'a', metrics: undefined },
      { id: 'c', metrics: ppl([16], [2.5]) },
    ]);
    expect(r).toEqual({ xs: [16], series: [{ id: 'c', label: 'c', ys: [2.5] }] });
    expect(perplexityMetrics.safeParse({ ...ppl([32, 64], [1, 2]), perplexity: [1] }).success).toBe(false);
    expect(perplexityMetrics.safeParse({ lengths: [16], perplexity: [2.5] }).success).toBe(false);
  });
});

describe('passkeyGrid', () => {
  const passkey = (lengths: number[], depths: number[], accuracy: number[][], promptTokens: number[][] = []) => ({ lengths, depths, accuracy, promptTokens, trials: 2, answers: [], rope: 'rope', attention: 'naive' });
  it('shapes accuracy[length][depth] into rows of cells with the prompt sizes, and the mean', () => {
    const g = passkeyGrid(passkeyMetrics.parse(passkey([64, 128], [0, 0.5, 1], [[1, 1, 0.5], [0, 0.5, 1]], [[60, 61, 62], [120, 121, 122]])));
    expect(g.lengths).toEqual([64, 128]);
    expect(g.depths).toEqual([0, 0.5, 1]);
    expect(g.cells[1]![2]).toEqual({ length: 128, depth: 1, accuracy: 1, promptTokens: 122 });
    expect(g.cells[0]!.map((c) => c.accuracy)).toEqual([1, 1, 0.5]);
    expect(g.mean).toBeCloseTo(4 / 6, 12);
  });
  it('the declared schema refuses a grid whose rows do not match the depths', () => {
    expect(passkeyMetrics.safeParse(passkey([64], [0, 1], [[1]])).success).toBe(false);
    expect(passkeyMetrics.safeParse(passkey([64, 128], [0], [[1]])).success).toBe(false);
    expect(passkeyMetrics.safeParse(undefined).success).toBe(false);
  });
});

describe('accuracyColor', () => {
  it('runs red → amber → green and clamps', () => {
    expect(accuracyColor(0)).toBe('rgb(220, 38, 38)');
    expect(accuracyColor(0.5)).toBe('rgb(234, 179, 8)');
    expect(accuracyColor(1)).toBe('rgb(22, 163, 74)');
    expect(accuracyColor(2)).toBe(accuracyColor(1));
    expect(accuracyColor(NaN)).toBe(accuracyColor(0));
    expect(accuracyColor(0.25)).toBe('rgb(227, 109, 23)');
  });
});
