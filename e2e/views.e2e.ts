// Views that only some nodes have: attention probe heat maps, the KV-cache eviction timeline,
// position-encoder frequencies.
import { describe, expect, it } from 'vitest';
import { openExample, run, selectBackend, shot, useBrowserSession } from './helpers.js';

const s = useBrowserSession({ height: 1000 });

async function tallPanel() {
  await s.page.evaluate(() => (window as unknown as { ctxlab_app: { ui: { set(p: object): void } } }).ctxlab_app.ui.set({ panelHeight: 440 }));
}

describe('views', () => {
  it('shows an attention probe as heat maps per head', async () => {
    await openExample(s.page, 'sparse-attention.json');
    await selectBackend(s.page, 'wasm');
    expect(await run(s.page)).toMatch(/^done/);
    await tallPanel();
    // Zoomed out this far, nodes draw without port names: pick the port in the inspector.
    await s.page.locator('[data-testid="node-exact"] .pnode-head').click();
    await s.page.locator('[data-testid="inspector"] button.link', { hasText: 'probe' }).click();
    await s.page.waitForSelector('[data-testid="heatmaps"] canvas');
    expect(await s.page.locator('[data-testid="heatmaps"] figure').count()).toBeGreaterThan(1);
    await shot(s.page, 'probe-heatmaps');
  });

  it('shows what a KV cache holds at every step, and the position encoders', async () => {
    await openExample(s.page, 'streaming-llm.json');
    expect(await run(s.page)).toMatch(/^done/);
    await tallPanel();
    await s.page.click('[data-testid="tab-kv"]');
    await s.page.waitForSelector('[data-testid="kv-eviction"]');
    // One eviction view per KV-cache node of the example.
    const caches = await s.page.evaluate(() => (window as unknown as { ctxlab_app: { editor: { doc(): { nodes: { type: string }[] } } } }).ctxlab_app.editor.doc().nodes.filter((n) => n.type === 'kv-cache').length);
    expect(caches).toBeGreaterThanOrEqual(3);
    expect(await s.page.locator('[data-testid="kv-eviction"]').count()).toBe(caches);
    await s.page.waitForSelector('[data-testid="kv-memory"] canvas');
    await shot(s.page, 'kv-cache-timeline');
    await s.page.click('[data-testid="tab-position"]');
    await s.page.waitForSelector('[data-testid="position-chart"] canvas');
    expect(s.errors).toEqual([]);
  });

  it('compares RoPE scaling rules', async () => {
    await openExample(s.page, 'rope-scaling.json');
    expect(await run(s.page)).toMatch(/^done/);
    await tallPanel();
    await s.page.click('[data-testid="tab-position"]');
    await s.page.waitForSelector('[data-testid="position-chart"] canvas');
    expect(await s.page.textContent('[data-testid="position-view"]')).toContain('yarn');
    await shot(s.page, 'rope-scaling');
    expect(s.errors).toEqual([]);
  });
});
