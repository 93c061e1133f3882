import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NodeProfile, RunEvent } from '../../engine/run/events.js';
import type { Editor } from './editor.js';
import { createMetrics, idleRun, type MetricsState } from './metrics.js';
import { createRunner, GiB, reduce, suggestBudget } from './runner.js';

const profile = (nodeId: string, wallMs: number): NodeProfile => ({
  nodeId, type: 't', status: 'done', startMs: 0, endMs: wallMs, wallMs, bytesAllocated: 0, peakBytes: 100, outputBytes: 0,
  predictedPeakBytes: 0, liveBytes: 0, flops: 0, gflops: null,
});

describe('run events → metrics store', () => {
  const start: MetricsState = { nodes: {}, run: idleRun };
  const backend = { requested: 'cpu' as const, name: 'cpu' as const, host: 'test' };

  it('tracks each node through queued, running, done and failed', () => {
    let s = reduce(start, [{ type: 'run-started', backend, nodes: ['a', 'b', 'c'], predictedPeakBytes: 10 }]);
    expect(Object.values(s.nodes).map((m) => m.status)).toEqual(['queued', 'queued', 'queued']);
    s = reduce(s, [{ type: 'node-started', nodeId: 'a', tMs: 0 }, { type: 'node-progress', nodeId: 'a', fraction: 0.5 }]);
    expect(s.nodes.a).toEqual({ status: 'running', progress: 0.5 });
    s = reduce(s, [
      { type: 'node-finished', nodeId: 'a', profile: profile('a', 3), outputs: {} },
      { type: 'node-failed', nodeId: 'b', message: 'boom', profile: { ...profile('b', 1), status: 'failed' } },
      { type: 'node-skipped', nodeId: 'c', reason: 'upstream node "b" failed' },
      { type: 'memory', sample: { tMs: 1, bytes: 5 } },
    ]);
    expect(s.nodes.a!.status).toBe('done');
    expect(s.nodes.a!.profile!.wallMs).toBe(3);
    expect(s.nodes.b).toMatchObject({ status: 'failed', error: 'boom' });
    expect(s.nodes.c).toMatchObject({ status: 'skipped' });
    expect(s.run.memory).toEqual([{ tMs: 1, bytes: 5 }]);
  });

  it('leaves the other nodes untouched (same objects), so only the changed node re-renders', () => {
    const s1 = reduce(start, [{ type: 'run-started', backend, nodes: ['a', 'b'], predictedPeakBytes: 0 }]);
    const s2 = reduce(s1, [{ type: 'node-started', nodeId: 'a', tMs: 0 }]);
    expect(s2.nodes.b).toBe(s1.nodes.b);
    expect(reduce(s2, [])).toBe(s2);
  });

  it('marks unfinished nodes as cancelled when the run is cancelled', () => {
    let s = reduce(start, [{ type: 'run-started', backend, nodes: ['a', 'b'], predictedPeakBytes: 0 }, { type: 'node-started', nodeId: 'a', tMs: 0 }]);
    s = reduce(s, [{ type: 'run-finished', status: 'cancelled', profile: { status: 'cancelled' } as never }]);
    expect(s.nodes.a).toMatchObject({ status: 'skipped', error: 'cancelled' });
    expect(s.nodes.b).toMatchObject({ status: 'skipped', error: 'cancelled' });
    expect(s.run.status).toBe('cancelled');
  });
});

// The worker's events travel on their own Comlink port and can arrive after run() resolves.
vi.mock('../engine/client.js', async () => {
  const Comlink = await import('comlink');
  return { Comlink, startEngine: () => ({ api: fakeApi, sharedCancel: false, cancel() {}, terminate: () => workers.terminated++ }) };
});
const workers = { terminated: 0 };
const fakeApi: Record<string, (...a: any[]) => Promise<unknown>> = {
  async useBackend(name: string) {
    return { requested: name, name, host: 'test' };
  },
  async run(_doc: unknown, _opts: unknown, onEvent: (e: RunEvent) => void) {
    const backend = { requested: 'cpu' as const, name: 'cpu' as const, host: 'test' };
    const p = { ...profile('a', 0), status: 'cached' as const };
    setTimeout(() => {
      onEvent({ type: 'run-started', backend, nodes: ['a'], predictedPeakBytes: 0 });
      onEvent({ type: 'node-finished', nodeId: 'a', profile: p, outputs: {} });
      onEvent({ type: 'run-finished', status: 'ok', profile: { status: 'ok', nodes: [p] } as never });
    }, 50);
    return { ok: true, status: 'ok', checks: [], executed: 0, errors: [], profile: { status: 'ok', nodes: [p], backend } };
  },
};

describe('runner', () => {
  it('shows a run as done only after its trailing events have arrived', async () => {
    const metrics = createMetrics();
    const editor = { doc: () => ({}), store: { get: () => ({ file: {} }) } } as unknown as Editor;
    await createRunner(editor, metrics).run();
    expect(metrics.get().run.phase).toBe('done');
    expect(metrics.get().nodes.a?.status).toBe('cached');
  });
});

describe('runner: backend start-up, cancel, refusals', () => {
  const editor = { doc: () => ({}), store: { get: () => ({ file: {} }) } } as unknown as Editor;
  const defaultRun = fakeApi.run!;
  afterEach(() => {
    fakeApi.run = defaultRun;
    vi.useRealTimers();
  });

  it('a run pressed while the chosen backend is starting waits for it, and runs on it', async () => {
    const order: string[] = [];
    let started!: () => void;
    const useBackend = fakeApi.useBackend!;
    fakeApi.useBackend = (name: string) => new Promise((resolve) => (started = () => (order.push(`started ${name}`), resolve({ requested: name, name, host: 'test' }))));
    fakeApi.run = async (doc, opts: { backend: string }, onEvent) => (order.push(`run on ${opts.backend}`), defaultRun(doc, opts, onEvent));
    try {
      const runner = createRunner(editor, createMetrics());
      void runner.selectBackend('wasm');
      const run = runner.run();
      await new Promise((r) => setTimeout(r, 20));
      expect(order).toEqual([]);
      expect(runner.settings.get().starting).toBe(true);
      started();
      await run;
      expect(order).toEqual(['started wasm', 'run on wasm']);
    } finally {
      fakeApi.useBackend = useBackend;
    }
  });

  it('a cancelled run shows cancelling at once, is idle soon after, and a kernel that never returns costs the worker', async () => {
    vi.useFakeTimers();
    const metrics = createMetrics();
    const runner = createRunner(editor, metrics);
    fakeApi.run = () => new Promise(() => {}); // a kernel with no cancel checks
    void runner.run();
    await vi.advanceTimersByTimeAsync(10);
    expect(metrics.get().run.phase).toBe('starting');
    metrics.set((s) => ({ ...s, run: { ...s.run, phase: 'running' } }));
    runner.cancel();
    expect(runner.settings.get().cancelling).toBe(true);
    await vi.advanceTimersByTimeAsync(300);
    expect(metrics.get().run).toMatchObject({ phase: 'done', status: 'cancelled' });
    expect(runner.settings.get()).toMatchObject({ busy: false, cancelling: false });
    const before = workers.terminated;
    await vi.advanceTimersByTimeAsync(3000);
    expect(workers.terminated).toBe(before + 1);
    // The next run goes to a fresh worker.
    fakeApi.run = defaultRun;
    const next = runner.run();
    await vi.advanceTimersByTimeAsync(100);
    await next;
    expect(metrics.get().run).toMatchObject({ phase: 'done', status: 'ok' });
  });

  it('a refusal names the node and the figures, on the run and on the node', async () => {
    fakeApi.run = async () => ({ ok: false, stage: 'refused', issues: [{ path: 'nodes[1]', nodeId: 'naive', message: 'refused before running' }], refusal: { nodeId: 'naive', predictedBytes: 9 * GiB, budgetBytes: 4 * GiB } });
    const metrics = createMetrics();
    await createRunner(editor, metrics).run();
    expect(metrics.get().run).toMatchObject({ status: 'refused', refusal: { nodeId: 'naive', predictedBytes: 9 * GiB } });
    expect(metrics.get().nodes.naive?.error).toMatch(/needs 9\.0 GiB at peak, over the 4\.0 GiB budget/);
  });

  it('suggests a budget that admits the refused run: the next power of two GiB, at least double', () => {
    expect(suggestBudget(9 * GiB, 4 * GiB)).toBe(16 * GiB);
    expect(suggestBudget(4.5 * GiB, 4 * GiB)).toBe(8 * GiB);
    expect(suggestBudget(100, 0.5 * GiB)).toBe(1 * GiB);
  });
});
