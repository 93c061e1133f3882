import { describe, expect, it } from 'vitest';
import { DocumentError, docToGraph, freshId, graphToDoc, pasteGraph, serialize, subgraphDoc } from './graph.js';

const doc = {
  format: 'context-lab/pipeline',
  version: 1,
  name: 'p',
  description: 'd',
  future: { kept: true },
  nodes: [
    { id: 'a', type: 'source.synthetic-qkv', params: { seqLen: 8 }, position: { x: 1, y: 2 }, notes: 'hello' },
    { id: 'b', type: 'attention', params: { variant: 'naive' }, position: { x: 300, y: 0 }, label: 'B' },
  ],
  edges: [{ from: 'a.q', to: 'b.q', style: 'dashed' }, { from: 'a.k', to: 'b.k' }],
  checks: [{ node: 'b', metric: 'x', lt: 1, factor: 1 }],
};

describe('document ↔ graph', () => {
  it('round-trips a document, keeping fields the editor does not know', () => {
    const g = docToGraph(doc);
    expect(g.nodes.map((n) => n.id)).toEqual(['a', 'b']);
    expect(g.edges[0]).toMatchObject({ source: 'a', sourceHandle: 'q', target: 'b', targetHandle: 'q' });
    expect(graphToDoc(g)).toEqual(doc);
    // Key order is the file's: format, version, name, description, unknown fields, nodes, edges, checks.
    expect(Object.keys(graphToDoc(g))).toEqual(['format', 'version', 'name', 'description', 'future', 'nodes', 'edges', 'checks']);
    expect(serialize(docToGraph(JSON.parse(serialize(g))))).toBe(serialize(g));
  });

  it('migrates older documents and places nodes without positions', () => {
    const v0 = { format: 'context-lab/pipeline', version: 0, nodes: [{ id: 'a', kind: 'compare', config: {}, x: 5, y: 6 }, { id: 'b', kind: 'compare' }], links: [] };
    const g = docToGraph(v0);
    expect(g.nodes[0]!.position).toEqual({ x: 5, y: 6 });
    expect(g.nodes[1]!.position).toEqual({ x: 0, y: 0 });
    expect(g.nodes[0]!.data.type).toBe('compare');
  });

  it('rejects what is not a pipeline with a DocumentError', () => {
    expect(() => docToGraph({ hello: 1 })).toThrow(DocumentError);
    expect(() => docToGraph({ ...doc, nodes: [{ id: '1bad', type: 'x' }] })).toThrow(/node id/);
  });

  it('makes fresh ids', () => {
    expect(freshId('attention', new Set())).toBe('attention');
    expect(freshId('attention', new Set(['attention']))).toBe('attention_2');
    expect(freshId('a_2', new Set(['a_2', 'a_3']))).toBe('a_4');
    expect(freshId('source.npy', new Set())).toBe('source_npy');
    expect(freshId('9lives', new Set())).toBe('_9lives');
  });

  it('copies a selection as a pipeline and pastes it with new ids, at a point', () => {
    const g = docToGraph(doc);
    const sub = subgraphDoc(g, new Set(['a', 'b']));
    expect(sub.edges).toHaveLength(2);
    const pasted = pasteGraph(sub, new Set(['a', 'b']), { x: 1000, y: 1000 });
    expect(pasted.nodes.map((n) => n.id)).toEqual(['a_2', 'b_2']);
    expect(pasted.nodes[0]!.position).toEqual({ x: 1000, y: 1002 });
    expect(pasted.edges.map((e) => `${e.source}.${e.sourceHandle}->${e.target}.${e.targetHandle}`)).toEqual(['a_2.q->b_2.q', 'a_2.k->b_2.k']);
    // Only edges inside the selection travel.
    expect(subgraphDoc(g, new Set(['b'])).edges).toEqual([]);
  });
});
