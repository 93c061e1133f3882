import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { qkvAttention } from '../testdata/fixtures.js';
import { checkMemoryBudget, compile, type CompileIssue } from '../../engine/compile/compile.js';

function issues(doc: unknown): CompileIssue[] {
  const r = compile(doc, registry);
  if (r.ok) throw new Error('expected compile to fail');
  return r.issues;
}

describe('compile', () => {
  it('infers shapes through the graph', () => {
    const r = compile(qkvAttention({ seqLen: 48, headDim: 16 }), registry);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const flash = r.plan.steps.find((s) => s.id === 'flash')!;
    expect(flash.outShapes.out?.shape).toEqual([2, 48, 16]);
    expect(r.plan.steps.map((s) => s.id)).toEqual(['qkv', 'naive', 'flash', 'cmp']);
  });

  it('names the JSON path of a bad param', () => {
    const doc = qkvAttention();
    doc.nodes[0]!.params = { heads: 2, seqLen: -5, headDim: 8 };
    const [i] = issues(doc);
    expect(i).toMatchObject({ path: 'nodes[0].params.seqLen', nodeId: 'qkv' });
  });

  it('warns about params the node does not have (a typo, or another variant\'s), naming the close ones', () => {
    const doc = qkvAttention();
    (doc.nodes[0]!.params as Record<string, unknown>).seqlen = 4096;
    doc.nodes[1]!.params = { variant: 'naive', blockSize: 64 };
    const r = compile(doc, registry);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.warnings.map((w) => [w.path, w.nodeId])).toEqual([['nodes[0].params.seqlen', 'qkv'], ['nodes[1].params.blockSize', 'naive']]);
    expect(r.warnings[0]!.message).toContain('did you mean "seqLen"');
    expect(r.warnings[1]!.message).toMatch(/not a param of attention variant "naive".*params: variant, causal, scale/);
  });

  it('names an unknown node type and suggests a close one', () => {
    const doc = qkvAttention();
    doc.nodes[3]!.type = 'compar';
    const [i] = issues(doc);
    expect(i!.path).toBe('nodes[3].type');
    expect(i!.message).toContain('"compare"');
  });

  it('names an unknown port with the ports that exist', () => {
    const doc = qkvAttention();
    doc.edges[0]!.to = 'naive.query';
    const all = issues(doc);
    expect(all).toHaveLength(1); // not also "required input q is not connected"
    const [i] = all;
    expect(i).toMatchObject({ path: 'edges[0].to', nodeId: 'naive', port: 'query' });
    expect(i!.message).toContain('inputs: q, k, v');
  });

  it('refuses wiring an output the configured variant does not produce', () => {
    const doc = {
      format: 'context-lab/pipeline', version: 1, name: 'fp16 scales',
      nodes: [
        { id: 'qkv', type: 'source.synthetic-qkv', params: { seqLen: 8 } },
        { id: 'q', type: 'quantize', params: { variant: 'fp16' } },
        { id: 's', type: 'sink.npy', params: { name: 'scales' } },
      ],
      edges: [{ from: 'qkv.k', to: 'q.in' }, { from: 'q.scales', to: 's.in' }],
    };
    const [i] = issues(doc);
    expect(i).toMatchObject({ path: 'edges[1].from', nodeId: 'q', port: 'scales' });
    expect(i!.message).toContain('variant fp16');
  });

  it('reports a shape error once, at its source, not again on every node downstream', () => {
    const doc = qkvAttention();
    doc.nodes[0]!.params = { heads: 2, kvHeads: 3, seqLen: 32, headDim: 8 } as never;
    const all = issues(doc);
    expect(all.map((i) => i.nodeId)).toEqual(['qkv']);
    expect(all[0]!.message).toContain('kvHeads');
  });

  it('refuses a port-kind mismatch', () => {
    const doc = qkvAttention();
    doc.nodes.push({ id: 'attn2', type: 'attention', params: { variant: 'naive' } } as never);
    doc.edges.push({ from: 'cmp.metrics', to: 'attn2.q' }, { from: 'qkv.k', to: 'attn2.k' }, { from: 'qkv.v', to: 'attn2.v' });
    const i = issues(doc).find((x) => x.nodeId === 'attn2')!;
    expect(i.path).toBe('edges[8]');
    expect(i.message).toContain('a metrics output cannot feed a tensor input');
  });

  it('reports shapes that do not unify, on the edge and node concerned', () => {
    const doc = qkvAttention();
    doc.nodes.push({ id: 'other', type: 'source.synthetic-qkv', params: { heads: 2, seqLen: 32, headDim: 4 } } as never);
    doc.edges[1] = { from: 'other.k', to: 'naive.k' };
    const [i] = issues(doc);
    expect(i).toMatchObject({ nodeId: 'naive', port: 'k', path: 'edges[1]' });
    expect(i!.message).toMatch(/dim D = 4 does not match D = 8/);
  });

  it('names every node on a cycle', () => {
    const doc = {
      format: 'context-lab/pipeline', version: 1, name: 'cycle',
      nodes: [
        { id: 'qkv', type: 'source.synthetic-qkv' },
        { id: 'a', type: 'attention', params: { variant: 'naive' } },
        { id: 'b', type: 'attention', params: { variant: 'naive' } },
      ],
      edges: [
        { from: 'b.out', to: 'a.q' }, { from: 'qkv.k', to: 'a.k' }, { from: 'qkv.v', to: 'a.v' },
        { from: 'a.out', to: 'b.q' }, { from: 'qkv.k', to: 'b.k' }, { from: 'qkv.v', to: 'b.v' },
      ],
    };
    const [i] = issues(doc);
    expect(i!.message).toBe('the graph has a cycle through a → b');
  });

  it('requires non-optional inputs to be connected', () => {
    const doc = qkvAttention();
    doc.edges = doc.edges.filter((e) => e.to !== 'flash.v');
    const [i] = issues(doc);
    expect(i).toMatchObject({ path: 'nodes[2]', nodeId: 'flash', port: 'v' });
    expect(i!.message).toContain('required input "flash.v" (tensor) is not connected');
  });

  it('refuses duplicate ids and inputs fed twice', () => {
    const doc = qkvAttention();
    doc.nodes[2]!.id = 'naive';
    expect(issues(doc)[0]).toMatchObject({ path: 'nodes[2].id' });
    const doc2 = qkvAttention();
    doc2.edges.push({ from: 'qkv.k', to: 'flash.q' });
    expect(issues(doc2)[0]!.message).toContain('fed by more than one edge');
  });

  it('plans memory: naive grows with T², flash does not', () => {
    const peak = (variant: string, T: number) => {
      const r = compile(qkvAttention({ seqLen: T, variant, headDim: 64, blockSize: 256 }), registry);
      if (!r.ok) throw new Error(JSON.stringify(r.issues));
      return r.plan.steps.find((s) => s.id === 'flash')!.cost.workspaceBytes;
    };
    // Naive holds the 4096×4096 f32 scores and mask of one head: 2·64 MiB.
    expect(peak('naive', 4096)).toBeGreaterThanOrEqual(2 * 4096 * 4096 * 4);
    // Flash holds O(T·D): doubling T at most doubles it (plus the constant tile).
    expect(peak('flash', 8192)).toBeLessThan(2.2 * peak('flash', 4096));
    expect(peak('flash', 8192)).toBeLessThan(16 * 1024 * 1024);
  });

  it('predicts lifetimes: a value is freed after its last reader', () => {
    const r = compile(qkvAttention({ seqLen: 64 }), registry);
    if (!r.ok) throw new Error();
    const [qkv, naive, flash, cmp] = r.plan.steps;
    expect(qkv!.lastUse).toEqual({ q: 2, k: 2, v: 2 });
    expect(naive!.lastUse.out).toBe(3);
    expect(flash!.lastUse.out).toBe(3);
    // While cmp runs, q/k/v are gone: only the two attention outputs are live.
    expect(cmp!.predictedPeakBytes).toBe(2 * 2 * 64 * 8 * 4);
  });

  it('the pre-flight guard refuses naive attention at T = 65536, naming the node and the figure', () => {
    const doc = qkvAttention({ seqLen: 65536, headDim: 64, variant: 'flash', blockSize: 256 });
    doc.nodes[0]!.params = { heads: 1, seqLen: 65536, headDim: 64 };
    const r = compile(doc, registry);
    if (!r.ok) throw new Error();
    const refused = checkMemoryBudget(r.plan, 12 * 1024 ** 3);
    expect(refused?.nodeId).toBe('naive');
    expect(refused?.message).toMatch(/node "naive" \(attention\) needs a predicted 88\.\d GiB at peak .*over the memory budget of 12\.0 GiB/);
    doc.nodes.splice(1, 1);
    doc.edges = doc.edges.filter((e) => !e.to.startsWith('naive') && !e.from.startsWith('naive'));
    doc.nodes.splice(2, 1);
    doc.edges = doc.edges.filter((e) => !e.to.startsWith('cmp'));
    const r2 = compile(doc, registry);
    if (!r2.ok) throw new Error(JSON.stringify(r2.issues));
    expect(checkMemoryBudget(r2.plan, 512 * 1024 ** 2)).toBeNull();
  });

  it('loads an older document through the migration chain', () => {
    const v0 = JSON.parse(readFileSync(new URL('../../engine/testdata/v0-draft.json', import.meta.url), 'utf8'));
    const r = compile(v0, registry);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.plan.doc.version).toBe(1);
    expect(r.plan.doc.nodes[0]).toMatchObject({ id: 'qkv', type: 'source.synthetic-qkv', position: { x: 10, y: 20 } });
    expect(r.plan.doc.edges[0]).toEqual({ from: 'qkv.q', to: 'attn.q' });
    expect(r.plan.steps[1]!.outShapes.out?.shape).toEqual([2, 32, 8]);
  });

  it('keeps unknown fields of a newer writer', () => {
    const doc = { ...qkvAttention(), futureField: { a: 1 } };
    (doc.nodes[0] as Record<string, unknown>).color = 'red';
    const r = compile(doc, registry);
    if (!r.ok) throw new Error();
    expect((r.plan.doc as Record<string, unknown>).futureField).toEqual({ a: 1 });
    expect((r.plan.doc.nodes[0] as Record<string, unknown>).color).toBe('red');
  });
});
