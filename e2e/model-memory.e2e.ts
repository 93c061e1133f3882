// The model-memory view: Llama-3.1-8B's plan as stacked bars, and the longest context that fits a
// budget the user types, from the planner the model.memory node runs.
import { describe, expect, it } from 'vitest';
import { openExample, run, shot, useBrowserSession } from './helpers.js';

const s = useBrowserSession({ height: 1000 });

describe('model memory view', () => {
  it('draws each plan and answers "what context fits in this budget"', async () => {
    await openExample(s.page, 'llama-kv-sizing.json');
    expect(await run(s.page)).toMatch(/^done/);
    await s.page.evaluate(() => (window as unknown as { ctxlab_app: { ui: { set(p: object): void } } }).ctxlab_app.ui.set({ panelHeight: 440 }));
    await s.page.click('[data-testid="tab-model-memory"]');
    await s.page.waitForSelector('[data-testid="model-memory-view"]');
    // bf16 at 128K: 24 GiB holds 72,472 tokens after the weights and activations
    await s.page.waitForFunction(() => document.querySelector('[data-testid="model-memory-fit-0"]')?.textContent?.includes('72,472 tokens'));
    await shot(s.page, 'model-memory');
    await s.page.fill('[data-testid="model-memory-budget"]', '80GiB');
    await s.page.waitForFunction(() => document.querySelector('[data-testid="model-memory-fit-0"]')?.textContent?.includes('beyond max_position_embeddings'));
    expect(s.errors).toEqual([]);
  });
});
