// Running and profiling: an example on wasm and on WebGPU (SwiftShader here), real numbers in the
// overlays, the per-node table, metrics and checks, the value preview, heat map, themes.
import { describe, expect, it } from 'vitest';
import { openExample, parseMs, run, selectBackend, selectNode, setParam, shot, useBrowserSession } from './helpers.js';

const s = useBrowserSession({
  theme: 'dark',
  setup: (page) => openExample(page, 'flash-vs-naive.json'),
});

async function badgeMs(id: string): Promise<number> {
  return parseMs((await s.page.textContent(`[data-testid="ms-${id}"]`)) ?? '');
}

describe('run and profile', () => {
  it('runs on wasm and shows real numbers on the nodes', async () => {
    await selectBackend(s.page, 'wasm');
    const status = await run(s.page);
    expect(status).toMatch(/^done in/);
    for (const id of ['naive', 'flash']) {
      expect(await s.page.getAttribute(`[data-testid="node-${id}"]`, 'data-status')).toBe('done');
      expect(await badgeMs(id)).toBeGreaterThan(0);
      expect(await s.page.textContent(`[data-testid="peak-${id}"]`)).toMatch(/\d(\.\d)?[KMG]$/);
    }
    expect(await s.page.textContent('[data-testid="backend-info"]')).toMatch(/wasm/);
    await shot(s.page, 'run-wasm');
  });

  it('lists every node in the sortable table, and the compare metrics and checks', async () => {
    await s.page.click('[data-testid="tab-table"]');
    const rows = s.page.locator('[data-testid="node-table"] tbody tr');
    expect(await rows.count()).toBe(6);
    // One click sorts by time, slowest first.
    await s.page.click('[data-testid="node-table"] th:text-is("ms")');
    const first = await rows.first().locator('td').first().textContent();
    expect(['naive', 'flash']).toContain(first);
    await shot(s.page, 'node-table');
    await s.page.click('[data-testid="tab-metrics"]');
    const maxAbs = Number(await s.page.textContent('[data-testid="metrics-cmp"] [data-testid="metric-maxAbs"]'));
    expect(maxAbs).toBeLessThan(1e-5);
    expect(await s.page.textContent('[data-testid="checks"]')).toContain('cmp.maxAbs');
  });

  it('previews a value: shape, stats, histogram; heat maps per head for a probe', async () => {
    await s.page.locator('.edge-label', { hasText: '8×1024×64 f32' }).first().click();
    await s.page.waitForSelector('[data-testid="preview-stats"]');
    expect(await s.page.textContent('[data-testid="preview-shape"]')).toBe('8×1024×64 f32');
    expect(await s.page.locator('[data-testid="histogram"] rect').count()).toBeGreaterThan(10);
    await shot(s.page, 'preview');
  });

  it('colours nodes as a heat map by latency', async () => {
    await s.page.selectOption('[data-testid="heat"]', 'ms');
    await expect.poll(() => s.page.locator('.pnode.heat').count()).toBeGreaterThan(3);
    await s.page.click('[data-testid="tab-timeline"]');
    await shot(s.page, 'heatmap-timeline');
    await s.page.selectOption('[data-testid="heat"]', 'off');
  });

  it('re-runs from the cache: unchanged nodes are cached', async () => {
    await run(s.page);
    expect(await s.page.getAttribute('[data-testid="node-flash"]', 'data-status')).toBe('cached');
  });

  it('runs on WebGPU and reports the adapter', async () => {
    // A smaller workload: SwiftShader runs WebGPU on the CPU.
    await selectNode(s.page, 'qkv');
    await setParam(s.page, 'seqLen', '256');
    await selectBackend(s.page, 'webgpu');
    const info = (await s.page.textContent('[data-testid="backend-info"]')) ?? '';
    expect(info).toMatch(/webgpu/);
    const status = await run(s.page, 110_000);
    expect(status).toMatch(/^done in/);
    expect(await badgeMs('flash')).toBeGreaterThan(0);
    expect(await badgeMs('naive')).toBeGreaterThan(0);
    await s.page.click('[data-testid="tab-memory"]');
    await s.page.waitForSelector('[data-testid="memory-chart"] canvas');
    await shot(s.page, 'run-webgpu-memory');
    expect(s.errors).toEqual([]);
  });

  it('looks right in the light theme', async () => {
    await s.page.click('[data-testid="theme"]');
    await s.page.click('[data-testid="tab-table"]');
    await shot(s.page, 'light-theme');
    await s.page.click('[data-testid="theme"]');
  });
});
