// Values derived from a store's state, computed once per state object and shared by every
// component that selects them (so 500 nodes do not each scan 500 nodes).
import type { FlowEdge, FlowNode } from '../model/graph.js';
import type { NodeMetrics } from './metrics.js';

export function memoByRef<K extends object, V>(fn: (k: K) => V): (k: K) => V {
  const cache = new WeakMap<K, V>();
  return (k) => {
    let v = cache.get(k);
    if (v === undefined) {
      v = fn(k);
      cache.set(k, v);
    }
    return v;
  };
}

export const typeIndex = memoByRef((nodes: FlowNode[]) => new Map(nodes.map((n) => [n.id, n.data.type])));

/** The largest wall time and peak bytes among finished nodes: the scale of the heat map. */
export const heatScale = memoByRef((nodes: Record<string, NodeMetrics>) => {
  let ms = 0;
  let bytes = 0;
  for (const m of Object.values(nodes))
    if (m.profile && m.status === 'done') {
      ms = Math.max(ms, m.profile.wallMs);
      bytes = Math.max(bytes, m.profile.peakBytes);
    }
  return { ms, bytes };
});

/** One edge per output port carries the shape label (fan-out edges would repeat it). */
export const labelEdges = memoByRef((edges: FlowEdge[]) => {
  const seen = new Set<string>();
  const out = new Set<string>();
  for (const e of edges) {
    const k = `${e.source}.${e.sourceHandle}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.add(e.id);
    }
  }
  return out;
});
