// A long run cancelled from the run bar, and a sweep with its log-log chart and the memory guard.
import { describe, expect, it } from 'vitest';
import { openExample, run, selectBackend, selectNode, setParam, shot, useBrowserSession } from './helpers.js';

const s = useBrowserSession({ setup: (page) => openExample(page, 'flash-vs-naive.json') });

describe('cancel and sweep', () => {
  it('cancels a run inside one big op: "cancelling…" at once, idle within 500 ms, and the next run works', async () => {
    await selectBackend(s.page, 'cpu');
    await selectNode(s.page, 'qkv');
    // Naive attention on the cpu backend over 2 heads of 4096 tokens: each head's 4096×4096 scores are
    // one tfjs op chain of a second or more, with no cancel check inside.
    await setParam(s.page, 'heads', '2');
    await setParam(s.page, 'seqLen', '4096');
    await s.page.click('[data-testid="run"]');
    await s.page.waitForFunction(() => document.querySelector('[data-testid="node-naive"]')?.getAttribute('data-status') === 'running', null, { timeout: 60_000 });
    await s.page.waitForTimeout(300);
    // Timed in the page, from the click to the idle run bar (Run back, status "cancelled").
    const r = await s.page.evaluate(
      () =>
        new Promise<{ ms: number; seen: string[] }>((resolve) => {
          const seen: string[] = [];
          const status = () => document.querySelector('[data-testid="run-status"]')?.textContent ?? '';
          const t0 = performance.now();
          const check = () => {
            if (seen.at(-1) !== status()) seen.push(status());
            if (document.querySelector('[data-testid="run"]') && status() === 'cancelled') {
              obs.disconnect();
              resolve({ ms: performance.now() - t0, seen });
            }
          };
          const obs = new MutationObserver(check);
          obs.observe(document.body, { subtree: true, childList: true, characterData: true });
          (document.querySelector('[data-testid="cancel"]') as HTMLButtonElement).click();
        }),
    );
    // What the status showed after the click: "cancelling…" first (the run's clock may tick once before).
    expect(r.seen.filter((t) => !t.startsWith('running'))).toEqual(['cancelling…', 'cancelled']);
    expect(r.ms).toBeLessThan(500);
    expect(await s.page.textContent('[data-testid="node-naive"]')).not.toContain('ms');
    await shot(s.page, 'cancelled');
    // The engine still works afterwards (on a worker that finished the op, or on a fresh one).
    await setParam(s.page, 'seqLen', '128');
    await setParam(s.page, 'heads', '8');
    await selectBackend(s.page, 'wasm');
    expect(await run(s.page)).toMatch(/^done/);
  });

  it('runs a sweep and plots it on log-log axes, with refused values marked', async () => {
    await s.page.click('[data-testid="tab-sweep"]');
    await s.page.selectOption('[data-testid="sweep-node"]', 'qkv');
    await s.page.selectOption('[data-testid="sweep-param"]', 'seqLen');
    await s.page.fill('[data-testid="sweep-values"]', '128..1024');
    // 8 MiB: the naive kernel's T×T scores outgrow it before 1024 tokens.
    await s.page.fill('[data-testid="sweep-budget"]', '0.0078125');
    await s.page.click('[data-testid="sweep-run"]');
    await s.page.waitForSelector('[data-testid="sweep-chart-ms"] canvas', { timeout: 90_000 });
    await s.page.waitForFunction(() => !document.querySelector('[data-testid="sweep"]')?.textContent?.includes('running seqLen'), null, { timeout: 90_000 });
    const slopes = (await s.page.textContent('[data-testid="sweep-slopes"]')) ?? '';
    expect(slopes).toMatch(/naive/);
    expect(await s.page.textContent('[data-testid="sweep-refused"]')).toMatch(/refused by the pre-flight memory guard/);
    await shot(s.page, 'sweep');
    expect(s.errors).toEqual([]);
  });

  it('says why the memory guard refused a run, on the node too, and offers to raise the budget', async () => {
    // The sweep's budget (8 MiB) is the run's: at 1024 tokens the naive kernel's scores are over it.
    await selectNode(s.page, 'qkv');
    await setParam(s.page, 'seqLen', '1024');
    const refused = await run(s.page);
    expect(refused).toMatch(/^refused: naive needs [\d.]+ MiB, budget 8\.0 MiB/);
    expect(await s.page.textContent('[data-testid="error-naive"]')).toMatch(/refused: needs [\d.]+ MiB at peak, over the 8\.0 MiB budget/);
    // The Problems tab counts the refusal.
    expect(await s.page.textContent('[data-testid="tab-problems"]')).toMatch(/1/);
    await shot(s.page, 'refused');
    await s.page.click('[data-testid="raise-budget"]');
    await s.page.waitForFunction(() => /^(done|failed|refused)/.test(document.querySelector('[data-testid="run-status"]')?.textContent ?? ''), null, { timeout: 90_000 });
    expect(await s.page.textContent('[data-testid="run-status"]')).toMatch(/^done in/);
    // The offer: the next power of two (MiB here) over the prediction, at least twice the old budget.
    const predicted = Number(/needs ([\d.]+) MiB/.exec(refused)![1]);
    const raised = Math.round(Number(await s.page.inputValue('[data-testid="sweep-budget"]')) * 1024);
    expect(raised).toBeGreaterThanOrEqual(Math.max(predicted, 16));
    expect(Number.isInteger(Math.log2(raised))).toBe(true);
  });
});
