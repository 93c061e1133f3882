// Choosing the backend: the default on a machine whose only WebGPU adapter is a software one
// (SwiftShader here), the choice remembered across reloads, Run pressed while the chosen backend is
// still starting (it used to make wasm fall back to cpu for good), and the wasm kernels' thread
// count (auto = the cores; 1 runs the kernels on the engine's thread alone).
import { describe, expect, it } from 'vitest';
import { open, openExample, useBrowser } from './helpers.js';

// Each test opens its own context: the backend choice is remembered per profile.
const chromium = useBrowser();

const status = '[data-testid="run-status"]';
const finished = () => /^(done|failed|cancelled|not run|refused)/.test(document.querySelector('[data-testid="run-status"]')?.textContent ?? '');

describe('backend', () => {
  it('starts on wasm when the only WebGPU adapter is a software one, says why, and remembers a choice', async () => {
    const s = await open(chromium.browser);
    try {
      const { page } = s;
      await openExample(page, 'flash-vs-naive.json');
      await expect.poll(() => page.getAttribute('[data-testid="backend"]', 'title')).toMatch(/software renderer/);
      expect(await page.inputValue('[data-testid="backend"]')).toBe('wasm');
      expect(await page.getAttribute('[data-testid="backend"]', 'title')).toMatch(/swiftshader/i);
      await page.selectOption('[data-testid="backend"]', 'cpu');
      await page.reload();
      await page.waitForSelector('[data-testid="start-screen"]');
      await expect.poll(() => page.inputValue('[data-testid="backend"]')).toBe('cpu');
      expect(await page.getAttribute('[data-testid="backend"]', 'title')).toMatch(/your last choice/);
      expect(s.errors).toEqual([]);
    } finally {
      await s.context.close();
    }
  });

  for (const delay of [0, 300, 1000]) {
    it(`runs on wasm when Run is pressed ${delay} ms after switching to it`, async () => {
      // A fresh page each time: the backends start in a new worker.
      const s = await open(chromium.browser);
      try {
        const { page } = s;
        await openExample(page, 'flash-vs-naive.json');
        // Switching through cpu starts two backends back to back, then Run asks for a third start.
        await page.selectOption('[data-testid="backend"]', 'cpu');
        await page.selectOption('[data-testid="backend"]', 'wasm');
        if (delay) await page.waitForTimeout(delay);
        await page.click('[data-testid="run"]');
        await page.waitForFunction(finished, null, { timeout: 90_000 });
        expect(await page.textContent(status)).toMatch(/^done in/);
        const info = (await page.textContent('[data-testid="backend-info"]')) ?? '';
        expect(info).toMatch(/^wasm/);
        expect(info).not.toMatch(/fell back/);
        for (const id of ['naive', 'flash']) expect(await page.getAttribute(`[data-testid="node-${id}"]`, 'data-status')).toBe('done');
        // And every later run too (the broken state failed every run after the first).
        await page.click('[data-testid="rerun"]');
        await page.waitForFunction(finished, null, { timeout: 90_000 });
        expect(await page.textContent(status)).toMatch(/^done in/);
        expect(s.errors).toEqual([]);
      } finally {
        await s.context.close();
      }
    });
  }

  it('shows that Run waits for the backend it starts', async () => {
    const s = await open(chromium.browser);
    try {
      const { page } = s;
      await openExample(page, 'flash-vs-naive.json');
      // Every status text shown, from before the switch to the end of the run.
      await page.evaluate(() => {
        const seen: string[] = ((window as unknown as { seen: string[] }).seen = []);
        new MutationObserver(() => {
          const t = document.querySelector('[data-testid="run-status"]')?.textContent ?? '';
          if (seen.at(-1) !== t) seen.push(t);
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });
      await page.selectOption('[data-testid="backend"]', 'cpu');
      await page.selectOption('[data-testid="backend"]', 'wasm');
      await page.click('[data-testid="run"]');
      await page.waitForFunction(finished, null, { timeout: 90_000 });
      const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
      expect(seen).toContain('waiting for wasm…');
      expect(seen.at(-1)).toMatch(/^done in/);
    } finally {
      await s.context.close();
    }
  });

  it('wasm threads: auto (the cores) or a count, applied to the kernels, shown with the run, remembered; hidden off wasm', async () => {
    const s = await open(chromium.browser);
    try {
      const { page } = s;
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      const kernelWorkers = async () => (await Promise.all(page.workers().map((w) => w.evaluate('self.name').catch(() => '')))).filter((n) => n === 'wasm-kernel').length;
      const runThreads = () => page.evaluate(() => (window as unknown as { ctxlab_app: { metrics: { get(): { run: { profile?: { backend?: { threads?: number } } } } } } }).ctxlab_app.metrics.get().run.profile?.backend?.threads);
      await openExample(page, 'flash-vs-naive.json');
      await page.selectOption('[data-testid="backend"]', 'wasm');
      await page.waitForSelector('[data-testid="wasm-threads"]');
      expect(await page.inputValue('[data-testid="wasm-threads"]')).toBe('auto');
      expect(await page.textContent('[data-testid="wasm-threads"] option[value="auto"]')).toBe(`${cores}× auto`);

      // 1 thread, before any run: the kernels run on the engine's thread, no kernel worker starts.
      await page.selectOption('[data-testid="wasm-threads"]', '1');
      await page.click('[data-testid="run"]');
      await page.waitForFunction(finished, null, { timeout: 90_000 });
      expect(await page.textContent(status)).toMatch(/^done in/);
      expect(await runThreads()).toBe(1);
      expect(await page.textContent('[data-testid="backend-threads"]')).toBe(' · 1 thread');
      expect(await page.getAttribute('[data-testid="node-flash"]', 'data-status')).toBe('done');
      expect(await kernelWorkers()).toBe(0);

      // Remembered across a reload; back to auto, the run uses every core (threads − 1 kernel workers).
      await page.reload();
      await page.waitForSelector('[data-testid="start-screen"]');
      await expect.poll(() => page.inputValue('[data-testid="wasm-threads"]')).toBe('1');
      await openExample(page, 'flash-vs-naive.json');
      await page.selectOption('[data-testid="wasm-threads"]', 'auto');
      await page.click('[data-testid="run"]');
      await page.waitForFunction(finished, null, { timeout: 90_000 });
      expect(await page.textContent(status)).toMatch(/^done in/);
      expect(await runThreads()).toBe(cores);
      expect(await kernelWorkers()).toBe(cores - 1);

      await page.selectOption('[data-testid="backend"]', 'cpu');
      await expect.poll(() => page.locator('[data-testid="wasm-threads"]').count()).toBe(0);
      expect(s.errors).toEqual([]);
    } finally {
      await s.context.close();
    }
  });
});
