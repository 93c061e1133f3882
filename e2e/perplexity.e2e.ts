// The perplexity view: pipelines/perplexity-by-length.json (a tiny Llama scored by two eval.perplexity
// branches, the config's RoPE and a dynamic-NTK override) run in the editor, one line per branch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launch, open, openExample, run, shot, type Session } from './helpers.js';

let browser: Browser;
let s: Session;
let page: Page;

beforeAll(async () => {
  browser = await launch();
  s = await open(browser, { height: 1000 });
  page = s.page;
});
afterAll(async () => {
  await browser?.close();
});

describe('perplexity view', () => {
  it('plots perplexity against length, one line per eval.perplexity branch', async () => {
    await openExample(page, 'perplexity-by-length.json');
    const status = await run(page, 180_000);
    if (!/^done/.test(status)) {
      await page.click('[data-testid="tab-problems"]');
      for (const id of ['text', 'tok', 'model', 'rope', 'dynamic']) console.log('DEBUG', id, await page.getAttribute(`[data-testid="node-${id}"]`, 'data-status'), await page.locator(`[data-testid="error-${id}"]`).textContent({ timeout: 500 }).catch(() => ''));
    }
    expect(status).toMatch(/^done/);
    await page.evaluate(() => (window as unknown as { ctxlab_app: { ui: { set(p: object): void } } }).ctxlab_app.ui.set({ panelHeight: 440 }));
    await page.click('[data-testid="tab-perplexity"]');
    await page.waitForSelector('[data-testid="perplexity-chart"] canvas');
    // uPlot's legend lists one series per branch; the table one row per branch, a column per length.
    const legend = await page.locator('[data-testid="perplexity-chart"] .u-legend .u-series .u-label').allTextContents();
    expect(legend).toEqual(['length', 'rope', 'dynamic · rope dynamic']);
    const rows = await page.locator('[data-testid="perplexity-table"] tbody tr').allTextContents();
    expect(rows).toHaveLength(2);
    const head = await page.locator('[data-testid="perplexity-table"] thead th').allTextContents();
    expect(head.slice(1)).toEqual(['32', '64', '128']);
    // Within the trained length (64) the branches agree; every cell holds a perplexity.
    const cells = async (r: number) => (await page.locator(`[data-testid="perplexity-table"] tbody tr:nth-child(${r}) td`).allTextContents()).slice(1);
    const [a, b] = [await cells(1), await cells(2)];
    expect(a.slice(0, 2)).toEqual(b.slice(0, 2));
    for (const c of [...a, ...b]) expect(Number(c)).toBeGreaterThan(1);
    await shot(page, 'perplexity-by-length');
    expect(s.errors).toEqual([]);
  });
});
