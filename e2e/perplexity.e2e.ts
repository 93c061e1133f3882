// The evaluation views: pipelines/perplexity-by-length.json (a tiny Llama scored by two eval.perplexity
// branches, the config's RoPE and a dynamic-NTK override) run in the editor, one line per branch; and
// an eval.passkey node on the same checkpoint as a lengths × depths heat map.
import { describe, expect, it } from 'vitest';
import { dropPipeline, openExample, run, shot, useBrowserSession } from './helpers.js';

const s = useBrowserSession({ height: 1000 });

describe('perplexity view', () => {
  it('plots perplexity against length, one line per eval.perplexity branch', async () => {
    await openExample(s.page, 'perplexity-by-length.json');
    expect(await run(s.page, 180_000)).toMatch(/^done/);
    await s.page.evaluate(() => (window as unknown as { ctxlab_app: { ui: { set(p: object): void } } }).ctxlab_app.ui.set({ panelHeight: 440 }));
    await s.page.click('[data-testid="tab-perplexity"]');
    await s.page.waitForSelector('[data-testid="perplexity-chart"] canvas');
    // uPlot's legend lists one series per branch; the table one row per branch, a column per length.
    const legend = await s.page.locator('[data-testid="perplexity-chart"] .u-legend .u-series .u-label').allTextContents();
    expect(legend).toEqual(['length', 'rope', 'dynamic · rope dynamic']);
    const rows = await s.page.locator('[data-testid="perplexity-table"] tbody tr').allTextContents();
    expect(rows).toHaveLength(2);
    const head = await s.page.locator('[data-testid="perplexity-table"] thead th').allTextContents();
    expect(head.slice(1)).toEqual(['32', '64', '128']);
    // Within the trained length (64) the branches agree; every cell holds a perplexity.
    const cells = async (r: number) => (await s.page.locator(`[data-testid="perplexity-table"] tbody tr:nth-child(${r}) td`).allTextContents()).slice(1);
    const [a, b] = [await cells(1), await cells(2)];
    expect(a.slice(0, 2)).toEqual(b.slice(0, 2));
    for (const c of [...a, ...b]) expect(Number(c)).toBeGreaterThan(1);
    await shot(s.page, 'perplexity-by-length');
    expect(s.errors).toEqual([]);
  });

  it('draws an eval.passkey node as a heat map of lengths × depths', async () => {
    // Relative paths of a dropped pipeline resolve where the examples' do: models/tiny-llama is served.
    const doc = {
      format: 'context-lab/pipeline',
      version: 1,
      name: 'Passkey on the tiny model',
      nodes: [
        { id: 'model', type: 'model.load', params: { path: 'models/tiny-llama' }, position: { x: 0, y: 0 } },
        { id: 'passkey', type: 'eval.passkey', params: { lengths: [384, 512, 768], depths: [0, 0.5, 1], trials: 1, digits: 2, encoding: 'bytes' }, position: { x: 300, y: 0 } },
      ],
      edges: [{ from: 'model.model', to: 'passkey.model' }],
    };
    await dropPipeline(s.page, doc, 'passkey.json');
    expect(await run(s.page, 180_000)).toMatch(/^done/);
    await s.page.click('[data-testid="tab-passkey"]');
    await s.page.waitForSelector('[data-testid="passkey-0"]');
    const rows = await s.page.locator('[data-testid="passkey-0"] tbody th').allTextContents();
    expect(rows).toEqual(['384', '512', '768']);
    const head = await s.page.locator('[data-testid="passkey-0"] thead th').allTextContents();
    expect(head.slice(1)).toEqual(['0%', '50%', '100%']);
    const acc = (await s.page.locator('[data-testid="passkey-0"] td').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-accuracy')))));
    expect(acc).toHaveLength(9);
    for (const a of acc) expect(a >= 0 && a <= 1).toBe(true);
    await shot(s.page, 'passkey-heatmap');
    expect(s.errors).toEqual([]);
  });
});
