// Running and profiling: an example on wasm and on WebGPU (SwiftShader here), real numbers in the
// overlays, the per-node table, metrics and checks, the value preview, heat map, themes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launch, open, openExample, parseMs, run, selectBackend, selectNode, setParam, shot, type Session } from './helpers.js';

let browser: Browser;
let s: Session;
let page: Page;

beforeAll(async () => {
  browser = await launch();
  s = await open(browser, { theme: 'dark' });
  page = s.page;
  await openExample(page, 'flash-vs-naive.json');
});
afterAll(async () => {
  await browser?.close();
});

async function badgeMs(id: string): Promise<number> {
  return parseMs((await page.textContent(`[data-testid="ms-${id}"]`)) ?? '');
}

describe('run and profile', () => {
  it('runs on wasm and shows real numbers on the nodes', async () => {
    await selectBackend(page, 'wasm');
    const status = await run(page);
    expect(status).toMatch(/^done in/);
    for (const id of ['naive', 'flash']) {
      expect(await page.getAttribute(`[data-testid="node-${id}"]`, 'data-status')).toBe('done');
      expect(await badgeMs(id)).toBeGreaterThan(0);
      expect(await page.textContent(`[data-testid="peak-${id}"]`)).toMatch(/\d(\.\d)?[KMG]$/);
    }
    expect(await page.textContent('[data-testid="backend-info"]')).toMatch(/wasm/);
    await shot(page, 'run-wasm');
  });

  it('lists every node in the sortable table, and the compare metrics and checks', async () => {
    await page.click('[data-testid="tab-table"]');
    const rows = page.locator('[data-testid="node-table"] tbody tr');
    expect(await rows.count()).toBe(6);
    // One click sorts by time, slowest first.
    await page.click('[data-testid="node-table"] th:text-is("ms")');
    const first = await rows.first().locator('td').first().textContent();
    expect(['naive', 'flash']).toContain(first);
    await shot(page, 'node-table');
    await page.click('[data-testid="tab-metrics"]');
    const maxAbs = Number(await page.textContent('[data-testid="metrics-cmp"] [data-testid="metric-maxAbs"]'));
    expect(maxAbs).toBeLessThan(1e-5);
    expect(await page.textContent('[data-testid="checks"]')).toContain('cmp.maxAbs');
  });

  it('previews a value: shape, stats, histogram; heat maps per head for a probe', async () => {
    await page.locator('.edge-label', { hasText: '8×1024×64 f32' }).first().click();
    await page.waitForSelector('[data-testid="preview-stats"]');
    expect(await page.textContent('[data-testid="preview-shape"]')).toBe('8×1024×64 f32');
    expect(await page.locator('[data-testid="histogram"] rect').count()).toBeGreaterThan(10);
    await shot(page, 'preview');
  });

  it('colours nodes as a heat map by latency', async () => {
    await page.selectOption('[data-testid="heat"]', 'ms');
    await expect.poll(() => page.locator('.pnode.heat').count()).toBeGreaterThan(3);
    await page.click('[data-testid="tab-timeline"]');
    await shot(page, 'heatmap-timeline');
    await page.selectOption('[data-testid="heat"]', 'off');
  });

  it('re-runs from the cache: unchanged nodes are cached', async () => {
    await run(page);
    expect(await page.getAttribute('[data-testid="node-flash"]', 'data-status')).toBe('cached');
  });

  it('runs on WebGPU and reports the adapter', async () => {
    // A smaller workload: SwiftShader runs WebGPU on the CPU.
    await selectNode(page, 'qkv');
    await setParam(page, 'seqLen', '256');
    await selectBackend(page, 'webgpu');
    const info = (await page.textContent('[data-testid="backend-info"]')) ?? '';
    expect(info).toMatch(/webgpu/);
    const status = await run(page, 110_000);
    expect(status).toMatch(/^done in/);
    expect(await badgeMs('flash')).toBeGreaterThan(0);
    expect(await badgeMs('naive')).toBeGreaterThan(0);
    await page.click('[data-testid="tab-memory"]');
    await page.waitForSelector('[data-testid="memory-chart"] canvas');
    await shot(page, 'run-webgpu-memory');
    expect(s.errors).toEqual([]);
  });

  it('looks right in the light theme', async () => {
    await page.click('[data-testid="theme"]');
    await page.click('[data-testid="tab-table"]');
    await shot(page, 'light-theme');
    await page.click('[data-testid="theme"]');
  });
});
