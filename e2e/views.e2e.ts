// Views that only some nodes have: attention probe heat maps, the KV-cache eviction timeline,
// position-encoder frequencies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launch, open, openExample, run, selectBackend, shot, type Session } from './helpers.js';

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

async function tallPanel(page: Page) {
  await page.evaluate(() => (window as unknown as { ctxlab_app: { ui: { set(p: object): void } } }).ctxlab_app.ui.set({ panelHeight: 440 }));
}

describe('views', () => {
  it('shows an attention probe as heat maps per head', async () => {
    await openExample(page, 'sparse-attention.json');
    await selectBackend(page, 'wasm');
    expect(await run(page)).toMatch(/^done/);
    await tallPanel(page);
    // Zoomed out this far, nodes draw without port names: pick the port in the inspector.
    await page.locator('[data-testid="node-exact"] .pnode-head').click();
    await page.locator('[data-testid="inspector"] button.link', { hasText: 'probe' }).click();
    await page.waitForSelector('[data-testid="heatmaps"] canvas');
    expect(await page.locator('[data-testid="heatmaps"] figure').count()).toBeGreaterThan(1);
    await shot(page, 'probe-heatmaps');
  });

  it('shows what a KV cache holds at every step, and the position encoders', async () => {
    await openExample(page, 'streaming-llm.json');
    expect(await run(page)).toMatch(/^done/);
    await tallPanel(page);
    await page.click('[data-testid="tab-kv"]');
    await page.waitForSelector('[data-testid="kv-eviction"]');
    // One eviction view per KV-cache node of the example.
    const caches = await page.evaluate(() => (window as unknown as { ctxlab_app: { editor: { doc(): { nodes: { type: string }[] } } } }).ctxlab_app.editor.doc().nodes.filter((n) => n.type === 'kv-cache').length);
    expect(caches).toBeGreaterThanOrEqual(3);
    expect(await page.locator('[data-testid="kv-eviction"]').count()).toBe(caches);
    await page.waitForSelector('[data-testid="kv-memory"] canvas');
    await shot(page, 'kv-cache-timeline');
    await page.click('[data-testid="tab-position"]');
    await page.waitForSelector('[data-testid="position-chart"] canvas');
    expect(s.errors).toEqual([]);
  });

  it('compares RoPE scaling rules', async () => {
    await openExample(page, 'rope-scaling.json');
    expect(await run(page)).toMatch(/^done/);
    await tallPanel(page);
    await page.click('[data-testid="tab-position"]');
    await page.waitForSelector('[data-testid="position-chart"] canvas');
    expect(await page.textContent('[data-testid="position-view"]')).toContain('yarn');
    await shot(page, 'rope-scaling');
    expect(s.errors).toEqual([]);
  });
});
