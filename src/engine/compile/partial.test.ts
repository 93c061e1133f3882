// compile(…, { partial: true }): the shapes and costs of what can be inferred, beside the issues; and
// messages about a node carry its type apart, for displays to put before them (formatIssue).
import { describe, expect, it } from 'vitest';
import { toyDoc, toyRegistry } from '../testdata/registry.js';
import { compile, formatIssue, issueMessage } from './compile.js';

const registry = toyRegistry();
const count = (id: string, length: number) => ({ id, type: 'toy.count', params: { path: 'x', length } });

describe('partial compile', () => {
  const incomplete = toyDoc(
    [count('c', 10), { id: 's', type: 'toy.scale' }, { id: 'sum', type: 'toy.pair' }, { id: 'odd', type: 'toy.nope' }],
    [['c.out', 's.in'], ['s.out', 'sum.a'], ['c.out', 'odd.in']],
  );

  it('infers the complete part and reports every issue at once', () => {
    const r = compile(incomplete, registry, { partial: true });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => [i.path, i.nodeId, i.port])).toEqual([['nodes[3].type', 'odd', undefined], ['nodes[2]', 'sum', 'b']]);
    expect(r.shapes?.c?.out).toEqual({ kind: 'tensor', dtype: 'float32', shape: [10] });
    expect(r.shapes?.s?.out).toEqual({ kind: 'tensor', dtype: 'float32', shape: [10] });
    // toy.scale's cost: one flop per element.
    expect(r.costs?.s).toEqual({ flops: 10, workspaceBytes: 0 });
    expect(Object.keys(r.shapes!).sort()).toEqual(['c', 's']);
  });

  it('without partial, stops at the first class of error and gives no shapes', () => {
    const r = compile(incomplete, registry);
    expect(r).toEqual({ ok: false, issues: [expect.objectContaining({ path: 'nodes[3].type', nodeId: 'odd' })] });
  });

  it('keeps inferring beside a cycle', () => {
    const doc = toyDoc([count('c', 4), { id: 'a', type: 'toy.pair' }, { id: 'b', type: 'toy.scale' }], [['c.out', 'a.a'], ['b.out', 'a.b'], ['a.out', 'b.in']]);
    const r = compile(doc, registry, { partial: true });
    expect(!r.ok && r.issues.map((i) => i.message)).toEqual(['the graph has a cycle through a → b']);
    expect(!r.ok && Object.keys(r.shapes!)).toEqual(['c']);
    expect(compile(doc, registry)).toEqual({ ok: false, issues: [expect.objectContaining({ message: 'the graph has a cycle through a → b' })] });
  });

  it('a shape error names the node and its type apart from the message; displays put them before it', () => {
    const doc = toyDoc([count('a', 10), count('b', 3), { id: 'sum', type: 'toy.pair' }], [['a.out', 'sum.a'], ['b.out', 'sum.b']]);
    const r = compile(doc, registry, { partial: true });
    if (r.ok) throw new Error('compiled');
    const [issue] = r.issues;
    expect(issue).toEqual({ path: 'edges[1]', nodeId: 'sum', port: 'b', nodeType: 'toy.pair', message: 'b has length 3, a has 10' });
    expect(issueMessage(issue!)).toBe('sum (toy.pair): b has length 3, a has 10');
    expect(formatIssue(issue!)).toBe('edges[1] [sum]: sum (toy.pair): b has length 3, a has 10');
    expect(formatIssue({ path: 'nodes[0]', nodeId: 'x', message: 'plain' })).toBe('nodes[0] [x]: plain');
    // The inputs were inferred; the failed node has no shapes.
    expect(Object.keys(r.shapes!)).toEqual(['a', 'b']);
  });
});
