// The accuracy overlay's measurement, with the engine in-process (the worker replaced by the service
// it wraps), checked against the nodes' plain-TypeScript references computed here.
import { describe, expect, it, vi } from 'vitest';
import { registry } from '../../nodes/index.js';
import { nodeBackendSetup } from '../../engine/node/setup.js';
import { EngineService } from '../../engine/run/service.js';
import { deviation, isIncomparable, type Deviation } from '../../engine/run/accuracy.js';
import type { Pipeline } from '../../engine/schema/pipeline.js';
import type { MetricsValue, Value } from '../../engine/values.js';
import type { Tensor } from '../../engine/tensor.js';
import { runReference } from '../../nodes/testing.js';
import type { Editor } from './editor.js';
import { createAccuracy } from './accuracy.js';

const engines = { started: 0, terminated: 0 };
vi.mock('../engine/client.js', () => ({
  startEngine: () => {
    engines.started++;
    const api = new EngineService(registry, { setup: nodeBackendSetup('test'), readFile: async () => new Uint8Array(), resolvePath: (_b, p) => p, now: () => performance.now() });
    return { api, sharedCancel: false, cancel() {}, terminate: () => engines.terminated++ };
  },
}));

const doc: Pipeline = {
  format: 'context-lab/pipeline',
  version: 1,
  name: 't',
  nodes: [
    { id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 2, seqLen: 48, headDim: 8, seed: 3 } },
    { id: 'lin', type: 'attention', params: { variant: 'linear' } },
    { id: 'half', type: 'quantize', params: { variant: 'fp16' } },
    { id: 'kv', type: 'kv-cache', params: { variant: 'streaming', sinkTokens: 2, recentTokens: 8, prefillTokens: 4 } },
    { id: 'save', type: 'sink.npy', params: { name: 'x' } },
  ],
  edges: [
    ...['q', 'k', 'v'].map((p) => ({ from: `qkv.${p}`, to: `lin.${p}` })),
    { from: 'qkv.k', to: 'half.in' },
    { from: 'qkv.k', to: 'kv.k' },
    { from: 'qkv.v', to: 'kv.v' },
    { from: 'lin.out', to: 'save.in' },
  ],
};

const fakeEditor = (structRev = 7) => {
  const state = { structRev, file: {} };
  return { editor: { doc: () => doc, store: { get: () => state } } as unknown as Editor, state };
};

const dev = (d: unknown) => {
  if (isIncomparable(d as Deviation)) throw new Error((d as { incomparable: string }).incomparable);
  return d as Deviation;
};

describe('accuracy measurement', () => {
  it('compares each approximate node with its exact counterpart on the same inputs', async () => {
    const { editor, state } = fakeEditor();
    const acc = createAccuracy(editor, registry);
    await acc.measure();
    const s = acc.store.get();
    expect(s.error).toBeUndefined();
    expect(s.phase).toBe('done');
    expect(Object.keys(s.nodes).sort()).toEqual(['half', 'kv', 'lin']);

    // Linear attention against exact attention, both from the plain-TypeScript references.
    const qkv = runReference(registry.get('source.synthetic-qkv')!, {}, doc.nodes[0]!.params) as Record<string, Value>;
    const ref = (variant: string) => runReference(registry.get('attention')!, qkv, { variant }).out as Tensor;
    const expected = dev(deviation(ref('linear'), ref('naive')));
    const lin = s.nodes.lin!;
    expect(lin.against).toBe('Attention · flash on the same inputs');
    const got = dev(lin.ports[0]!.result);
    expect(got.relError).toBeGreaterThan(1e-3);
    expect(Math.abs(got.relError - expected.relError)).toBeLessThan(1e-4 * expected.relError + 1e-6);
    expect(Math.abs(got.cosine - expected.cosine)).toBeLessThan(1e-5);
    expect(lin.ms).toBeGreaterThanOrEqual(0);
    expect(lin.exactMs).toBeGreaterThanOrEqual(0);
    expect(lin.peakBytes).toBeGreaterThan(0);
    expect(lin.exactPeakBytes).toBeGreaterThan(0);

    // fp16 against its input: ‖x − x̂‖/‖x‖ = 10^(−SQNR/20), SQNR from the node's own metrics.
    const sqnr = (runReference(registry.get('quantize')!, { in: qkv.k }, { variant: 'fp16' }).metrics as MetricsValue).values.sqnrDb as number;
    const half = s.nodes.half!;
    expect(half.ports[0]!.exact).toBe('qkv.k');
    expect(dev(half.ports[0]!.result).relError).toBeCloseTo(10 ** (-sqnr / 20), 8);
    expect(half.exactMs).toBeUndefined();

    // An evicting cache holds fewer tokens than the full one: said, not given a number.
    expect(s.nodes.kv!.ports.map((p) => p.port)).toEqual(['k', 'v']);
    for (const p of s.nodes.kv!.ports) expect(p.result).toEqual({ incomparable: 'shape [2, 10, 8] differs from the exact [2, 48, 8]' });

    expect(acc.fresh()).toBe(true);
    state.structRev++;
    expect(acc.fresh()).toBe(false);
  });

  it('stops a measurement when asked, dropping its worker', async () => {
    const { editor } = fakeEditor();
    const acc = createAccuracy(editor, registry);
    const before = engines.terminated;
    const measuring = acc.measure();
    acc.cancel();
    await measuring;
    expect(engines.terminated).toBe(before + 1);
    expect(acc.store.get().phase).toBe('idle');
  });
});
