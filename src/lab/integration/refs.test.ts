// What `run` would refuse, refused by `compile` (so by `ctxlab validate`): checks naming what is not
// there or comparing nothing, two sinks with one name, names too long for a file. And the plan's
// algorithms at scale: a stable topological order and the live-bytes sweep against brute force.
import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { qkvAttention } from '../testdata/fixtures.js';
import { compile, topologicalOrder, type CompileIssue } from '../../engine/compile/compile.js';

function issues(doc: unknown): CompileIssue[] {
  const r = compile(doc, registry);
  if (r.ok) throw new Error('expected compile to fail');
  return r.issues;
}
const withChecks = (checks: unknown[]) => ({ ...qkvAttention(), checks });

describe('compile refuses what a run would refuse', () => {
  it('a check that compares nothing', () => {
    expect(issues(withChecks([{ node: 'cmp', metric: 'maxAbs' }]))).toEqual([
      { path: 'checks[0]', nodeId: 'cmp', message: 'a check needs a comparison: one of lt, le, gt, ge (a number or { node, metric })' },
    ]);
  });

  it('a check naming a node that is not there, on either side', () => {
    const found = issues(withChecks([{ node: 'cmpp', metric: 'maxAbs', lt: 1 }, { node: 'cmp', metric: 'maxAbs', lt: { node: 'nope', metric: 'x' } }]));
    expect(found.map((i) => i.path)).toEqual(['checks[0].node', 'checks[1].lt.node']);
    expect(found[0]!.message).toBe('check names node "cmpp", which is not in the pipeline (did you mean "cmp"?)');
  });

  it('a check reading a port that is not a metrics output', () => {
    const [i] = issues(withChecks([{ node: 'flash', metric: 'maxAbs', lt: 1 }]));
    expect(i).toMatchObject({ path: 'checks[0].port', nodeId: 'flash', port: 'metrics' });
    expect(i!.message).toContain('not a metrics output of attention; its metrics: devices');
    // A prototype key is no port either.
    expect(issues(withChecks([{ node: 'cmp', port: 'constructor', metric: 'x', lt: 1 }]))[0]).toMatchObject({ path: 'checks[0].port' });
  });

  it('a metric the node says it does not report, with the ones it does', () => {
    const [i] = issues(withChecks([{ node: 'cmp', metric: 'cosine', gt: { node: 'cmp', metric: 'maxabs' } }]));
    expect(i).toMatchObject({ path: 'checks[0].gt.metric', nodeId: 'cmp' });
    expect(i!.message).toBe('check reads metric "maxabs" of cmp, which it does not report (did you mean "maxAbs"?); its metrics: maxAbs, meanAbs, maxRel, cosine, rmse, elements');
  });

  it('accepts checks on profile fields of any node, and on metrics nodes that do not declare them', () => {
    const doc = { ...qkvAttention(), checks: [{ node: 'flash', profile: 'peakBytes', le: { node: 'naive', profile: 'peakBytes' } }, { node: 'cmp', metric: 'cosine', gt: 0.99 }] };
    expect(compile(doc, registry).ok).toBe(true);
  });

  it('a check on an optional metrics output makes the run produce it', () => {
    const doc = {
      format: 'context-lab/pipeline', version: 1, name: 't',
      nodes: [{ id: 'text', type: 'source.text', params: { text: 'hello' } }, { id: 'tok', type: 'tokenizer', params: {} }],
      edges: [{ from: 'text.text', to: 'tok.text' }],
      checks: [{ node: 'tok', metric: 'tokens', gt: 0 }],
    };
    const r = compile(doc, registry);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect([...r.plan.steps[1]!.connectedOutputs]).toEqual(['metrics']);
  });

  const sinks = (...names: unknown[]) => ({
    ...qkvAttention(),
    nodes: [...qkvAttention().nodes, ...names.map((name, i) => ({ id: `save${i}`, type: 'sink.npy', params: { name } }))],
    edges: [...qkvAttention().edges, ...names.map((_, i) => ({ from: 'flash.out', to: `save${i}.in` }))],
  });

  it('two sinks writing one file', () => {
    expect(issues(sinks('att', 'other', 'att'))).toEqual([
      { path: 'nodes[6].params', nodeId: 'save2', message: 'output name "att" is already written by node "save0" (nodes[4])' },
    ]);
    expect(compile(sinks('att', 'Att'), registry).ok).toBe(true);
  });

  it('a sink name too long for a file name', () => {
    const [i] = issues(sinks('x'.repeat(300)));
    expect(i).toMatchObject({ path: 'nodes[4].params.name', nodeId: 'save0' });
    expect(i!.message).toContain('at most 200 characters');
  });
});

describe('the plan at scale', () => {
  /** A random DAG over n nodes whose edges go from lower to higher index in a random relabelling. */
  function randomDag(n: number, edges: number, seed: number) {
    let s = seed;
    const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const rank = Array.from({ length: n }, (_, i) => i).sort(() => rand() - 0.5);
    const succ = Array.from({ length: n }, () => new Set<number>());
    for (let e = 0; e < edges; e++) {
      const [a, b] = [Math.floor(rand() * n), Math.floor(rand() * n)];
      if (rank[a]! < rank[b]!) succ[a]!.add(b);
      else if (rank[b]! < rank[a]!) succ[b]!.add(a);
    }
    return succ;
  }

  /** The reference: repeatedly take the lowest-index node with no unvisited predecessor. */
  function stableOrder(succ: Set<number>[]): number[] {
    const indeg = succ.map(() => 0);
    succ.forEach((t) => t.forEach((j) => indeg[j]!++));
    const done = succ.map(() => false);
    const order: number[] = [];
    for (;;) {
      const i = indeg.findIndex((d, j) => d === 0 && !done[j]);
      if (i < 0) return order;
      done[i] = true;
      order.push(i);
      succ[i]!.forEach((j) => indeg[j]!--);
    }
  }

  it('orders nodes topologically, lowest document index first among the ready ones', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const succ = randomDag(60, 90, seed);
      expect(topologicalOrder(succ)).toEqual({ order: stableOrder(succ), cyclic: [] });
    }
    const cyclic = [new Set([1]), new Set([2]), new Set([1]), new Set<number>()];
    expect(topologicalOrder(cyclic)).toEqual({ order: [0, 3], cyclic: [1, 2] });
  });

  it('predicts live bytes at every step as the sum over values made before it and read at or after it', () => {
    // Chains and fan-outs of synthetic sources and compares: values of different sizes and lifetimes.
    const nodes: { id: string; type: string; params?: object }[] = [];
    const edges: { from: string; to: string }[] = [];
    for (let i = 0; i < 12; i++) nodes.push({ id: `s${i}`, type: 'source.synthetic-qkv', params: { heads: 1 + (i % 3), seqLen: 8 * (1 + i), headDim: 4 } });
    for (let i = 0; i < 10; i++) {
      nodes.push({ id: `c${i}`, type: 'compare' });
      const src = `s${(i * 5) % 12}`;
      edges.push({ from: `${src}.q`, to: `c${i}.a` }, { from: `${src}.q`, to: `c${i}.b` });
    }
    const r = compile({ format: 'context-lab/pipeline', version: 1, name: 'live', nodes, edges }, registry);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const { steps } = r.plan;
    const bytes = (shape: { shape?: (number | null)[] } | undefined) => (shape?.shape ?? []).reduce((a: number, d) => a * (d ?? 0), 4);
    steps.forEach((s, si) => {
      let live = 0;
      for (let pi = 0; pi < si; pi++)
        for (const [port, shape] of Object.entries(steps[pi]!.outShapes)) if (steps[pi]!.lastUse[port]! >= si && shape?.kind === 'tensor') live += bytes(shape);
      expect(s.predictedPeakBytes, s.id).toBe(live + s.cost.workspaceBytes + s.predictedOutputBytes);
    });
    expect(steps.some((s, si) => si > 0 && s.predictedPeakBytes > s.predictedOutputBytes + s.cost.workspaceBytes)).toBe(true);
  });
});
