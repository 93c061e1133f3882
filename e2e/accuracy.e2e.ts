// The accuracy overlay: toggled on an example, each approximate node gets its error against the
// exact computation on the same inputs (measured on the cpu backend), and the inspector the numbers.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { dropPipeline, openExample, run, selectBackend, selectNode, setParam, shot, useBrowserSession } from './helpers.js';

const s = useBrowserSession({ height: 1000 });

type AppHandle = { metrics: { get(): { nodes: Record<string, { outputs?: { metrics?: { metrics?: Record<string, unknown> } } }> } } };

describe('accuracy overlay', () => {
  it('colours approximate attention by its error against exact attention and shows the numbers', async () => {
    await openExample(s.page, 'sparse-attention.json');
    await s.page.click('[data-testid="accuracy-toggle"]');
    await s.page.waitForFunction(() => /nodes? · .* on cpu/.test(document.querySelector('[data-testid="accuracy-status"]')?.textContent ?? ''), null, { timeout: 240_000 });
    // Approximate kernels get a badge; exact ones (naive, flash-decoding) do not.
    await s.page.waitForSelector('[data-testid="acc-window_16"]', { state: 'attached' }); // hidden while zoomed far out: the outline shows it
    expect(await s.page.locator('[data-testid="acc-flash_decoding"]').count()).toBe(0);
    expect(await s.page.locator('[data-testid="acc-exact"]').count()).toBe(0);
    expect(await s.page.locator('.acc-badge').count()).toBe(12);

    await selectNode(s.page, 'window_16');
    const section = s.page.locator('[data-testid="inspector-accuracy"]');
    await section.waitFor();
    const rel16 = parsePercentOrExp(await section.locator('[data-testid="acc-rel-out"]').textContent());
    const cos16 = Number(await section.locator('[data-testid="acc-cos-out"]').textContent());
    expect(rel16).toBeGreaterThan(1e-3);
    expect(cos16).toBeGreaterThan(0);
    expect(cos16).toBeLessThan(1);
    expect(await section.textContent()).toMatch(/exact \(cpu\)/);

    // A wider window is closer to exact attention.
    await selectNode(s.page, 'window_256');
    const rel256 = parsePercentOrExp(await section.locator('[data-testid="acc-rel-out"]').textContent());
    expect(rel256).toBeLessThan(rel16);

    // The overlay's max-abs error agrees with the pipeline's own compare node (against naive attention).
    await selectBackend(s.page, 'cpu');
    expect(await run(s.page, 240_000)).toMatch(/^done/);
    const compared = await s.page.evaluate(() => (window as unknown as { ctxlab_app: AppHandle }).ctxlab_app.metrics.get().nodes.err_window_16?.outputs?.metrics?.metrics?.maxAbs as number | undefined);
    await selectNode(s.page, 'window_16');
    const tip = await s.page.locator('[data-testid="acc-window_16"]').getAttribute('title');
    const maxAbs = Number(/max ([\d.e+-]+)/.exec(tip ?? '')?.[1]);
    expect(compared).toBeGreaterThan(0);
    expect(Math.abs(maxAbs - compared!) / compared!).toBeLessThan(2e-3);

    // Editing the pipeline makes the figures stale until they are measured again.
    await setParam(s.page, 'window', '32');
    await s.page.waitForFunction(() => document.querySelector('[data-testid="accuracy-status"]')?.textContent === 'changed');
    expect(await s.page.locator('[data-testid="acc-window_16"]').count()).toBe(0);
    expect(s.errors).toEqual([]);
  }, 420_000); // twelve approximations and their exact sibling at T = 1024 on cpu, then the example itself: 100–120 s on the shared 2-core machine

  it("agrees with each quantizer's own SQNR: relative error = 10^(−SQNR/20)", async () => {
    await openExample(s.page, 'quantize.json');
    await selectBackend(s.page, 'cpu');
    expect(await run(s.page)).toMatch(/^done/);
    if (!(await s.page.locator('[data-testid="accuracy-toggle"][aria-pressed="true"]').count())) await s.page.click('[data-testid="accuracy-toggle"]');
    else await s.page.click('[data-testid="accuracy-recompute"]');
    await s.page.waitForFunction(() => /8 nodes · .* on cpu/.test(document.querySelector('[data-testid="accuracy-status"]')?.textContent ?? ''), null, { timeout: 120_000 });
    for (const id of ['int8_tensor', 'g4', 'g2', 'nf4']) {
      const sqnr = await s.page.evaluate((n) => (window as unknown as { ctxlab_app: AppHandle }).ctxlab_app.metrics.get().nodes[n]?.outputs?.metrics?.metrics?.sqnrDb as number | undefined, id);
      await selectNode(s.page, id);
      const rel = parsePercentOrExp(await s.page.locator('[data-testid="inspector-accuracy"] [data-testid="acc-rel-out"]').textContent());
      expect(Math.abs(rel - 10 ** (-sqnr! / 20)) / rel, id).toBeLessThan(5e-3);
    }
    await selectNode(s.page, 'g2');
    // The screenshot: the canvas without the bottom panel, fitted, so the badges read.
    await s.page.evaluate(() => (window as unknown as { ctxlab_app: { ui: { set(p: object): void } } }).ctxlab_app.ui.set({ panelOpen: false }));
    await s.page.evaluate(() => window.dispatchEvent(new Event('ctxlab:fit')));
    await s.page.waitForTimeout(400);
    await shot(s.page, 'accuracy-overlay');
    expect(s.errors).toEqual([]);
  });
});

describe('accuracy overlay: masks and evaluations', () => {
  it('shows what the window mask costs: PCW attention against the same kernel without the mask', async () => {
    await openExample(s.page, 'pcw.json');
    await measure(s.page, /2 nodes · .* on cpu/);
    for (const id of ['naive', 'flash']) {
      await selectNode(s.page, id);
      const section = s.page.locator('[data-testid="inspector-accuracy"]');
      expect(await section.textContent()).toContain(`Attention · ${id} on the same inputs without "bias" (windows.bias)`);
      // Three windows of 256 among 832 tokens hide most keys from most queries: far from full attention.
      expect(parsePercentOrExp(await section.locator('[data-testid="acc-rel-out"]').textContent())).toBeGreaterThan(1e-2);
    }
    expect(s.errors).toEqual([]);
  }, 180_000);

  it("compares an evaluation's perplexity with the same evaluation using exact attention", async () => {
    const evalParams = { lengths: [32, 64], maxWindows: 2 };
    const doc = {
      format: 'context-lab/pipeline',
      version: 1,
      name: 'Perplexity with a sliding window',
      nodes: [
        { id: 'text', type: 'source.text', params: { corpus: 'moby-dick', maxChars: 600 }, position: { x: 0, y: 0 } },
        { id: 'tok', type: 'tokenizer', params: { encoding: 'bytes' }, position: { x: 250, y: 0 } },
        { id: 'model', type: 'model.load', params: { path: 'models/tiny-llama' }, position: { x: 250, y: 200 } },
        { id: 'window', type: 'eval.perplexity', params: { ...evalParams, attention: { variant: 'sliding-window', window: 8, causal: true } }, position: { x: 550, y: 0 } },
        { id: 'full', type: 'eval.perplexity', params: { ...evalParams, attention: { variant: 'naive', causal: true } }, position: { x: 550, y: 250 } },
      ],
      edges: [{ from: 'text.text', to: 'tok.text' }, ...['window', 'full'].flatMap((n) => [{ from: 'tok.tokens', to: `${n}.tokens` }, { from: 'model.model', to: `${n}.model` }])],
    };
    await dropPipeline(s.page, doc, 'window-perplexity.json');
    await selectBackend(s.page, 'cpu');
    expect(await run(s.page, 180_000)).toMatch(/^done/);
    const ppl = (id: string) =>
      s.page.evaluate((n) => (window as unknown as { ctxlab_app: AppHandle }).ctxlab_app.metrics.get().nodes[n]?.outputs?.metrics?.metrics?.perplexity as number[], id);
    const [own, exact] = [await ppl('window'), await ppl('full')];
    await measure(s.page, /^1 node · .* on cpu/);
    // The exact-attention evaluation is exact: no badge.
    expect(await s.page.locator('[data-testid="acc-full"]').count()).toBe(0);
    expect(await s.page.locator('[data-testid="acc-window"]').textContent()).toMatch(/≈ rel .* · max Δ/);
    await selectNode(s.page, 'window');
    const section = s.page.locator('[data-testid="inspector-accuracy"]');
    await section.waitFor();
    const numbers = async (what: string) => (await section.locator(`[data-testid="acc-${what}-metrics.perplexity"]`).textContent())!.split(', ').map(Number);
    // Both sides are what each evaluation computed on its own (4 significant digits shown).
    const [shownOwn, shownExact] = [await numbers('value'), await numbers('exact')];
    shownOwn.forEach((x, i) => expect(Math.abs(x - own[i]!) / own[i]!).toBeLessThan(1e-3));
    shownExact.forEach((x, i) => expect(Math.abs(x - exact[i]!) / exact[i]!).toBeLessThan(1e-3));
    // relative error ‖own − exact‖ / ‖exact‖, and the largest difference, of the perplexities.
    const diff = own.map((x, i) => x - exact[i]!);
    const rel = Math.hypot(...diff) / Math.hypot(...exact);
    expect(rel).toBeGreaterThan(1e-3);
    expect(Math.abs(parsePercentOrExp(await section.locator('[data-testid="acc-rel-metrics.perplexity"]').textContent()) - rel) / rel).toBeLessThan(6e-3); // 3 significant digits shown
    const maxDiff = Math.max(...diff.map(Math.abs));
    expect(Math.abs(Number(await section.locator('[data-testid="acc-abs-metrics.perplexity"]').textContent()) - maxDiff) / maxDiff).toBeLessThan(6e-3);
    expect(s.errors).toEqual([]);
  }, 300_000);
});

/** Turns the overlay on (or measures again when it is on) and waits for the status to match. */
async function measure(page: Page, status: RegExp) {
  if (!(await page.locator('[data-testid="accuracy-toggle"][aria-pressed="true"]').count())) await page.click('[data-testid="accuracy-toggle"]');
  else await page.click('[data-testid="accuracy-recompute"]');
  await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('[data-testid="accuracy-status"]')?.textContent ?? ''), status.source, { timeout: 240_000 });
}

/** "12.3%" or "4.1e-5" → a fraction. */
function parsePercentOrExp(text: string | null): number {
  const t = (text ?? '').trim();
  return t.endsWith('%') ? Number(t.slice(0, -1)) / 100 : Number(t);
}
