// Details a new user trips over: search that puts the meant node first, a connection that replaces
// an edge saying so (undoable), a label that quotes a param following it, and the layout of a
// 1024×700 window.
import { describe, expect, it } from 'vitest';
import { blank, connect, edgeCount, open, openExample, selectNode, setParam, shot, useBrowserSession } from './helpers.js';

const s = useBrowserSession();

const nodeIds = () => s.page.locator('.react-flow__node').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));

describe('details', () => {
  it('search ranks by match quality: Enter adds the node the query names', async () => {
    await blank(s.page);
    // The palette: "rope" means RoPE, not the first family whose summary mentions it.
    await s.page.fill('[data-testid="palette-search"]', 'rope');
    expect(await s.page.locator('.pal-item').first().getAttribute('data-testid')).toBe('palette-position/rope');
    await s.page.press('[data-testid="palette-search"]', 'Enter');
    await s.page.waitForSelector('[data-testid="node-rope"]');
    await s.page.fill('[data-testid="palette-search"]', 'save');
    await s.page.press('[data-testid="palette-search"]', 'Enter');
    await s.page.waitForSelector('[data-testid="node-npy"]');
    await s.page.fill('[data-testid="palette-search"]', '');
    // Quick add: "mamba" means the Mamba block, not the selective scan inside it.
    const canvas = (await s.page.locator('[data-testid="canvas"]').boundingBox())!;
    await s.page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
    await s.page.mouse.move(canvas.x + 200, canvas.y + 100);
    await s.page.keyboard.press('/');
    await s.page.keyboard.type('mamba');
    expect(await s.page.locator('[data-testid="quick-add"] [role="option"]').first().textContent()).toMatch(/^Mamba block/);
    await shot(s.page, 'quick-add-ranked');
    await s.page.keyboard.press('Enter');
    await s.page.waitForSelector('[data-testid="node-mamba-block"]');
    expect((await nodeIds()).sort()).toEqual(['mamba-block', 'npy', 'rope']);
  });

  it('says so when a connection replaces the edge into an input, and undoes it in one click', async () => {
    await openExample(s.page, 'flash-vs-naive.json');
    const edges = await edgeCount(s.page);
    await connect(s.page, 'qkv', 'k', 'naive', 'q');
    await expect.poll(() => s.page.locator('[data-testid="toast"]').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('naive.q was fed by qkv.q: replaced by qkv.k')]),
    );
    expect(await edgeCount(s.page)).toBe(edges);
    await shot(s.page, 'edge-replaced');
    await s.page.click('[data-testid="toast-action"]');
    await expect.poll(() => s.page.evaluate(() => (window as unknown as { ctxlab_app: { editor: { doc(): { edges: { from: string; to: string }[] } } } }).ctxlab_app.editor.doc().edges.find((e) => e.to === 'naive.q')?.from)).toBe('qkv.q');
  });

  it('keeps a label that quotes a param in step with it', async () => {
    await openExample(s.page, 'flash-memory.json');
    const long = s.page.locator('.react-flow__node', { hasText: 'T = 2048' });
    const id = (await long.getAttribute('data-id'))!;
    await selectNode(s.page, id);
    await setParam(s.page, 'seqLen', '16384');
    await expect.poll(() => s.page.textContent(`[data-testid="node-${id}"] .pnode-id`)).toBe(`T = 16384 · ${id}`);
    await s.page.keyboard.press('Control+z');
    await expect.poll(() => s.page.textContent(`[data-testid="node-${id}"] .pnode-id`)).toBe(`T = 2048 · ${id}`);
  });

  it('lays out a 1024×700 window: nothing overlaps, every tab reachable, the canvas uncovered', async () => {
    const small = await open(s.browser, { width: 1024, height: 700 });
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
