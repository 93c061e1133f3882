// A long run cancelled from the run bar, and a sweep with its log-log chart and the memory guard.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launch, open, openExample, run, selectBackend, selectNode, setParam, shot, type Session } from './helpers.js';

let browser: Browser;
let s: Session;
let page: Page;

beforeAll(async () => {
  browser = await launch();
  s = await open(browser);
  page = s.page;
  await openExample(page, 'flash-vs-naive.json');
});
afterAll(async () => {
  await browser?.close();
});

describe('cancel and sweep', () => {
  it('cancels a long run', async () => {
    await selectBackend(page, 'cpu');
    await selectNode(page, 'qkv');
    // Naive attention on the cpu backend: several seconds in all. It checks the cancel flag once per head
    // (a head's T×T scores are one tfjs op chain), so many small heads keep the check frequent.
    await setParam(page, 'heads', '32');
    await setParam(page, 'seqLen', '1024');
    await page.click('[data-testid="run"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="node-naive"]')?.getAttribute('data-status') === 'running', null, { timeout: 60_000 });
    await page.waitForTimeout(500);
    const t0 = Date.now();
    await page.click('[data-testid="cancel"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="run-status"]')?.textContent === 'cancelled', null, { timeout: 15_000 });
    // Well under the 4 s after which the app would replace an unresponsive worker: the kernel saw the shared flag.
    expect(Date.now() - t0).toBeLessThan(3500);
    expect(await page.textContent('[data-testid="node-naive"]')).not.toContain('ms');
    await shot(page, 'cancelled');
    // The engine still works afterwards.
    await setParam(page, 'seqLen', '128');
    await setParam(page, 'heads', '8');
    await selectBackend(page, 'wasm');
    expect(await run(page)).toMatch(/^done/);
  });

  it('runs a sweep and plots it on log-log axes, with refused values marked', async () => {
    await page.click('[data-testid="tab-sweep"]');
    await page.selectOption('[data-testid="sweep-node"]', 'qkv');
    await page.selectOption('[data-testid="sweep-param"]', 'seqLen');
    await page.fill('[data-testid="sweep-values"]', '128..1024');
    // 8 MiB: the naive kernel's T×T scores outgrow it before 1024 tokens.
    await page.fill('[data-testid="sweep-budget"]', '0.0078125');
    await page.click('[data-testid="sweep-run"]');
    await page.waitForSelector('[data-testid="sweep-chart-ms"] canvas', { timeout: 90_000 });
    await page.waitForFunction(() => !document.querySelector('[data-testid="sweep"]')?.textContent?.includes('running seqLen'), null, { timeout: 90_000 });
    const slopes = (await page.textContent('[data-testid="sweep-slopes"]')) ?? '';
    expect(slopes).toMatch(/naive/);
    expect(await page.textContent('[data-testid="sweep-refused"]')).toMatch(/refused by the pre-flight memory guard/);
    await shot(page, 'sweep');
    expect(s.errors).toEqual([]);
  });
});
