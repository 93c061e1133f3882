import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { Catalog } from './catalog.js';
import { docToGraph } from './graph.js';
import { countOverlaps, estimateHeight, layoutGraph, makeRoom, NODE_WIDTH } from './layout.js';

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

describe('auto-layout of a fan-out', () => {
  // One source feeding 12 kernels, each compared against an exact reference that the source also feeds:
  // laid out in layers this is one column 12 nodes tall.
  const kernels = Array.from({ length: 12 }, (_, i) => `k${i}`);
  const fan = docToGraph({
    format: 'context-lab/pipeline',
    version: 1,
    name: 'fan',
    nodes: [
      { id: 'qkv', type: 'source.synthetic-qkv' },
      { id: 'exact', type: 'attention', params: { variant: 'naive' } },
      ...kernels.flatMap((k) => [
        { id: k, type: 'attention', params: { variant: 'flash' } },
        { id: `cmp_${k}`, type: 'compare' },
      ]),
    ],
    edges: [
      ...['q', 'k', 'v'].map((p) => ({ from: `qkv.${p}`, to: `exact.${p}` })),
      ...kernels.flatMap((k) => [
        ...['q', 'k', 'v'].map((p) => ({ from: `qkv.${p}`, to: `${k}.${p}` })),
        { from: `${k}.out`, to: `cmp_${k}.a` },
        { from: 'exact.out', to: `cmp_${k}.b` },
      ]),
    ],
  });

  it('packs the branches beside the hubs to the canvas shape, without overlaps, each kernel left of its compare', async () => {
    const pos = await layoutGraph(fan.nodes, fan.edges, catalog, { aspect: 1.6 });
    const laid = fan.nodes.map((n) => ({ ...n, position: pos.get(n.id)! }));
    expect(countOverlaps(laid, catalog, 0)).toBe(0);
    const xs = laid.map((n) => n.position.x);
    const ys = laid.map((n) => n.position.y + estimateHeight(n, catalog));
    const [w, h] = [Math.max(...xs) + NODE_WIDTH - Math.min(...xs), Math.max(...ys) - Math.min(...laid.map((n) => n.position.y))];
    // A single column would be ~12 nodes tall and 3 wide (h/w ≈ 2); packed, it is wider than tall.
    expect(w / h).toBeGreaterThan(1);
    for (const k of kernels) expect(pos.get(k)!.x).toBeLessThan(pos.get(`cmp_${k}`)!.x);
    // The hubs sit left of every branch.
    const branchX = Math.min(...kernels.map((k) => pos.get(k)!.x));
    expect(pos.get('qkv')!.x).toBeLessThan(branchX);
    expect(pos.get('exact')!.x).toBeLessThan(branchX);
  });

  it('keeps the plain layered layout when there is no hub', async () => {
    const pos = await layoutGraph(g.nodes, g.edges, catalog, { aspect: 1.6 });
    expect(pos.get('a')!.x).toBe(pos.get('b')!.x);
  });
});

describe('making room for a node that grew', () => {
  const col = docToGraph({
    format: 'context-lab/pipeline',
    version: 1,
    name: 'col',
    nodes: [
      { id: 'top', type: 'compare', position: { x: 0, y: 0 } },
      { id: 'mid', type: 'compare', position: { x: 20, y: 140 } },
      { id: 'low', type: 'compare', position: { x: 0, y: 280 } },
      { id: 'aside', type: 'compare', position: { x: 400, y: 100 } },
    ],
    edges: [],
  });
  const measured = (h: Record<string, number>) => col.nodes.map((n) => ({ ...n, measured: { width: NODE_WIDTH, height: h[n.id] ?? 110 } }));

  it('moves the nodes under the grown one down, in a cascade, and leaves the others', () => {
    // `top` grew to 200 px (an error box): `mid` moves under it, and `low` under `mid`.
    const moves = makeRoom(measured({ top: 200 }), new Set(['top']), catalog, 24);
    expect(moves.get('mid')).toEqual({ x: 20, y: 224 });
    expect(moves.get('low')).toEqual({ x: 0, y: 224 + 110 + 24 });
    expect(moves.has('aside')).toBe(false);
    expect(moves.has('top')).toBe(false);
  });

  it('moves nothing when the grown node still fits', () => {
    expect(makeRoom(measured({ top: 110 }), new Set(['top']), catalog, 24).size).toBe(0);
  });
});
