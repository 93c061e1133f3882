import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import type { Pipeline } from '../../engine/schema/pipeline.js';
import { issueMessage } from '../../engine/compile/compile.js';
import { analyze } from './analysis.js';
import { formatPortShape } from './format.js';

const base = (edges: Pipeline['edges'], extra: Pipeline['nodes'] = []): Pipeline => ({
  format: 'context-lab/pipeline',
  version: 1,
  name: 't',
  nodes: [
    { id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 8, seqLen: 4096, headDim: 64 } },
    { id: 'att', type: 'attention', params: { variant: 'naive' } },
    ...extra,
  ],
  edges,
});

describe('analysis for the editor', () => {
  it('gives the shapes for edge labels when the graph compiles', () => {
    const a = analyze(base([{ from: 'qkv.q', to: 'att.q' }, { from: 'qkv.k', to: 'att.k' }, { from: 'qkv.v', to: 'att.v' }]), registry);
    expect(a.ok).toBe(true);
    expect(formatPortShape(a.shapes.qkv!.q)).toBe('8×4096×64 f32');
    expect(formatPortShape(a.shapes.att!.out)).toBe('8×4096×64 f32');
    expect(a.predictedPeakBytes).toBeGreaterThan(0);
  });

  it('still infers the complete part of an incomplete graph, and reports what is missing', () => {
    const a = analyze(base([{ from: 'qkv.q', to: 'att.q' }]), registry);
    expect(a.ok).toBe(false);
    expect(formatPortShape(a.shapes.qkv!.q)).toBe('8×4096×64 f32');
    expect(a.shapes.att).toBeUndefined();
    expect(a.issues.some((i) => i.nodeId === 'att' && /not connected/.test(i.message))).toBe(true);
  });

  it('reports shape errors on the node they concern', () => {
    const doc = base(
      [{ from: 'qkv.q', to: 'att.q' }, { from: 'qkv.k', to: 'att.k' }, { from: 'qkv.v', to: 'att.v' }, { from: 'qkv2.q', to: 'att2.q' }, { from: 'qkv.k', to: 'att2.k' }, { from: 'qkv.v', to: 'att2.v' }],
      [
        { id: 'qkv2', type: 'source.synthetic-qkv', params: { heads: 8, seqLen: 4096, headDim: 32 } },
        { id: 'att2', type: 'attention', params: { variant: 'naive' } },
      ],
    );
    const a = analyze(doc, registry);
    expect(a.ok).toBe(false);
    // The node's own message, without the "att2 (attention): " a list of all issues puts before it.
    const issue = a.issues.find((i) => i.nodeId === 'att2')!;
    expect(issue).toMatchObject({ nodeType: 'attention', message: expect.stringMatching(/^"k" dim D = 64 does not match D = 32/) });
    expect(issueMessage(issue)).toMatch(/^att2 \(attention\): "k" dim D = 64/);
    expect(formatPortShape(a.shapes.att!.out)).toBe('8×4096×64 f32');
  });

  it('infers around a node of an unknown type or with invalid params', () => {
    const doc = base([{ from: 'qkv.q', to: 'att.q' }, { from: 'qkv.k', to: 'att.k' }, { from: 'qkv.v', to: 'att.v' }, { from: 'qkv.q', to: 'odd.in' }], [
      { id: 'odd', type: 'no-such-type', params: {} },
      { id: 'bad', type: 'attention', params: { variant: 'naive', scale: 'big' } },
    ]);
    const a = analyze(doc, registry);
    // Every issue at once: the partial compile goes on past the first class of error.
    expect(a.issues.map((i) => i.path)).toEqual(['nodes[2].type', 'nodes[3].params.scale', 'nodes[3]', 'nodes[3]', 'nodes[3]']);
    expect(a.issues.slice(2).map((i) => i.port)).toEqual(['q', 'k', 'v']);
    expect(formatPortShape(a.shapes.att!.out)).toBe('8×4096×64 f32');
    expect(a.costs.att!.flops).toBeGreaterThan(0);
    expect(a.shapes.odd).toBeUndefined();
    expect(a.shapes.bad).toBeUndefined();
  });
});
