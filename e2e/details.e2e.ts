// Details a new user trips over: search that puts the meant node first, a connection that replaces
// an edge saying so (undoable), a label that quotes a param following it, and the layout of a
// 1024×700 window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { blank, connect, edgeCount, launch, open, openExample, selectNode, setParam, shot, type Session } from './helpers.js';

let browser: Browser;
let s: Session;
let page: Page;

beforeAll(async () => {
  browser = await launch();
  s = await open(browser);
  page = s.page;
});
afterAll(async () => {
  await browser?.close();
});

const nodeIds = () => page.locator('.react-flow__node').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));

describe('details', () => {
  it('search ranks by match quality: Enter adds the node the query names', async () => {
    await blank(page);
    // The palette: "rope" means RoPE, not the first family whose summary mentions it.
    await page.fill('[data-testid="palette-search"]', 'rope');
    expect(await page.locator('.pal-item').first().getAttribute('data-testid')).toBe('palette-position/rope');
    await page.press('[data-testid="palette-search"]', 'Enter');
    await page.waitForSelector('[data-testid="node-rope"]');
    await page.fill('[data-testid="palette-search"]', 'save');
    await page.press('[data-testid="palette-search"]', 'Enter');
    await page.waitForSelector('[data-testid="node-npy"]');
    await page.fill('[data-testid="palette-search"]', '');
    // Quick add: "mamba" means the Mamba block, not the selective scan inside it.
    const canvas = (await page.locator('[data-testid="canvas"]').boundingBox())!;
    await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
    await page.mouse.move(canvas.x + 200, canvas.y + 100);
    await page.keyboard.press('/');
    await page.keyboard.type('mamba');
    expect(await page.locator('[data-testid="quick-add"] [role="option"]').first().textContent()).toMatch(/^Mamba block/);
    await shot(page, 'quick-add-ranked');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="node-mamba-block"]');
    expect((await nodeIds()).sort()).toEqual(['mamba-block', 'npy', 'rope']);
  });

  it('says so when a connection replaces the edge into an input, and undoes it in one click', async () => {
    await openExample(page, 'flash-vs-naive.json');
    const edges = await edgeCount(page);
    await connect(page, 'qkv', 'k', 'naive', 'q');
    await expect.poll(() => page.locator('[data-testid="toast"]').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('naive.q was fed by qkv.q: replaced by qkv.k')]),
    );
    expect(await edgeCount(page)).toBe(edges);
    await shot(page, 'edge-replaced');
    await page.click('[data-testid="toast-action"]');
    await expect.poll(() => page.evaluate(() => (window as unknown as { ctxlab_app: { editor: { doc(): { edges: { from: string; to: string }[] } } } }).ctxlab_app.editor.doc().edges.find((e) => e.to === 'naive.q')?.from)).toBe('qkv.q');
  });

  it('keeps a label that quotes a param in step with it', async () => {
    await openExample(page, 'flash-memory.json');
    const long = page.locator('.react-flow__node', { hasText: 'T = 2048' });
    const id = (await long.getAttribute('data-id'))!;
    await selectNode(page, id);
    await setParam(page, 'seqLen', '16384');
    await expect.poll(() => page.textContent(`[data-testid="node-${id}"] .pnode-id`)).toBe(`T = 16384 · ${id}`);
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.textContent(`[data-testid="node-${id}"] .pnode-id`)).toBe(`T = 2048 · ${id}`);
  });

  it('lays out a 1024×700 window: nothing overlaps, every tab reachable, the canvas uncovered', async () => {
    const small = await open(browser, { width: 1024, height: 700 });
    try {
      const p = small.page;
      await openExample(p, 'flash-vs-naive.json');
      await p.waitForTimeout(400);
      const box = async (sel: string) => (await p.locator(sel).boundingBox())!;
      // The top bar: the document name ends before the backend selector starts; nothing leaves the window.
      const name = await box('.docname');
      const backend = await box('[data-testid="backend"]');
      expect(name.x + name.width).toBeLessThanOrEqual(backend.x);
      for (const sel of ['.topbar .btn[aria-label="Keyboard shortcuts"]', '[data-testid="run"]']) {
        const b = await box(sel);
        expect(b.x + b.width).toBeLessThanOrEqual(1024);
      }
      // The Problems tab can be reached: opening it scrolls it into the bottom panel's view.
      await p.evaluate(() => (window as unknown as { ctxlab_app: { ui: { showTab(t: string): void } } }).ctxlab_app.ui.showTab('problems'));
      const tab = await box('[data-testid="tab-problems"]');
      const center = await box('.center');
      expect(tab.x).toBeGreaterThanOrEqual(center.x);
      expect(tab.x + tab.width).toBeLessThanOrEqual(center.x + center.width);
      // No minimap over a canvas this small.
      expect(await p.locator('.react-flow__minimap').count()).toBe(0);
      await shot(p, 'layout-1024x700');
      expect(small.errors).toEqual([]);
    } finally {
      await small.context.close();
    }
    expect(s.errors).toEqual([]);
  });
});
