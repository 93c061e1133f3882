// The document being edited: graph, undo history, file identity and dirty state. Every change to
// the document goes through the functions here, so each is one undo step (drags and typing in one
// field coalesce into one).
import { applyEdgeChanges, applyNodeChanges, type Connection, type EdgeChange, type NodeChange } from '@xyflow/react';
import {
  emptyGraph,
  freshId,
  graphToDoc,
  makeEdge,
  makeNode,
  pasteGraph,
  serialize,
  subgraphDoc,
  type DocMeta,
  type FlowEdge,
  type FlowNode,
  type Graph,
} from '../model/graph.js';
import { History } from '../model/history.js';
import { followLabel } from '../model/label.js';
import type { Catalog } from '../model/catalog.js';
import { createStore } from './store.js';

export interface FileRef {
  name: string;
  /** Host-specific identity (a path in Electron, a file handle on the web). */
  id?: unknown;
}

export interface EditorState extends Graph {
  file: FileRef;
  /** Identity of this version of the document; equal to savedRev when nothing changed since saving. */
  rev: number;
  savedRev: number;
  /** Bumped when anything but positions or selection changes: what the compiler must see. */
  structRev: number;
  canUndo: boolean;
  canRedo: boolean;
}

interface Snapshot {
  meta: DocMeta;
  nodes: FlowNode[];
  edges: FlowEdge[];
  rev: number;
}

let revCounter = 1;
const nextRev = () => ++revCounter;

export type Editor = ReturnType<typeof createEditor>;

export function createEditor(catalog: Catalog) {
  const store = createStore<EditorState>({
    ...emptyGraph(),
    file: { name: 'untitled.json' },
    rev: 1,
    savedRev: 1,
    structRev: 1,
    canUndo: false,
    canRedo: false,
  });
  const history = new History<Snapshot>();
  let dragging = false;
  /** The node's label and params when the current run of edits to one field began. */
  let editRun: { key: string; id: string; label: string | undefined; params: Record<string, unknown> } | null = null;

  const snapshot = (): Snapshot => {
    const s = store.get();
    return { meta: s.meta, nodes: s.nodes, edges: s.edges, rev: s.rev };
  };
  const flags = () => ({ canUndo: history.canUndo, canRedo: history.canRedo });

  /** Applies a document change as an undo step. */
  function change(fn: (s: EditorState) => Partial<Graph>, key?: string, structural = true) {
    history.push(snapshot(), key);
    store.set((s) => ({ ...s, ...fn(s), rev: nextRev(), structRev: structural ? s.structRev + 1 : s.structRev, ...flags() }));
  }

  const ids = () => new Set(store.get().nodes.map((n) => n.id));
  const selectedIds = () => new Set(store.get().nodes.filter((n) => n.selected).map((n) => n.id));

  return {
    store,
    catalog,

    graph(): Graph {
      const s = store.get();
      return { meta: s.meta, nodes: s.nodes, edges: s.edges };
    },
    doc() {
      return graphToDoc(this.graph());
    },
    text() {
      return serialize(this.graph());
    },
    isDirty() {
      const s = store.get();
      return s.rev !== s.savedRev;
    },

    /** React Flow's node changes: selection and measuring are not document changes; moves are. */
    onNodesChange(changes: NodeChange<FlowNode>[]) {
      const removes = changes.filter((c) => c.type === 'remove');
      if (removes.length) return this.remove(new Set(removes.map((c) => (c as { id: string }).id)), new Set());
      const moves = changes.filter((c) => c.type === 'position') as { id: string; position?: unknown; dragging?: boolean }[];
      if (moves.length) {
        const isDrag = moves.some((c) => c.dragging);
        const moved = moves.some((c) => c.position);
        if (isDrag && !dragging) history.push(snapshot());
        else if (!isDrag && !dragging && moved) history.push(snapshot(), `nudge:${moves.map((c) => c.id).join(',')}`);
        dragging = isDrag;
        store.set((s) => ({ ...s, nodes: applyNodeChanges(changes, s.nodes), rev: moved ? nextRev() : s.rev, ...flags() }));
        return;
      }
      store.set((s) => ({ ...s, nodes: applyNodeChanges(changes, s.nodes) }));
    },

    onEdgesChange(changes: EdgeChange<FlowEdge>[]) {
      const removes = changes.filter((c) => c.type === 'remove');
      if (removes.length) return this.remove(new Set(), new Set(removes.map((c) => (c as { id: string }).id)));
      store.set((s) => ({ ...s, edges: applyEdgeChanges(changes, s.edges) }));
    },

    /**
     * Adds an edge (one undo step). An input has one source: an edge already into it is replaced,
     * and returned so that the UI can say so.
     */
    connect(c: Connection): FlowEdge | undefined {
      if (!c.source || !c.target || !c.sourceHandle || !c.targetHandle) return undefined;
      const edge = makeEdge(c.source, c.sourceHandle, c.target, c.targetHandle);
      const into = (e: FlowEdge) => e.target === c.target && e.targetHandle === c.targetHandle;
      const replaced = store.get().edges.find(into);
      if (replaced && replaced.source === c.source && replaced.sourceHandle === c.sourceHandle) return undefined; // the same edge again
      change((s) => ({ edges: [...s.edges.filter((e) => !into(e)), edge] }));
      return replaced;
    },

    addNode(type: string, variant: string | undefined, position: { x: number; y: number }): string {
      const def = catalog.def(type);
      const base = variant ?? def?.type.split('.').pop() ?? 'node';
      const id = freshId(base, ids());
      const node = { ...makeNode(id, type, catalog.newParams(type, variant), position), selected: true };
      change((s) => ({ nodes: [...s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node] }));
      return id;
    },

    /**
     * Sets a node's params; edits sharing `key` within a second make one undo step. A label quoting a
     * changed param follows it ("T = 2048" → "T = 16384"), judged against the label and params from
     * before the run of keystrokes, so that intermediate values ("1", "16", …) do not confuse it.
     */
    setParams(id: string, params: Record<string, unknown>, key?: string) {
      const node = store.get().nodes.find((n) => n.id === id);
      if (!node) return;
      if (!key || editRun?.key !== key || editRun.id !== id) editRun = { key: key ?? '', id, label: node.data.label, params: node.data.params };
      const label = followLabel(editRun.label, editRun.params, params);
      if (!key) editRun = null;
      change((s) => ({ nodes: s.nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, params, label } } : n)) }), key);
    },

    setLabel(id: string, label: string | undefined) {
      change((s) => ({ nodes: s.nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, label } } : n)) }), `label:${id}`);
    },

    /** Renames a node, re-pointing its edges and the checks that name it. Returns an error message or null. */
    renameNode(id: string, next: string): string | null {
      if (next === id) return null;
      if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(next)) return 'an id starts with an ASCII letter or _ and holds only ASCII letters, digits, _ and -';
      if (ids().has(next)) return `"${next}" is taken`;
      change((s) => ({
        nodes: s.nodes.map((n) => (n.id === id ? { ...n, id: next } : n)),
        edges: s.edges.map((e) =>
          e.source === id || e.target === id
            ? makeEdge(e.source === id ? next : e.source, e.sourceHandle!, e.target === id ? next : e.target, e.targetHandle!, e.data?.extra)
            : e,
        ),
        meta: s.meta.checks
          ? {
              ...s.meta,
              checks: s.meta.checks.map((c) => {
                const r = { ...c, node: c.node === id ? next : c.node };
                for (const op of ['lt', 'le', 'gt', 'ge'] as const) {
                  const v = r[op];
                  if (v && typeof v === 'object' && v.node === id) r[op] = { ...v, node: next };
                }
                return r;
              }),
            }
          : s.meta,
      }));
      return null;
    },

    setMeta(meta: Partial<DocMeta>) {
      change((s) => ({ meta: { ...s.meta, ...meta } }), 'meta');
    },

    remove(nodeIds: Set<string>, edgeIds: Set<string>) {
      if (!nodeIds.size && !edgeIds.size) return;
      change((s) => ({
        nodes: s.nodes.filter((n) => !nodeIds.has(n.id)),
        edges: s.edges.filter((e) => !edgeIds.has(e.id) && !nodeIds.has(e.source) && !nodeIds.has(e.target)),
      }));
    },

    deleteSelection() {
      const s = store.get();
      this.remove(selectedIds(), new Set(s.edges.filter((e) => e.selected).map((e) => e.id)));
    },

    /** The selection as pipeline JSON (what copy puts on the clipboard), or null when nothing is selected. */
    copySelection(): string | null {
      const sel = selectedIds();
      if (!sel.size) return null;
      return `${JSON.stringify(subgraphDoc(this.graph(), sel), null, 2)}\n`;
    },

    /** Pastes pipeline JSON; the pasted nodes become the selection. Throws DocumentError on text that is not a pipeline. */
    paste(text: string, at?: { x: number; y: number }): number {
      const p = pasteGraph(JSON.parse(text), ids(), at);
      if (!p.nodes.length) return 0;
      change((s) => ({
        nodes: [...s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...p.nodes],
        edges: [...s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)), ...p.edges],
      }));
      return p.nodes.length;
    },

    duplicateSelection(): number {
      const text = this.copySelection();
      return text ? this.paste(text) : 0;
    },

    selectAll() {
      store.set((s) => ({ ...s, nodes: s.nodes.map((n) => (n.selected ? n : { ...n, selected: true })) }));
    },

    select(id: string | null) {
      store.set((s) => ({
        ...s,
        nodes: s.nodes.map((n) => ((n.id === id) !== !!n.selected ? { ...n, selected: n.id === id } : n)),
        edges: s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
      }));
    },

    /**
     * Moves nodes to laid-out positions (one undo step). `keepClean`: a tidy-up on open, which
     * leaves a clean document clean.
     */
    setPositions(pos: Map<string, { x: number; y: number }>, opts: { keepClean?: boolean; undoable?: boolean } = {}) {
      // Not undoable: making room for a node that grew, which must not take the place of the user's
      // last step on the undo stack (an Undo right after a connection would undo the nudge instead).
      if (opts.undoable === false) return void store.set((s) => ({ ...s, nodes: s.nodes.map((n) => (pos.has(n.id) ? { ...n, position: pos.get(n.id)! } : n)) }));
      const wasClean = !this.isDirty();
      change((s) => ({ nodes: s.nodes.map((n) => (pos.has(n.id) ? { ...n, position: pos.get(n.id)! } : n)) }), undefined, false);
      if (opts.keepClean && wasClean) store.set((s) => ({ ...s, savedRev: s.rev }));
    },

    /** Replaces the document (open, new, recover): history starts over. */
    load(graph: Graph, file: FileRef, opts: { dirty?: boolean } = {}) {
      history.clear();
      dragging = false;
      const rev = nextRev();
      store.set((s) => ({
        ...graph,
        file,
        rev,
        savedRev: opts.dirty ? -1 : rev,
        structRev: s.structRev + 1,
        ...flags(),
      }));
    },

    markSaved(file: FileRef, rev: number) {
      store.set((s) => ({ ...s, file, savedRev: rev }));
    },

    undo() {
      const prev = history.undo(snapshot());
      if (!prev) return;
      store.set((s) => ({ ...s, ...prev, structRev: s.structRev + 1, ...flags() }));
    },

    redo() {
      const next = history.redo(snapshot());
      if (!next) return;
      store.set((s) => ({ ...s, ...next, structRev: s.structRev + 1, ...flags() }));
    },

    /** Ends a run of coalesced edits (a field lost focus). */
    seal() {
      history.seal();
      editRun = null;
    },
  };
}
