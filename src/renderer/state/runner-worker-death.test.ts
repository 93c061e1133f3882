// The engine worker dies (out of memory, an uncaught error): its `error` event fails the run at once,
// naming the node that was running, instead of leaving Run on "starting…"; the next run starts a new
// worker. The worker here is a fake that speaks Comlink's wire format and then fires `error`.
import * as Comlink from 'comlink';
import { describe, expect, it, vi } from 'vitest';
import type { RunEvent } from '../../engine/run/events.js';
import type { Editor } from './editor.js';
import { createMetrics } from './metrics.js';

const backend = { requested: 'cpu' as const, name: 'cpu' as const, host: 'test' };

/**
 * A Worker whose `run` (with an event callback) streams run-started and node-started for "big", then
 * dies; without a callback (a sweep) its first two runs (the warm-up and the first value) finish and its third dies.
 */
class DyingWorker extends EventTarget {
  terminated = false;
  runs = 0;
  postMessage(msg: { id?: string; path?: string[] }, transfer?: Transferable[]) {
    const reply = (value: unknown) => setTimeout(() => this.dispatchEvent(Object.assign(new Event('message'), { data: { id: msg.id, type: 'RAW', value } })), 0);
    const die = () => this.dispatchEvent(Object.assign(new Event('error', { cancelable: true }), { message: 'Uncaught RangeError: Array buffer allocation failed' }));
    if (msg.path?.[0] !== 'run') return void reply(undefined);
    if (!transfer?.length) {
      if (++this.runs <= 2) reply({ ok: true, status: 'ok', errors: [], checks: [], executed: 1, profile: { totalMs: 1, backend, nodes: [] } });
      else setTimeout(die, 0);
      return;
    }
    const onEvent = Comlink.wrap<(e: RunEvent) => void>(transfer[0] as MessagePort);
    void (async () => {
      await onEvent({ type: 'run-started', backend, nodes: ['small', 'big', 'after'], predictedPeakBytes: 0 });
      await onEvent({ type: 'node-started', nodeId: 'big', tMs: 1 });
      die();
    })();
  }
  terminate() {
    this.terminated = true;
  }
}

const workers: DyingWorker[] = [];
vi.mock('../engine/client.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../engine/client.js')>();
  return {
    ...real,
    startEngine: (readData?: (p: string) => Promise<Uint8Array>) =>
      real.startEngine(readData, () => {
        const w = new DyingWorker();
        workers.push(w);
        return w as unknown as Worker;
      }),
  };
});

describe('runner: the engine worker dies', () => {
  it('fails the run at once, naming the running node; the next run gets a fresh worker', async () => {
    const { createRunner } = await import('./runner.js');
    const metrics = createMetrics();
    const editor = { doc: () => ({ nodes: [], edges: [] }), store: { get: () => ({ file: {} }) } } as unknown as Editor;
    const runner = createRunner(editor, metrics);
    await runner.run();
    const run = metrics.get().run;
    expect(run.phase).toBe('done');
    expect(run.status).toBe('failed');
    expect(run.issues?.[0]?.message).toBe('the engine worker stopped: Uncaught RangeError: Array buffer allocation failed, while node "big" ran');
    expect(metrics.get().nodes.big).toMatchObject({ status: 'failed' });
    expect(metrics.get().nodes.after).toMatchObject({ status: 'skipped' });
    expect(runner.settings.get().busy).toBe(false);
    expect(workers[0]!.terminated).toBe(true);

    await runner.run();
    expect(workers.length).toBe(2);
  });

  it('a sweep keeps the points before the death and marks the value it died at', async () => {
    const { createRunner } = await import('./runner.js');
    const editor = { doc: () => ({ nodes: [], edges: [] }), store: { get: () => ({ file: {} }) } } as unknown as Editor;
    const runner = createRunner(editor, createMetrics());
    await runner.runSweep('qkv', 'seqLen', [128, 256, 512]);
    const s = runner.sweep.get();
    expect(s.running).toBe(false);
    expect(s.points.map((p) => [p.value, p.status])).toEqual([[128, 'ok'], [256, 'failed']]);
    expect(s.points[1]!.message).toContain('the engine worker stopped');
  });
});
