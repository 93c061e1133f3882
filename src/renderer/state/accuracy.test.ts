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
import { expectClose, runNode, runReference } from '../../nodes/testing.js';
import { useTinyModel } from '../../nodes/model/testdata/tiny-fixture.js';
import type { Editor } from './editor.js';
import { createAccuracy } from './accuracy.js';

const engines = { started: 0, terminated: 0 };
vi.mock('../engine/client.js', async () => {
  const fs = await import('node:fs/promises');
  return {
    startEngine: () => {
      engines.started++;
      // Absolute paths, read as they are (the tiny model's folder).
      const api = new EngineService(registry, { setup: nodeBackendSetup('test'), readFile: async (p) => new Uint8Array(await fs.readFile(p)), resolvePath: (_b, p) => p, now: () => performance.now() });
      return { api, sharedCancel: false, cancel() {}, terminate: () => engines.terminated++ };
    },
  };
});
const tiny = useTinyModel();

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

const fakeEditor = (structRev = 7, d: Pipeline = doc) => {
  const state = { structRev, file: {} };
  return { editor: { doc: () => d, store: { get: () => state } } as unknown as Editor, state };
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

  it('shows what a window mask costs: attention against itself without the mask, zero when the windows cover the sequence', async () => {
    const T = 48;
    const windowed: Pipeline = {
      ...doc,
      nodes: [
        doc.nodes[0]!,
        { id: 'w16', type: 'segment', params: { variant: 'fixed', windowSize: 16, overlap: 4 } },
        { id: 'w64', type: 'segment', params: { variant: 'fixed', windowSize: 64 } },
        { id: 'a16', type: 'attention', params: { variant: 'flash', blockSize: 16 } },
        { id: 'a64', type: 'attention', params: { variant: 'flash', blockSize: 16 } },
      ],
      edges: [
        { from: 'qkv.q', to: 'w16.like' }, { from: 'qkv.q', to: 'w64.like' },
        ...['q', 'k', 'v'].flatMap((p) => [{ from: `qkv.${p}`, to: `a16.${p}` }, { from: `qkv.${p}`, to: `a64.${p}` }]),
        { from: 'w16.bias', to: 'a16.bias' }, { from: 'w64.bias', to: 'a64.bias' },
      ],
    };
    const acc = createAccuracy(fakeEditor(1, windowed).editor, registry);
    await acc.measure();
    const s = acc.store.get();
    expect(s.error).toBeUndefined();
    expect(Object.keys(s.nodes).sort()).toEqual(['a16', 'a64']);
    // Expected from the plain-TypeScript reference: attention with the window terms against attention without any.
    const qkv = runReference(registry.get('source.synthetic-qkv')!, {}, doc.nodes[0]!.params) as Record<string, Value>;
    const windows = { kind: 'bias' as const, terms: [{ type: 'windows', windowSize: 16, overlap: 4 }] };
    const ref = (bias?: Value) => runReference(registry.get('attention')!, { ...qkv, ...(bias ? { bias } : {}) }, { variant: 'naive' }).out as Tensor;
    const expected = dev(deviation(ref(windows), ref()));
    const got = dev(s.nodes.a16!.ports[0]!.result);
    expect(expected.relError).toBeGreaterThan(1e-2);
    expect(Math.abs(got.relError - expected.relError)).toBeLessThan(1e-4 * expected.relError);
    expect(Math.abs(got.maxAbs - expected.maxAbs)).toBeLessThan(1e-4 * expected.maxAbs);
    expect(s.nodes.a16!.against).toBe('Attention · flash on the same inputs without "bias" (w16.bias)');
    // One window of 64 ≥ T = 48 tokens masks nothing: float32 noise at most.
    const covered = dev(s.nodes.a64!.ports[0]!.result);
    expect(covered.relError).toBeLessThan(1e-6);
    expect(covered.maxAbs).toBeLessThan(1e-6);
    expect(covered.elements).toBe(2 * T * 8);
  });

  it("compares an evaluation's metric with the same evaluation using exact attention: perplexity by perplexity", async () => {
    const text = 'It is a truth universally acknowledged, that a single man in possession of a good fortune';
    const window = { lengths: [8, 16], maxWindows: 2, attention: { variant: 'sliding-window', window: 3, causal: true } };
    const evalDoc: Pipeline = {
      ...doc,
      nodes: [
        { id: 'txt', type: 'source.text', params: { text } },
        { id: 'tok', type: 'tokenizer', params: { encoding: 'bytes' } },
        { id: 'm', type: 'model.load', params: { path: tiny.model.source } },
        { id: 'ppl', type: 'eval.perplexity', params: window },
      ],
      edges: [{ from: 'txt.text', to: 'tok.text' }, { from: 'tok.tokens', to: 'ppl.tokens' }, { from: 'm.model', to: 'ppl.model' }],
    };
    const acc = createAccuracy(fakeEditor(1, evalDoc).editor, registry);
    await acc.measure();
    const s = acc.store.get();
    expect(s.error).toBeUndefined();
    const [port] = s.nodes.ppl!.ports;
    expect(port).toMatchObject({ port: 'metrics', field: 'perplexity', exact: 'exact.metrics.perplexity' });
    // Each side is what the node computes on its own with those technique params.
    const tokens = (await runNode(registry.get('tokenizer')!, { text: { kind: 'text', text } }, { encoding: 'bytes' })).tokens;
    const perplexity = async (params: Record<string, unknown>) =>
      ((await runNode(registry.get('eval.perplexity')!, { model: tiny.model, tokens }, params)).metrics as MetricsValue).values.perplexity as number[];
    const [approx, exact] = [await perplexity(window), await perplexity({ ...window, attention: { variant: 'naive', causal: true } })];
    expectClose(port!.values!.approx, approx, { rtol: 1e-5 });
    expectClose(port!.values!.exact, exact, { rtol: 1e-5 });
    const expected = dev(deviation({ shape: [2], data: approx }, { shape: [2], data: exact }));
    const got = dev(port!.result);
    expect(expected.relError).toBeGreaterThan(1e-4);
    expect(got.relError).toBeCloseTo(expected.relError, 5);
    expect(got.maxAbs).toBeCloseTo(expected.maxAbs, 4);
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
