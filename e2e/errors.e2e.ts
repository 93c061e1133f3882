// When things go wrong: no WebGPU adapter (visible fallback), a node that fails at run time (its
// message on the node, the rest of the results kept), a pipeline that does not compile.
import { describe, expect, it } from 'vitest';
import { dropPipeline, run, shot, useBrowserSession } from './helpers.js';

const s = useBrowserSession({ webgpu: false });

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
    await dropPipeline(s.page, doc);
    expect(await s.page.inputValue('[data-testid="backend"]')).toBe('wasm');
    expect(await s.page.getAttribute('[data-testid="backend"]', 'title')).toMatch(/no WebGPU|no adapter/);
    await s.page.selectOption('[data-testid="backend"]', 'webgpu');
    await s.page.waitForSelector('[data-testid="backend-info"] .fallback', { timeout: 60_000 });
    expect(await s.page.textContent('[data-testid="backend-info"]')).toMatch(/fell back from webgpu/);
    // A backend that fell back can be started again (here it falls back again: there is still no adapter).
    await s.page.click('[data-testid="backend-retry"]');
    await s.page.waitForSelector('[data-testid="backend-info"] .fallback', { timeout: 60_000 });
    expect(await s.page.textContent('[data-testid="backend-info"]')).toMatch(/fell back from webgpu/);
  });

  it('shows a failed node’s message on it and keeps the other results', async () => {
    expect(await run(s.page)).toBe('failed');
    expect(await s.page.getAttribute('[data-testid="node-missing"]', 'data-status')).toBe('failed');
    expect(await s.page.textContent('[data-testid="error-missing"]')).toMatch(/no-such-file\.npy/);
    expect(await s.page.getAttribute('[data-testid="node-save2"]', 'data-status')).toBe('skipped');
    expect(await s.page.getAttribute('[data-testid="node-att"]', 'data-status')).toBe('done');
    await s.page.waitForSelector('[data-testid="ms-att"]');
    await shot(s.page, 'failed-node');
  });

  it('does not run a pipeline with problems, and lists them', async () => {
    await s.page.locator('[data-testid="node-att"] .pnode-head').click();
    await s.page.keyboard.press('Delete');
    await s.page.click('[data-testid="run"]');
    await s.page.waitForSelector('[data-testid="problems"]');
    expect(await s.page.textContent('[data-testid="problems"]')).toMatch(/save\.in.*not connected/);
    expect(s.errors).toEqual([]);
  });
});
