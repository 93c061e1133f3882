import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { Catalog } from '../model/catalog.js';
import { docToGraph } from '../model/graph.js';
import { createEditor } from './editor.js';

const catalog = new Catalog(registry);

function fresh() {
  const e = createEditor(catalog);
  e.load(
    docToGraph({
      format: 'context-lab/pipeline',
      version: 1,
      name: 't',
      nodes: [
        { id: 'qkv', type: 'source.synthetic-qkv', params: {}, position: { x: 0, y: 0 } },
        { id: 'att', type: 'attention', params: { variant: 'naive' }, position: { x: 300, y: 0 } },
      ],
      edges: [{ from: 'qkv.q', to: 'att.q' }],
      checks: [{ node: 'att', metric: 'x', lt: { node: 'att', metric: 'y' } }],
    }),
    { name: 't.json' },
  );
  return e;
}

describe('editor store', () => {
  it('starts clean; a change makes it dirty; undo back to the saved state makes it clean again', () => {
    const e = fresh();
    expect(e.isDirty()).toBe(false);
    e.setParams('qkv', { seqLen: 16 });
    expect(e.isDirty()).toBe(true);
    e.undo();
    expect(e.isDirty()).toBe(false);
    e.redo();
    expect(e.doc().nodes[0]!.params).toEqual({ seqLen: 16 });
  });

  it('makes one undo step of a run of edits to one field', () => {
    const e = fresh();
    e.setParams('qkv', { seqLen: 1 }, 'param:qkv:seqLen');
    e.setParams('qkv', { seqLen: 10 }, 'param:qkv:seqLen');
    e.setParams('qkv', { seqLen: 102 }, 'param:qkv:seqLen');
    e.undo();
    expect(e.doc().nodes[0]!.params).toEqual({});
  });

  it('makes one undo step of a drag', () => {
    const e = fresh();
    e.onNodesChange([{ type: 'position', id: 'qkv', position: { x: 10, y: 0 }, dragging: true }]);
    e.onNodesChange([{ type: 'position', id: 'qkv', position: { x: 20, y: 5 }, dragging: true }]);
    e.onNodesChange([{ type: 'position', id: 'qkv', position: { x: 30, y: 5 }, dragging: false }]);
    expect(e.doc().nodes[0]!.position).toEqual({ x: 30, y: 5 });
    e.undo();
    expect(e.doc().nodes[0]!.position).toEqual({ x: 0, y: 0 });
  });

  it('ignores selection and measuring for history and dirtiness', () => {
    const e = fresh();
    e.onNodesChange([{ type: 'select', id: 'qkv', selected: true }]);
    e.onNodesChange([{ type: 'dimensions', id: 'qkv', dimensions: { width: 236, height: 120 } }]);
    expect(e.isDirty()).toBe(false);
    expect(e.store.get().canUndo).toBe(false);
  });

  it('re-wires an input that already has an edge, says which edge it replaced, and undoes in one step', () => {
    const e = fresh();
    const replaced = e.connect({ source: 'qkv', sourceHandle: 'k', target: 'att', targetHandle: 'q' });
    expect(replaced).toMatchObject({ source: 'qkv', sourceHandle: 'q', target: 'att', targetHandle: 'q' });
    expect(e.doc().edges).toEqual([{ from: 'qkv.k', to: 'att.q' }]);
    e.undo();
    expect(e.doc().edges).toEqual([{ from: 'qkv.q', to: 'att.q' }]);
    // A new edge into a free input replaces nothing; the same edge again changes nothing.
    expect(e.connect({ source: 'qkv', sourceHandle: 'k', target: 'att', targetHandle: 'k' })).toBeUndefined();
    const rev = e.store.get().rev;
    expect(e.connect({ source: 'qkv', sourceHandle: 'k', target: 'att', targetHandle: 'k' })).toBeUndefined();
    expect(e.store.get().rev).toBe(rev);
  });

  it('keeps a label that quotes a param in step with it, keystroke by keystroke', () => {
    const e = fresh();
    e.setParams('qkv', { seqLen: 2048 });
    e.setLabel('qkv', 'T = 2048, 8 heads');
    e.seal();
    for (const v of [1, 16, 163, 1638, 16384]) e.setParams('qkv', { seqLen: v }, 'param:qkv:seqLen');
    e.seal();
    expect(e.doc().nodes[0]!.label).toBe('T = 16384, 8 heads');
    e.undo();
    expect(e.doc().nodes[0]!.label).toBe('T = 2048, 8 heads');
  });

  it('adds, duplicates, copies and pastes nodes with fresh ids', () => {
    const e = fresh();
    const id = e.addNode('attention', 'flash', { x: 0, y: 300 });
    expect(id).toBe('flash');
    expect(e.doc().nodes.find((n) => n.id === 'flash')!.params).toEqual({ variant: 'flash' });
    e.select('att');
    expect(e.duplicateSelection()).toBe(1);
    expect(e.doc().nodes.map((n) => n.id)).toContain('att_2');
    const text = e.copySelection()!;
    expect(JSON.parse(text).nodes.map((n: { id: string }) => n.id)).toEqual(['att_2']);
    e.paste(text);
    expect(e.doc().nodes.map((n) => n.id)).toContain('att_3');
  });

  it('deletes a node with its edges', () => {
    const e = fresh();
    e.select('qkv');
    e.deleteSelection();
    expect(e.doc().nodes.map((n) => n.id)).toEqual(['att']);
    expect(e.doc().edges).toEqual([]);
    e.undo();
    expect(e.doc().edges).toHaveLength(1);
  });

  it('renames a node, its edges and the checks that name it', () => {
    const e = fresh();
    expect(e.renameNode('att', 'qkv')).toMatch(/taken/);
    expect(e.renameNode('att', '1x')).toMatch(/starts with an ASCII letter/);
    expect(e.renameNode('att', 'attn')).toBeNull();
    const d = e.doc();
    expect(d.edges).toEqual([{ from: 'qkv.q', to: 'attn.q' }]);
    expect(d.checks![0]).toMatchObject({ node: 'attn', lt: { node: 'attn' } });
  });

  it('marks saved at a revision: later edits are dirty again', () => {
    const e = fresh();
    e.setParams('qkv', { seed: 1 });
    e.markSaved({ name: 'x.json', id: '/tmp/x.json' }, e.store.get().rev);
    expect(e.isDirty()).toBe(false);
    e.setParams('qkv', { seed: 2 });
    expect(e.isDirty()).toBe(true);
  });
});

describe('positions that are not an undo step', () => {
  it('makes room without taking the place of the last step on the undo stack', () => {
    const e = fresh();
    e.connect({ source: 'qkv', sourceHandle: 'k', target: 'att', targetHandle: 'k' });
    e.setPositions(new Map([['att', { x: 300, y: 200 }]]), { undoable: false });
    expect(e.store.get().nodes.find((n) => n.id === 'att')!.position).toEqual({ x: 300, y: 200 });
    // Undo takes back the connection, not the nudge.
    e.undo();
    expect(e.store.get().edges.some((x) => x.target === 'att' && x.targetHandle === 'k')).toBe(false);
  });
});
