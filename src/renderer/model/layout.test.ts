import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { Catalog } from './catalog.js';
import { docToGraph } from './graph.js';
import { countOverlaps, layoutGraph, NODE_WIDTH } from './layout.js';

const catalog = new Catalog(registry);
const g = docToGraph({
  format: 'context-lab/pipeline',
  version: 1,
  name: 't',
  nodes: [
    { id: 'qkv', type: 'source.synthetic-qkv', position: { x: 0, y: 0 } },
    { id: 'a', type: 'attention', params: { variant: 'naive' }, position: { x: 10, y: 10 } },
    { id: 'b', type: 'attention', params: { variant: 'flash' }, position: { x: 20, y: 20 } },
    { id: 'cmp', type: 'compare', position: { x: 30, y: 30 } },
  ],
  edges: [
    { from: 'qkv.q', to: 'a.q' },
    { from: 'qkv.q', to: 'b.q' },
    { from: 'a.out', to: 'cmp.b' },
    { from: 'b.out', to: 'cmp.a' },
  ],
});

describe('auto-layout', () => {
  it('lays the graph out left to right without overlaps', async () => {
    expect(countOverlaps(g.nodes, catalog)).toBe(6);
    const pos = await layoutGraph(g.nodes, g.edges, catalog);
    const laid = g.nodes.map((n) => ({ ...n, position: pos.get(n.id)! }));
    expect(countOverlaps(laid, catalog)).toBe(0);
    const x = (id: string) => pos.get(id)!.x;
    expect(x('qkv')).toBeLessThan(x('a'));
    expect(x('a')).toBe(x('b'));
    expect(x('b') + NODE_WIDTH).toBeLessThan(x('cmp'));
  });
});
