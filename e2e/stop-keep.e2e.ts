// Training stopped from the run bar with "Stop & keep": the model of the last finished step flows on
// to the node after it, and the metrics say where training stopped.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dropPipeline, selectBackend, shot, useBrowserSession } from './helpers.js';

const s = useBrowserSession();

describe('Stop & keep', () => {
  it('ends training after its current step; the save node still runs and the metrics say how far it got', async () => {
    const doc = JSON.parse(readFileSync('pipelines/train-tiny-lm.json', 'utf8'));
    const train = doc.nodes.find((n: { id: string }) => n.id === 'train');
    train.params.steps = 100000;
    train.params.contextLength = 32;
    await dropPipeline(s.page, doc, 'train-long.json');
    await selectBackend(s.page, 'wasm');
    expect(await s.page.$('[data-testid="stop-keep"]')).toBeNull();
    await s.page.click('[data-testid="run"]');
    await s.page.waitForSelector('[data-testid="stop-keep"]', { timeout: 60_000 });
    // A few steps in (the node's live text shows its step count).
    await s.page.waitForFunction(() => Number(/step (\d+)\//.exec(document.querySelector('[data-testid="node-train"]')?.textContent ?? '')?.[1] ?? 0) >= 3, null, { timeout: 60_000 });
    await s.page.click('[data-testid="stop-keep"]');
    await s.page.waitForFunction(() => /^(done|failed|cancelled)/.test(document.querySelector('[data-testid="run-status"]')?.textContent ?? ''), null, { timeout: 60_000 });
    expect(await s.page.textContent('[data-testid="run-status"]')).toMatch(/^done/);
    expect(await s.page.getAttribute('[data-testid="node-save"]', 'data-status')).toBe('done');
    await s.page.click('[data-testid="tab-metrics"]');
    await s.page.waitForSelector('[data-testid="metrics-train"]');
    expect(await s.page.textContent('[data-testid="metrics-train"]')).toMatch(/stopped after step \d+ of 100000/);
    await shot(s.page, 'stop-keep');
    expect(s.errors).toEqual([]);
  });
});
