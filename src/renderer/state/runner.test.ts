import { describe, expect, it, vi } from 'vitest';
import type { NodeProfile, RunEvent } from '../../engine/run/events.js';
import type { Editor } from './editor.js';
import { createMetrics, idleRun, type MetricsState } from './metrics.js';
import { createRunner, reduce } from './runner.js';

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
  return { Comlink, startEngine: () => ({ api: fakeApi, sharedCancel: false, cancel() {}, terminate() {} }) };
});
const fakeApi = {
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
