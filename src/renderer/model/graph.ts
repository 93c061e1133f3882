// The pipeline document ↔ the canvas graph. The document is the file format; the graph is what
// React Flow draws. Fields the editor does not know (written by a newer app, or by hand) ride along
// in `extra` and are written back unchanged.
import type { Edge, Node } from '@xyflow/react';
import { migrate } from '../../engine/schema/migrations.js';
import { PIPELINE_FORMAT, PIPELINE_VERSION, PipelineSchema, splitPortRef, type Check, type Pipeline } from '../../engine/schema/pipeline.js';

export interface NodeData extends Record<string, unknown> {
  type: string;
  params: Record<string, unknown>;
  label?: string;
  /** Unknown fields of the node object (notes, …). */
  extra: Record<string, unknown>;
}
export type FlowNode = Node<NodeData, 'pipeline'>;

export interface EdgeData extends Record<string, unknown> {
  extra: Record<string, unknown>;
}
export type FlowEdge = Edge<EdgeData>;

export interface DocMeta {
  name: string;
  description?: string;
  checks?: Check[];
  /** Unknown top-level fields. */
  extra: Record<string, unknown>;
}

export interface Graph {
  meta: DocMeta;
  nodes: FlowNode[];
  edges: FlowEdge[];
}

export class DocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DocumentError';
  }
}

export const edgeId = (from: string, to: string) => `${from}->${to}`;

export function makeEdge(source: string, sourceHandle: string, target: string, targetHandle: string, extra: Record<string, unknown> = {}): FlowEdge {
  return { id: edgeId(`${source}.${sourceHandle}`, `${target}.${targetHandle}`), source, sourceHandle, target, targetHandle, type: 'shape', data: { extra } };
}

export function makeNode(id: string, type: string, params: Record<string, unknown>, position: { x: number; y: number }, label?: string, extra: Record<string, unknown> = {}): FlowNode {
  const data: NodeData = { type, params, extra };
  if (label !== undefined) data.label = label;
  return { id, type: 'pipeline', position, data };
}

/** Parses a document (any version: migrations run first) into a graph. Throws DocumentError on a malformed file. */
export function docToGraph(raw: unknown): Graph {
  const migrated = migrate(raw).doc;
  const parsed = PipelineSchema.safeParse(migrated);
  if (!parsed.success) {
    const first = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '$'}: ${i.message}`);
    throw new DocumentError(`not a Context Lab pipeline: ${first.join('; ')}`);
  }
  const doc = parsed.data;
  const { format: _f, version: _v, name, description, nodes, edges, checks, ...extra } = doc;
  const meta: DocMeta = { name, extra };
  if (description !== undefined) meta.description = description;
  // Checks as written (parsing would add their defaults to the file on the next save).
  if (checks !== undefined) meta.checks = (migrated as { checks: Check[] }).checks;
  let auto = 0;
  return {
    meta,
    nodes: nodes.map((n) => {
      const { id, type, params, position, label, ...rest } = n;
      // Nodes without a position are placed on a grid; auto-layout can tidy them.
      const pos = position ? { x: position.x, y: position.y } : { x: 320 * (auto % 4), y: 200 * Math.floor(auto++ / 4) };
      return makeNode(id, type, params as Record<string, unknown>, pos, label, rest);
    }),
    edges: edges.map((e) => {
      const { from, to, ...rest } = e;
      const f = splitPortRef(from);
      const t = splitPortRef(to);
      return makeEdge(f.node, f.port, t.node, t.port, rest);
    }),
  };
}

const round = (x: number) => Math.round(x);

/** The document for a graph, in the file's key order. */
export function graphToDoc(g: Graph): Pipeline {
  const doc: Record<string, unknown> = { format: PIPELINE_FORMAT, version: PIPELINE_VERSION, name: g.meta.name };
  if (g.meta.description !== undefined) doc.description = g.meta.description;
  Object.assign(doc, g.meta.extra);
  doc.nodes = g.nodes.map((n) => {
    const out: Record<string, unknown> = { id: n.id, type: n.data.type, params: n.data.params, position: { x: round(n.position.x), y: round(n.position.y) } };
    if (n.data.label !== undefined) out.label = n.data.label;
    return Object.assign(out, n.data.extra);
  });
  doc.edges = g.edges.map((e) => ({ from: `${e.source}.${e.sourceHandle}`, to: `${e.target}.${e.targetHandle}`, ...(e.data?.extra ?? {}) }));
  if (g.meta.checks !== undefined) doc.checks = g.meta.checks;
  return doc as Pipeline;
}

export function serialize(g: Graph): string {
  return `${JSON.stringify(graphToDoc(g), null, 2)}\n`;
}

/** A node id not in `taken`, derived from `base` (e.g. "attention" → "attention_2"). */
export function freshId(base: string, taken: ReadonlySet<string>): string {
  const stem = base.replace(/[^A-Za-z0-9_-]/g, '_').replace(/^([^A-Za-z_])/, '_$1') || 'node';
  if (!taken.has(stem)) return stem;
  const m = /^(.*)_(\d+)$/.exec(stem);
  const root = m ? m[1]! : stem;
  for (let i = m ? Number(m[2]) + 1 : 2; ; i++) if (!taken.has(`${root}_${i}`)) return `${root}_${i}`;
}

/**
 * The selected part of a graph as a standalone pipeline document (what copy puts on the clipboard):
 * the nodes and the edges between them.
 */
export function subgraphDoc(g: Graph, ids: ReadonlySet<string>): Pipeline {
  return graphToDoc({
    meta: { name: g.meta.name, extra: {} },
    nodes: g.nodes.filter((n) => ids.has(n.id)),
    edges: g.edges.filter((e) => ids.has(e.source) && ids.has(e.target)),
  });
}

/**
 * Nodes and edges of a pasted document, renamed so that no id clashes with `taken`, moved so their
 * top-left corner lands at `at` (or offset by 40 px when `at` is missing).
 */
export function pasteGraph(raw: unknown, taken: ReadonlySet<string>, at?: { x: number; y: number }): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const g = docToGraph(raw);
  const ids = new Set(taken);
  const rename = new Map<string, string>();
  for (const n of g.nodes) {
    const id = freshId(n.id, ids);
    ids.add(id);
    rename.set(n.id, id);
  }
  const minX = Math.min(...g.nodes.map((n) => n.position.x));
  const minY = Math.min(...g.nodes.map((n) => n.position.y));
  const dx = at ? at.x - minX : 40;
  const dy = at ? at.y - minY : 40;
  return {
    nodes: g.nodes.map((n) => ({ ...n, id: rename.get(n.id)!, position: { x: n.position.x + dx, y: n.position.y + dy }, selected: true })),
    edges: g.edges
      .filter((e) => rename.has(e.source) && rename.has(e.target))
      .map((e) => makeEdge(rename.get(e.source)!, e.sourceHandle!, rename.get(e.target)!, e.targetHandle!, e.data?.extra)),
  };
}

export function emptyGraph(name = 'untitled'): Graph {
  return { meta: { name, extra: {} }, nodes: [], edges: [] };
}
