import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { registry } from '../../nodes/index.js';
import { compile } from '../../engine/compile/compile.js';
import type { Pipeline } from '../../engine/schema/pipeline.js';
import type { MetricsValue } from '../../engine/values.js';
import { runNode } from '../../nodes/testing.js';
import { accuracyLevel, accuracyPipeline, compareValues, worstRelError } from './accuracy.js';

const doc = (nodes: Pipeline['nodes'], edges: Pipeline['edges'], checks?: Pipeline['checks']): Pipeline => ({
  format: 'context-lab/pipeline',
  version: 1,
  name: 't',
  nodes,
  edges,
  ...(checks ? { checks } : {}),
});
const qkv = { id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 2, seqLen: 64, headDim: 16 } };
const wire = (to: string) => ['q', 'k', 'v'].map((p) => ({ from: `qkv.${p}`, to: `${to}.${p}` }));

describe('accuracyPipeline', () => {
  it('gives each approximate attention an exact sibling on the same inputs and flags, and leaves exact ones alone', () => {
    const d = doc(
      [
        qkv,
        { id: 'alibi', type: 'position', params: { variant: 'alibi' } },
        { id: 'exact', type: 'attention', params: { variant: 'naive' } },
        { id: 'fd', type: 'attention', params: { variant: 'flash-decoding' } },
        { id: 'win', type: 'attention', params: { variant: 'sliding-window', window: 8, causal: false, scale: 0.5 } },
        { id: 'lin', type: 'attention', params: { variant: 'linear' } },
        { id: 'cmp', type: 'compare', params: {} },
        { id: 'save', type: 'sink.npy', params: { name: 'x' } },
      ],
      [...wire('exact'), ...wire('fd'), ...wire('win'), ...wire('lin'), { from: 'alibi.bias', to: 'win.bias' }, { from: 'qkv.q', to: 'alibi.q' }, { from: 'qkv.k', to: 'alibi.k' },
        { from: 'win.out', to: 'cmp.a' }, { from: 'exact.out', to: 'cmp.b' }, { from: 'lin.out', to: 'save.in' }],
      [{ node: 'cmp', port: 'metrics', metric: 'maxAbs', lt: 1, factor: 1 }],
    );
    const plan = accuracyPipeline(d, registry);
    expect(plan.pairs).toEqual([
      { node: 'win', port: 'out', exact: { node: 'win__exact', port: 'out' } },
      { node: 'lin', port: 'out', exact: { node: 'lin__exact', port: 'out' } },
    ]);
    // A second approximation of the same computation shares the exact sibling.
    const twin = accuracyPipeline({ ...d, nodes: [...d.nodes, { id: 'lin2', type: 'attention', params: { variant: 'cosformer' } }], edges: [...d.edges, ...wire('lin2')] }, registry);
    expect(twin.siblingOf.lin2).toBe('lin__exact');
    expect(twin.doc.nodes.filter((n) => n.id.endsWith('__exact'))).toHaveLength(2);
    const sib = plan.doc.nodes.find((n) => n.id === 'win__exact')!;
    expect(sib).toEqual({ id: 'win__exact', type: 'attention', params: { variant: 'flash', causal: false, scale: 0.5 } });
    expect(plan.doc.nodes.find((n) => n.id === 'lin__exact')!.params).toEqual({ variant: 'flash', causal: true });
    // Every edge into the approximate node (the bias too) feeds its sibling.
    expect(plan.doc.edges.filter((e) => e.to.startsWith('win__exact.')).map((e) => `${e.from}→${e.to}`).sort()).toEqual(
      ['alibi.bias→win__exact.bias', 'qkv.k→win__exact.k', 'qkv.q→win__exact.q', 'qkv.v→win__exact.v'],
    );
    // Only what the pairs need: no exact nodes nobody compares, no compare, no file sink, no checks.
    expect(plan.doc.nodes.map((n) => n.id).sort()).toEqual(['alibi', 'lin', 'lin__exact', 'qkv', 'win', 'win__exact']);
    expect(plan.doc.checks).toBeUndefined();
    expect(plan.exactOf.win).toBe('Attention · flash on the same inputs');
    expect(plan.siblingOf).toEqual({ win: 'win__exact', lin: 'lin__exact' });
    const c = compile(plan.doc, registry);
    expect(c.ok ? [] : c.issues).toEqual([]);
  });

  it('pairs a quantizer with its own input and a compressor with its uncompressed tokens', () => {
    const d = doc(
      [qkv, { id: 'g4', type: 'quantize', params: { variant: 'group', bits: 4, groupSize: 32 } },
        { id: 'txt', type: 'source.text', params: { text: 'a b c' } }, { id: 'tok', type: 'tokenizer', params: {} },
        { id: 'sc', type: 'compress', params: { variant: 'selective-context' } }],
      [{ from: 'qkv.k', to: 'g4.in' }, { from: 'txt.text', to: 'tok.text' }, { from: 'tok.tokens', to: 'sc.tokens' }],
    );
    const plan = accuracyPipeline(d, registry);
    expect(plan.pairs).toEqual([
      { node: 'g4', port: 'out', exact: { node: 'qkv', port: 'k' } },
      { node: 'sc', port: 'tokens', exact: { node: 'tok', port: 'tokens' } },
    ]);
    expect(plan.exactOf.g4).toBe('its input "in"');
    expect(plan.doc.nodes).toHaveLength(5);
  });

  it('compares an evicting KV cache with one that keeps every token, and picks a free id', () => {
    const d = doc(
      [qkv, { id: 'kv', type: 'kv-cache', params: { variant: 'streaming', sinkTokens: 4, recentTokens: 16, prefillTokens: 8 } },
        { id: 'full', type: 'kv-cache', params: { variant: 'contiguous', maxTokens: 64 } },
        { id: 'kv__exact', type: 'attention', params: { variant: 'naive' } }],
      [{ from: 'qkv.k', to: 'kv.k' }, { from: 'qkv.v', to: 'kv.v' }, { from: 'qkv.k', to: 'full.k' }, { from: 'qkv.v', to: 'full.v' }],
    );
    const plan = accuracyPipeline(d, registry);
    expect(plan.siblingOf).toEqual({ kv: 'kv__exact2' });
    expect(plan.pairs.map((p) => `${p.node}.${p.port}~${p.exact.node}.${p.exact.port}`)).toEqual(['kv.k~kv__exact2.k', 'kv.v~kv__exact2.v']);
    expect(plan.doc.nodes.find((n) => n.id === 'kv__exact2')!.params).toEqual({ variant: 'contiguous', prefillTokens: 8, maxTokens: 1 << 24 });
  });

  it('compares a low-rank layer with the same layer at full rank', () => {
    const d = doc(
      [{ id: 'x', type: 'source.synthetic-qkv', params: { heads: 1, seqLen: 16, headDim: 32 } },
        { id: 'lr', type: 'block.low-rank-attention', params: { rank: 4 } }, { id: 'full', type: 'block.low-rank-attention', params: {} }],
      [{ from: 'x.q', to: 'lr.x' }, { from: 'x.q', to: 'full.x' }],
    );
    const plan = accuracyPipeline(d, registry);
    expect(plan.pairs).toEqual([{ node: 'lr', port: 'out', exact: { node: 'lr__exact', port: 'out' } }]);
    expect(plan.doc.nodes.find((n) => n.id === 'lr__exact')!.params).not.toHaveProperty('rank');
  });

  it('compares a model forward pass that uses a shortcut with the same pass using exact attention and a full cache', () => {
    const d = doc(
      [{ id: 'm', type: 'model.load', params: { path: 'models/tiny' } }, { id: 'ids', type: 'source.npy', params: { path: 'ids.npy' } },
        { id: 'win', type: 'model.forward', params: { attention: { variant: 'sliding-window', window: 64, causal: true, scale: 0.25 }, ropeScaling: { rope_type: 'linear', factor: 2 } } },
        { id: 'stream', type: 'model.forward', params: { kvCache: { policy: 'streaming', recentTokens: 32 }, prefillTokens: 8 } },
        { id: 'plain', type: 'model.forward', params: { attention: { variant: 'flash', causal: true }, kvCache: { policy: 'paged', blockSize: 16 } } }],
      ['win', 'stream', 'plain'].flatMap((n) => [{ from: 'm.model', to: `${n}.model` }, { from: 'ids.out', to: `${n}.ids` }]),
    );
    const plan = accuracyPipeline(d, registry);
    expect(plan.pairs.map((p) => `${p.node}.${p.port}~${p.exact.node}.${p.exact.port}`)).toEqual(['win.logits~win__exact.logits', 'stream.logits~stream__exact.logits']);
    const sib = (id: string) => plan.doc.nodes.find((n) => n.id === id)!.params;
    // The shortcut is undone; the model change (rope_scaling) and the prompt schedule are kept.
    expect(sib('win__exact')).toMatchObject({ attention: { variant: 'naive', causal: true, scale: 0.25 }, kvCache: { policy: 'full' }, ropeScaling: { rope_type: 'linear', factor: 2 } });
    expect(sib('stream__exact')).toMatchObject({ attention: { variant: 'naive', causal: true }, kvCache: { policy: 'full' }, prefillTokens: 8 });
    expect(plan.doc.edges.filter((e) => e.to.startsWith('win__exact.')).map((e) => e.from).sort()).toEqual(['ids.out', 'm.model']);
  });

  it('compares a pruned matrix with the dense one that came in; a pruned model and an unused segment have no pair', () => {
    const d = doc(
      [qkv, { id: 'w', type: 'source.npy', params: { path: 'w.npy' } }, { id: 'pw', type: 'prune', params: { sparsity: 0.5 } },
        { id: 'm', type: 'model.load', params: { path: 'models/tiny' } }, { id: 'pm', type: 'prune', params: {} },
        { id: 'seg', type: 'segment', params: { variant: 'fixed', windowSize: 16 } },
        { id: 'ids', type: 'source.npy', params: { path: 'ids.npy' } },
        { id: 'ppl', type: 'eval.perplexity', params: { lengths: [8], attention: { variant: 'sliding-window', window: 4, causal: true } } },
        { id: 'pk', type: 'eval.passkey', params: { attention: { variant: 'sliding-window', window: 4, causal: true } } }],
      [{ from: 'w.out', to: 'pw.weight' }, { from: 'm.model', to: 'pm.model' }, { from: 'qkv.q', to: 'seg.like' },
        { from: 'm.model', to: 'ppl.model' }, { from: 'ids.out', to: 'ppl.ids' }, { from: 'm.model', to: 'pk.model' }],
    );
    for (const n of d.nodes.filter((x) => x.type !== 'source.npy' && x.type !== 'model.load' && x.type !== 'source.synthetic-qkv'))
      expect(registry.get(n.type)!.params.safeParse(n.params).success, n.id).toBe(true);
    const plan = accuracyPipeline(d, registry);
    expect(plan.pairs.filter((p) => !['ppl', 'pk'].includes(p.node))).toEqual([{ node: 'pw', port: 'weight', exact: { node: 'w', port: 'out' } }]);
    expect(plan.exactOf.pw).toBe('its input "weight"');
    expect(Object.keys(plan.exactOf).sort()).toEqual(['pk', 'ppl', 'pw']);
  });

  it('compares an evaluation that uses a shortcut with the same evaluation using exact attention, on the metric it reports', () => {
    const window = { attention: { variant: 'sliding-window', window: 4, causal: true } };
    const d = doc(
      [{ id: 'm', type: 'model.load', params: { path: 'models/tiny' } }, { id: 'ids', type: 'source.npy', params: { path: 'ids.npy' } },
        { id: 'ppl', type: 'eval.perplexity', params: { lengths: [8, 16], ...window } },
        { id: 'pk', type: 'eval.passkey', params: { trials: 1, kvCache: { policy: 'streaming', sinkTokens: 4, recentTokens: 64 }, prefillTokens: 32 } },
        { id: 'plain', type: 'eval.perplexity', params: { lengths: [8, 16] } }],
      [{ from: 'm.model', to: 'ppl.model' }, { from: 'ids.out', to: 'ppl.ids' }, { from: 'm.model', to: 'pk.model' }, { from: 'm.model', to: 'plain.model' }, { from: 'ids.out', to: 'plain.ids' }],
    );
    const plan = accuracyPipeline(d, registry);
    expect(plan.pairs).toEqual([
      { node: 'ppl', port: 'metrics', field: 'perplexity', exact: { node: 'ppl__exact', port: 'metrics' } },
      { node: 'pk', port: 'metrics', field: 'accuracy', exact: { node: 'pk__exact', port: 'metrics' } },
    ]);
    const sib = (id: string) => plan.doc.nodes.find((n) => n.id === id)!.params;
    expect(sib('ppl__exact')).toMatchObject({ lengths: [8, 16], attention: { variant: 'naive', causal: true }, kvCache: { policy: 'full' } });
    expect(sib('pk__exact')).toMatchObject({ trials: 1, prefillTokens: 32, attention: { variant: 'naive', causal: true }, kvCache: { policy: 'full' } });
    expect(plan.exactOf.ppl).toBe('Perplexity by length on the same inputs');
    // The fields named are fields of the schema each node declares on its metrics port.
    for (const p of plan.pairs) {
      const declared = registry.get(d.nodes.find((n) => n.id === p.node)!.type)!.outputs[p.port]!.metrics;
      expect(declared, p.node).toBeInstanceOf(z.ZodObject);
      expect(Object.keys((declared as z.ZodObject).shape), p.node).toContain(p.field);
    }
  });

  it("compares attention fed a window mask with the same attention without it; ALiBi's bias stays", () => {
    const d = doc(
      [qkv, { id: 'seg', type: 'segment', params: { variant: 'fixed', windowSize: 16 } },
        { id: 'alibi', type: 'position', params: { variant: 'alibi' } },
        { id: 'fl', type: 'attention', params: { variant: 'flash', blockSize: 32 } },
        { id: 'nv', type: 'attention', params: { variant: 'naive' } },
        { id: 'sw', type: 'attention', params: { variant: 'sliding-window', window: 8 } },
        { id: 'al', type: 'attention', params: { variant: 'flash', blockSize: 32 } }],
      [{ from: 'qkv.q', to: 'seg.like' }, ...wire('fl'), ...wire('nv'), ...wire('sw'), ...wire('al'),
        { from: 'seg.bias', to: 'fl.bias' }, { from: 'seg.bias', to: 'nv.bias' }, { from: 'seg.bias', to: 'sw.bias' },
        { from: 'qkv.q', to: 'alibi.q' }, { from: 'qkv.k', to: 'alibi.k' }, { from: 'alibi.bias', to: 'al.bias' }],
    );
    const plan = accuracyPipeline(d, registry);
    // Exact kernels fed the mask keep their own params; an approximate one takes the exact params. ALiBi is no approximation.
    expect(plan.pairs.map((p) => `${p.node}.${p.port}~${p.exact.node}.${p.exact.port}`)).toEqual(['fl.out~fl__exact.out', 'nv.out~nv__exact.out', 'sw.out~sw__exact.out']);
    const sib = (id: string) => plan.doc.nodes.find((n) => n.id === id)!;
    expect(sib('fl__exact').params).toEqual({ variant: 'flash', blockSize: 32 });
    expect(sib('nv__exact').params).toEqual({ variant: 'naive' });
    expect(sib('sw__exact').params).toEqual({ variant: 'flash', causal: true });
    for (const s of ['fl__exact', 'nv__exact', 'sw__exact'])
      expect(plan.doc.edges.filter((e) => e.to.startsWith(`${s}.`)).map((e) => e.to.slice(s.length + 1)).sort(), s).toEqual(['k', 'q', 'v']);
    expect(plan.exactOf.fl).toBe('Attention · flash on the same inputs without "bias" (seg.bias)');
    // The segment is still computed for the approximate side; nothing of ALiBi's branch is.
    expect(plan.doc.nodes.map((n) => n.id).sort()).toEqual(['fl', 'fl__exact', 'nv', 'nv__exact', 'qkv', 'seg', 'sw', 'sw__exact']);
    const c = compile(plan.doc, registry);
    expect(c.ok ? [] : c.issues).toEqual([]);
  });

  it("a pruned matrix's error against its input is the norm of what was zeroed", async () => {
    // Magnitude 50% on 4×4: the 8 smallest |W| go. Values chosen with distinct magnitudes 1..16.
    const data = Float32Array.from([3, -1, 14, 7, -9, 2, 16, -5, 11, -4, 6, 13, -8, 10, -15, 12]);
    const w = { kind: 'tensor' as const, dtype: 'float32' as const, shape: [4, 4], data };
    const out = await runNode(registry.get('prune')!, { weight: w }, { sparsity: 0.5 });
    const r = compareValues(out.weight, w) as { relError: number; maxAbs: number };
    const zeroed = [1, 2, 3, 4, 5, 6, 7, 8];
    const all = Array.from({ length: 16 }, (_, i) => i + 1);
    const norm = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + x * x, 0));
    expect(r.relError).toBeCloseTo(norm(zeroed) / norm(all), 6);
    expect(r.maxAbs).toBe(8);
  });

  it('skips nodes whose params do not parse and unconnected quantizers', () => {
    const d = doc(
      [qkv, { id: 'bad', type: 'attention', params: { variant: 'linear', causal: 'yes' } }, { id: 'q', type: 'quantize', params: { variant: 'fp16' } }],
      wire('bad'),
    );
    const plan = accuracyPipeline(d, registry);
    expect(plan.pairs).toEqual([]);
    expect(plan.doc.nodes).toEqual([]);
  });
});

describe('compareValues', () => {
  const t = (data: number[]) => ({ kind: 'tensor' as const, dtype: 'float32' as const, shape: [data.length], data: Float32Array.from(data) });
  const toks = (ids: number[]) => ({ kind: 'tokens' as const, ids: Int32Array.from(ids), offsets: new Int32Array(2 * ids.length), text: '', encoding: 'x' });

  it('compares tensors element by element', () => {
    // a = (1, 1), b = (1, 2): a − b = (0, −1), so ‖a − b‖/‖b‖ = 1/√5; a·b = 3.
    const r = compareValues(t([1, 1]), t([1, 2]));
    expect(r).toMatchObject({ maxAbs: 1, elements: 2 });
    expect((r as { relError: number }).relError).toBeCloseTo(1 / Math.sqrt(5), 7);
    expect((r as { cosine: number }).cosine).toBeCloseTo(3 / (Math.sqrt(2) * Math.sqrt(5)), 7);
  });

  it('says why token sequences and other kinds have no number', () => {
    expect(compareValues(toks([1, 2]), toks([1, 2]))).toEqual({ cosine: 1, maxAbs: 0, relError: 0, meanAbs: 0, rmse: 0, maxRel: 0, elements: 2 });
    expect(compareValues(toks([1]), toks([1, 2, 3]))).toEqual({ incomparable: 'keeps 1 of 3 tokens: a shorter sequence has no element-wise error' });
    expect(compareValues(t([1]), toks([1]))).toEqual({ incomparable: 'a tensor value against a tokens value' });
    expect(compareValues(undefined, t([1]))).toEqual({ incomparable: 'no value (the node did not produce it)' });
  });

  it('compares a numeric field of two metrics values: a number, an array, a grid', () => {
    const m = (values: Record<string, unknown>) => ({ kind: 'metrics' as const, values: values as MetricsValue['values'] });
    // perplexity (12, 20) against (10, 20): ‖(2, 0)‖ / ‖(10, 20)‖ = 2/√500; the largest difference 2.
    const r = compareValues(m({ perplexity: [12, 20] }), m({ perplexity: [10, 20] }), 'perplexity') as { relError: number; maxAbs: number; elements: number };
    expect(r.relError).toBeCloseTo(2 / Math.sqrt(500), 12);
    expect(r.maxAbs).toBe(2);
    expect(r.elements).toBe(2);
    // A [length][depth] grid, row-major: 0 vs 1 in one of four cells.
    const g = compareValues(m({ accuracy: [[1, 0], [1, 1]] }), m({ accuracy: [[1, 1], [1, 1]] }), 'accuracy') as { relError: number; maxAbs: number };
    expect(g.relError).toBeCloseTo(1 / 2, 12);
    expect(g.maxAbs).toBe(1);
    expect(compareValues(m({ x: 3 }), m({ x: 4 }), 'x')).toMatchObject({ maxAbs: 1, relError: 0.25, elements: 1 });
    expect(compareValues(m({ perplexity: [1, 2] }), m({ perplexity: [1, 2, 3] }), 'perplexity')).toEqual({ incomparable: 'shape [2] differs from the exact [3]' });
    expect(compareValues(m({}), m({ x: 1 }), 'x')).toEqual({ incomparable: 'metrics have no field "x"' });
    expect(compareValues(m({ x: 1 }), m({ x: [[1], [1, 2]] }), 'x')).toEqual({ incomparable: 'the exact metrics field "x" is not a number or a regular array of numbers' });
    expect(compareValues(m({ x: 'flash' }), m({ x: 'naive' }), 'x')).toEqual({ incomparable: 'metrics field "x" is not a number or a regular array of numbers' });
    expect(compareValues(t([1]), m({ x: 1 }), 'x')).toEqual({ incomparable: 'a tensor value has no field "x"' });
    expect(compareValues(m({ constructor: 1 }), m({}), 'toString')).toEqual({ incomparable: 'metrics have no field "toString"' });
  });

  it('summarises a node by its worst comparable error and maps it to a colour level', () => {
    const ok = { cosine: 1, maxAbs: 0, relError: 0.01, meanAbs: 0, rmse: 0, maxRel: 0, elements: 1 };
    expect(worstRelError([ok, { ...ok, relError: 0.2 }, { incomparable: 'x' }])).toBe(0.2);
    expect(worstRelError([{ incomparable: 'x' }])).toBeUndefined();
    expect(worstRelError([ok, { ...ok, relError: NaN }])).toBeNaN();
    expect(accuracyLevel(1e-7)).toBe(0);
    expect(accuracyLevel(1e-3)).toBeCloseTo(0.5, 12);
    expect(accuracyLevel(10)).toBe(1);
    expect(accuracyLevel(NaN)).toBe(1);
  });
});
