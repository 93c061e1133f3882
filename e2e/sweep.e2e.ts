// The sweep view plots only what the swept param can change (the swept node and its downstream
// nodes), in graph order that does not move between sweeps, and the run bar says how the sweep ended.
import { describe, expect, it } from 'vitest';
import { dropPipeline, selectBackend, useBrowserSession } from './helpers.js';

const qkv = (seed: number) => ({ heads: 1, seqLen: 64, headDim: 16, seed });
const doc = {
  format: 'context-lab/pipeline',
  version: 1,
  name: 'sweep one branch',
  nodes: [
    { id: 'cmp', type: 'compare', position: { x: 700, y: 0 } },
    { id: 'qkv', type: 'source.synthetic-qkv', params: qkv(1), position: { x: 0, y: 0 } },
    { id: 'naive', type: 'attention', params: { variant: 'naive' }, position: { x: 350, y: 0 } },
    { id: 'flash', type: 'attention', params: { variant: 'flash', blockSize: 16 }, position: { x: 350, y: 250 } },
    // A branch the swept param does not reach: it must not be plotted.
    { id: 'other', type: 'source.synthetic-qkv', params: qkv(2), position: { x: 0, y: 500 } },
    { id: 'other_att', type: 'attention', params: { variant: 'naive' }, position: { x: 350, y: 500 } },
  ],
  edges: [
    ...['q', 'k', 'v'].flatMap((p) => [
      { from: `qkv.${p}`, to: `naive.${p}` },
      { from: `qkv.${p}`, to: `flash.${p}` },
      { from: `other.${p}`, to: `other_att.${p}` },
    ]),
    { from: 'flash.out', to: 'cmp.a' },
    { from: 'naive.out', to: 'cmp.b' },
  ],
};

const s = useBrowserSession({
  webgpu: false,
  setup: async (page) => {
    await dropPipeline(page, doc);
    await selectBackend(page, 'wasm');
  },
});

async function sweep(): Promise<string[]> {
  await s.page.click('[data-testid="sweep-run"]');
  await s.page.waitForFunction(() => /^sweep /.test(document.querySelector('[data-testid="run-status"]')?.textContent ?? ''), null, { timeout: 90_000 });
  return s.page.locator('[data-testid="sweep-slopes"] .slope b').allTextContents();
}

describe('sweep view', () => {
  it('plots the swept node and its downstream nodes only, in graph order, the same on every sweep', async () => {
    await s.page.click('[data-testid="tab-sweep"]');
    await s.page.selectOption('[data-testid="sweep-node"]', 'qkv');
    await s.page.selectOption('[data-testid="sweep-param"]', 'seqLen');
    await s.page.fill('[data-testid="sweep-values"]', '64..256');
    const first = await sweep();
    expect(first).toEqual(['qkv', 'naive', 'flash', 'cmp']);
    expect(await s.page.textContent('[data-testid="run-status"]')).toBe('sweep done: 3 of 3 values ran');
    expect(await s.page.textContent('[data-testid="sweep"]')).toContain('sweep done: 3 of 3 values ran on wasm');
    // Run times differ from sweep to sweep; the series and their order do not.
    expect(await sweep()).toEqual(first);
    // The legend of the time chart names the same series (the unaffected branch is absent).
    const legend = await s.page.locator('[data-testid="sweep-chart-ms"] .u-legend .u-series').allTextContents();
    expect(legend.slice(1).map((t) => t.split(' ')[0])).toEqual(first);
    expect(s.errors).toEqual([]);
  });
});
