import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { compile } from '../../engine/compile/compile.js';
import type { Pipeline } from '../../engine/schema/pipeline.js';
import { accuracyPipeline } from './accuracy.js';

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
