// The model-memory view: Llama-3.1-8B's plan as stacked bars, and the longest context that fits a
// budget the user types, from the planner the model.memory node runs.
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

describe('model memory view', () => {
  it('draws each plan and answers "what context fits in this budget"', async () => {
    await openExample(page, 'llama-kv-sizing.json');
    expect(await run(page)).toMatch(/^done/);
    await page.evaluate(() => (window as unknown as { ctxlab_app: { ui: { set(p: object): void } } }).ctxlab_app.ui.set({ panelHeight: 440 }));
    await page.click('[data-testid="tab-model-memory"]');
    await page.waitForSelector('[data-testid="model-memory-view"]');
    // bf16 at 128K: 24 GiB holds 72,472 tokens after the weights and activations
    await page.waitForFunction(() => document.querySelector('[data-testid="model-memory-fit-0"]')?.textContent?.includes('72,472 tokens'));
    await shot(page, 'model-memory');
    await page.fill('[data-testid="model-memory-budget"]', '80GiB');
    await page.waitForFunction(() => document.querySelector('[data-testid="model-memory-fit-0"]')?.textContent?.includes('beyond max_position_embeddings'));
    expect(s.errors).toEqual([]);
  });
});
