import { describe, expect, it } from 'vitest';
import { accuracyColor, passkeyGrid, perplexitySeries } from './eval-views.js';

describe('perplexitySeries', () => {
  it('aligns every node on the union of lengths, one line per node, labelled with its technique', () => {
    const r = perplexitySeries([
      { id: 'rope', metrics: { lengths: [32, 64, 128], perplexity: [300, 280, 900], rope: 'rope', attention: 'naive' } },
      { id: 'dynamic', metrics: { lengths: [64, 256, 32], perplexity: [281, 400, 301], rope: 'dynamic', attention: 'naive' } },
      { id: 'window', metrics: { lengths: [32], perplexity: [Infinity], rope: 'rope', attention: 'sliding-window' } },
    ]);
    expect(r.xs).toEqual([32, 64, 128, 256]);
    expect(r.series).toEqual([
      { id: 'rope', label: 'rope', ys: [300, 280, 900, null] },
      { id: 'dynamic', label: 'dynamic · rope dynamic', ys: [301, 281, null, 400] },
      { id: 'window', label: 'window · sliding-window', ys: [null, null, null, null] },
    ]);
  });
  it('leaves out nodes not run yet or with malformed metrics', () => {
    const r = perplexitySeries([
      { id: 'a', metrics: undefined },
      { id: 'b', metrics: { lengths: [32, 64], perplexity: [1] } },
      { id: 'c', metrics: { lengths: [16], perplexity: [2.5] } },
    ]);
    expect(r).toEqual({ xs: [16], series: [{ id: 'c', label: 'c', ys: [2.5] }] });
  });
});

describe('passkeyGrid', () => {
  it('shapes accuracy[length][depth] into rows of cells with the prompt sizes, and the mean', () => {
    const g = passkeyGrid({ lengths: [64, 128], depths: [0, 0.5, 1], accuracy: [[1, 1, 0.5], [0, 0.5, 1]], promptTokens: [[60, 61, 62], [120, 121, 122]] })!;
    expect(g.lengths).toEqual([64, 128]);
    expect(g.depths).toEqual([0, 0.5, 1]);
    expect(g.cells[1]![2]).toEqual({ length: 128, depth: 1, accuracy: 1, promptTokens: 122 });
    expect(g.cells[0]!.map((c) => c.accuracy)).toEqual([1, 1, 0.5]);
    expect(g.mean).toBeCloseTo(4 / 6, 12);
  });
  it('refuses a grid whose rows do not match the depths', () => {
    expect(passkeyGrid({ lengths: [64], depths: [0, 1], accuracy: [[1]] })).toBeUndefined();
    expect(passkeyGrid({ lengths: [64, 128], depths: [0], accuracy: [[1]] })).toBeUndefined();
    expect(passkeyGrid(undefined)).toBeUndefined();
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
