// Building a pipeline by hand: drag from the palette, connect, a refused edge, params, undo/redo,
// copy/paste, delete, layout.
import { describe, expect, it } from 'vitest';
import { blank, connect, dragFromPalette, edgeCount, selectNode, setParam, shot, useBrowserSession } from './helpers.js';

const s = useBrowserSession({
  theme: 'dark',
  setup: (page) => blank(page),
});

describe('editing', () => {
  it('builds a pipeline by drag and drop', async () => {
    const canvas = (await s.page.locator('[data-testid="canvas"]').boundingBox())!;
    await dragFromPalette(s.page, 'source.synthetic-qkv', canvas.x + 180, canvas.y + 220);
    await dragFromPalette(s.page, 'attention/flash', canvas.x + 540, canvas.y + 110);
    await dragFromPalette(s.page, 'attention/naive', canvas.x + 540, canvas.y + 400);
    await expect.poll(() => s.page.locator('.react-flow__node').count()).toBe(3);
    // Ids come from the type or variant.
    for (const id of ['synthetic-qkv', 'flash', 'naive']) await s.page.waitForSelector(`[data-testid="node-${id}"]`);
  });

  it('connects ports and labels edges with the inferred shapes', async () => {
    for (const p of ['q', 'k', 'v']) await connect(s.page, 'synthetic-qkv', p, 'flash', p);
    for (const p of ['q', 'k', 'v']) await connect(s.page, 'synthetic-qkv', p, 'naive', p);
    expect(await edgeCount(s.page)).toBe(6);
    // Default synthetic workload: 8 heads, 1024 tokens, head dim 64.
    await expect.poll(() => s.page.locator('.edge-label').allTextContents()).toContain('8×1024×64 f32');
  });

  it('refuses an invalid edge with the compiler reason', async () => {
    let hint = '';
    await connect(s.page, 'synthetic-qkv', 'q', 'naive', 'bias', {
      hold: async (p) => {
        hint = (await p.locator('[data-testid="connect-hint"]').textContent({ timeout: 3000 })) ?? '';
        await shot(p, 'refused-edge');
      },
    });
    expect(hint).toContain('a tensor output cannot feed a bias input');
    expect(await edgeCount(s.page)).toBe(6);
    await expect.poll(() => s.page.locator('[data-testid="toast"]').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('Refused')]));
  });

  it('edits params: edge labels follow, invalid input is marked inline', async () => {
    await selectNode(s.page, 'synthetic-qkv');
    await setParam(s.page, 'seqLen', '512');
    await expect.poll(() => s.page.locator('.edge-label').allTextContents()).toContain('8×512×64 f32');
    await setParam(s.page, 'heads', '0');
    await expect(s.page.locator('[data-testid="param-heads"]').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(s.page.locator('.field-error').first().textContent()).resolves.toMatch(/>=?\s*1|too small/i);
    await setParam(s.page, 'heads', '4');
    await expect.poll(() => s.page.locator('.edge-label').allTextContents()).toContain('4×512×64 f32');
  });

  it('switches the variant, keeping the params that still apply', async () => {
    await selectNode(s.page, 'flash');
    await s.page.locator('[data-testid="param-causal"]').uncheck();
    await s.page.selectOption('[data-testid="param-variant"]', 'naive');
    await expect(s.page.locator('[data-testid="param-causal"]').isChecked()).resolves.toBe(false);
    await s.page.selectOption('[data-testid="param-variant"]', 'flash');
  });

  it('undoes and redoes: a param edit is one step', async () => {
    const labels = () => s.page.locator('.edge-label').allTextContents();
    await s.page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
    // The last edits: heads 0 → 4, then the variant and causal changes. Undo them back to heads 0 (invalid).
    await s.page.keyboard.press('Control+z'); // variant flash
    await s.page.keyboard.press('Control+z'); // variant naive
    await s.page.keyboard.press('Control+z'); // causal
    await s.page.keyboard.press('Control+z'); // heads 4
    await expect.poll(labels).not.toContain('4×512×64 f32');
    await s.page.keyboard.press('Control+z'); // heads 0
    await expect.poll(labels).toContain('8×512×64 f32');
    await s.page.keyboard.press('Control+Shift+z');
    await s.page.keyboard.press('Control+Shift+z');
    await expect.poll(labels).toContain('4×512×64 f32');
  });

  it('adds a node from the keyboard (quick add)', async () => {
    const canvas = (await s.page.locator('[data-testid="canvas"]').boundingBox())!;
    await s.page.mouse.move(canvas.x + 300, canvas.y + canvas.height - 120);
    await s.page.keyboard.press('/');
    await s.page.waitForSelector('[data-testid="quick-add"]');
    await s.page.keyboard.type('compare');
    await s.page.keyboard.press('Enter');
    await s.page.waitForSelector('[data-testid="node-compare"]');
    await s.page.keyboard.press('Control+z');
    await s.page.waitForSelector('[data-testid="node-compare"]', { state: 'detached' });
  });

  it('copies the selection as pipeline JSON and pastes it back', async () => {
    await s.page.locator('[data-testid="node-naive"] .pnode-head').click();
    const copied = await s.page.evaluate(() => {
      const dt = new DataTransfer();
      document.dispatchEvent(new ClipboardEvent('copy', { clipboardData: dt, bubbles: true, cancelable: true }));
      return dt.getData('text/plain');
    });
    const doc = JSON.parse(copied);
    expect(doc.format).toBe('context-lab/pipeline');
    expect(doc.nodes.map((n: { id: string }) => n.id)).toEqual(['naive']);
    await s.page.evaluate((text) => {
      const dt = new DataTransfer();
      dt.setData('text/plain', text);
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, copied);
    await s.page.waitForSelector('[data-testid="node-naive_2"]');
    await s.page.keyboard.press('Control+z');
    await s.page.waitForSelector('[data-testid="node-naive_2"]', { state: 'detached' });
  });

  it('duplicates, deletes and lays out', async () => {
    await selectNode(s.page, 'naive');
    await s.page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
    await s.page.locator('[data-testid="node-naive"] .pnode-head').click();
    await s.page.keyboard.press('Control+d');
    await expect.poll(() => s.page.locator('.react-flow__node').count()).toBe(4);
    await s.page.keyboard.press('Delete');
    await expect.poll(() => s.page.locator('.react-flow__node').count()).toBe(3);
    await s.page.keyboard.press('l');
    await s.page.waitForTimeout(600);
    await shot(s.page, 'editor-built');
    expect(s.errors).toEqual([]);
  });
});
