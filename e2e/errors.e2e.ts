// When things go wrong: no WebGPU adapter (visible fallback), a node that fails at run time (its
// message on the node, the rest of the results kept), a pipeline that does not compile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { dropPipeline, launch, open, run, shot, type Session } from './helpers.js';

let browser: Browser;
let s: Session;
let page: Page;

beforeAll(async () => {
  browser = await launch({ webgpu: false });
  s = await open(browser);
  page = s.page;
});
afterAll(async () => {
  await browser?.close();
});

const doc = {
  format: 'context-lab/pipeline',
  version: 1,
  name: 'one branch fails',
  nodes: [
    { id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 2, seqLen: 64, headDim: 16 }, position: { x: 0, y: 0 } },
    { id: 'att', type: 'attention', params: { variant: 'flash' }, position: { x: 340, y: 0 } },
    { id: 'save', type: 'sink.npy', params: { name: 'att' }, position: { x: 680, y: 0 } },
    { id: 'missing', type: 'source.npy', params: { path: 'no-such-file.npy', shape: [4, 4] }, position: { x: 0, y: 300 } },
    { id: 'save2', type: 'sink.npy', params: { name: 'missing' }, position: { x: 340, y: 300 } },
  ],
  edges: [
    { from: 'qkv.q', to: 'att.q' },
    { from: 'qkv.k', to: 'att.k' },
    { from: 'qkv.v', to: 'att.v' },
    { from: 'att.out', to: 'save.in' },
    { from: 'missing.out', to: 'save2.in' },
  ],
};

describe('errors', () => {
  it('starts on wasm without a WebGPU adapter, and falls back visibly when WebGPU is chosen anyway', async () => {
    await dropPipeline(page, doc);
    expect(await page.inputValue('[data-testid="backend"]')).toBe('wasm');
    expect(await page.getAttribute('[data-testid="backend"]', 'title')).toMatch(/no WebGPU|no adapter/);
    await page.selectOption('[data-testid="backend"]', 'webgpu');
    await page.waitForSelector('[data-testid="backend-info"] .fallback', { timeout: 60_000 });
    expect(await page.textContent('[data-testid="backend-info"]')).toMatch(/fell back from webgpu/);
    // A backend that fell back can be started again (here it falls back again: there is still no adapter).
    await page.click('[data-testid="backend-retry"]');
    await page.waitForSelector('[data-testid="backend-info"] .fallback', { timeout: 60_000 });
    expect(await page.textContent('[data-testid="backend-info"]')).toMatch(/fell back from webgpu/);
  });

  it('shows a failed node’s message on it and keeps the other results', async () => {
    expect(await run(page)).toBe('failed');
    expect(await page.getAttribute('[data-testid="node-missing"]', 'data-status')).toBe('failed');
    expect(await page.textContent('[data-testid="error-missing"]')).toMatch(/no-such-file\.npy/);
    expect(await page.getAttribute('[data-testid="node-save2"]', 'data-status')).toBe('skipped');
    expect(await page.getAttribute('[data-testid="node-att"]', 'data-status')).toBe('done');
    await page.waitForSelector('[data-testid="ms-att"]');
    await shot(page, 'failed-node');
  });

  it('does not run a pipeline with problems, and lists them', async () => {
    await page.locator('[data-testid="node-att"] .pnode-head').click();
    await page.keyboard.press('Delete');
    await page.click('[data-testid="run"]');
    await page.waitForSelector('[data-testid="problems"]');
    expect(await page.textContent('[data-testid="problems"]')).toMatch(/save\.in.*not connected/);
    expect(s.errors).toEqual([]);
  });
});
