// The accuracy overlay's pipeline: every approximate node (one whose declaration names an exact
// counterpart for its params) beside the exact computation on the same inputs, and only what they
// need. Pure: a document and a registry in, a document and the pairs to compare out.
import type { Registry } from '../../engine/registry.js';
import { deviation, isIncomparable, type Deviation, type Incomparable } from '../../engine/run/accuracy.js';
import type { Value } from '../../engine/values.js';
import { splitPortRef, type Pipeline, type PipelineEdge, type PipelineNode } from '../../engine/schema/pipeline.js';

/** One value of an approximate node and where its exact counterpart is found after the run. */
export interface AccuracyPair {
  node: string;
  port: string;
  exact: { node: string; port: string };
}

export interface AccuracyPlan {
  /** The approximate nodes, their exact siblings and their ancestors; no checks. */
  doc: Pipeline;
  pairs: AccuracyPair[];
  /** Approximate node → what it is compared with, for people ("attention · flash on the same inputs"). */
  exactOf: Record<string, string>;
  /** Approximate node → its exact sibling's id (absent when the exact value is one of its inputs). */
  siblingOf: Record<string, string>;
}

const nodeOf = (ref: string) => splitPortRef(ref).node;
const portOf = (ref: string) => splitPortRef(ref).port;

function freshId(base: string, taken: Set<string>): string {
  let id = base;
  for (let i = 2; taken.has(id); i++) id = `${base}${i}`;
  taken.add(id);
  return id;
}

/**
 * Rewrites `doc` for the overlay: each node whose declared `exact(params)` is a sibling gets one (same
 * type, the exact params, a copy of every edge into the node; nodes whose siblings would be identical
 * share one); each whose exact value is an input is
 * paired with the edge's source. Nodes with params that do not parse are left out (the compiler
 * reports them on the ordinary run).
 */
export function accuracyPipeline(doc: Pipeline, registry: Registry): AccuracyPlan {
  const ids = new Set(doc.nodes.map((n) => n.id));
  const into = (ref: string) => doc.edges.filter((e) => e.to === ref);
  const added: PipelineNode[] = [];
  const addedEdges: PipelineEdge[] = [];
  const pairs: AccuracyPair[] = [];
  const exactOf: Record<string, string> = Object.create(null);
  const siblingOf: Record<string, string> = Object.create(null);
  const siblingByKey = new Map<string, string>();

  for (const n of doc.nodes) {
    const def = registry.get(n.type);
    if (!def?.exact) continue;
    const parsed = def.params.safeParse(n.params ?? {});
    if (!parsed.success) continue;
    const exact = def.exact(parsed.data);
    if (!exact) continue;
    if (exact.kind === 'sibling') {
      const inputs = doc.edges.filter((e) => nodeOf(e.to) === n.id).map((e) => [portOf(e.to), e.from]).sort();
      // Approximations of one computation (twelve sparse kernels on the same q, k, v) share one exact sibling.
      const key = JSON.stringify([n.type, exact.params, inputs]);
      let sib = siblingByKey.get(key);
      if (!sib) {
        sib = freshId(`${n.id}__exact`, ids);
        siblingByKey.set(key, sib);
        added.push({ id: sib, type: n.type, params: exact.params });
        for (const [port, from] of inputs) addedEdges.push({ from: from!, to: `${sib}.${port}` });
      }
      for (const port of exact.ports) pairs.push({ node: n.id, port, exact: { node: sib, port } });
      const variant = typeof exact.params.variant === 'string' ? ` · ${exact.params.variant}` : '';
      exactOf[n.id] = `${def.title}${variant} on the same inputs`;
      siblingOf[n.id] = sib;
    } else {
      const found = exact.pairs.flatMap(({ output, input }) =>
        into(`${n.id}.${input}`).map((e) => ({ node: n.id, port: output, exact: { node: nodeOf(e.from), port: portOf(e.from) } })),
      );
      if (!found.length) continue;
      pairs.push(...found);
      exactOf[n.id] = `its input ${exact.pairs.map((p) => `"${p.input}"`).join(', ')}`;
    }
  }

  // Keep what the pairs need: their nodes and every ancestor (no sinks that write files, no checks).
  const all = [...doc.nodes, ...added];
  const edges = [...doc.edges, ...addedEdges];
  const parents = new Map<string, string[]>();
  for (const e of edges) parents.set(nodeOf(e.to), [...(parents.get(nodeOf(e.to)) ?? []), nodeOf(e.from)]);
  const keep = new Set<string>();
  const stack = pairs.flatMap((p) => [p.node, p.exact.node]);
  while (stack.length) {
    const id = stack.pop()!;
    if (keep.has(id)) continue;
    keep.add(id);
    stack.push(...(parents.get(id) ?? []));
  }
  const { checks: _checks, ...rest } = doc;
  return {
    doc: { ...rest, nodes: all.filter((n) => keep.has(n.id)), edges: edges.filter((e) => keep.has(nodeOf(e.to)) && keep.has(nodeOf(e.from))) },
    pairs,
    exactOf,
    siblingOf,
  };
}

export type Comparison = Deviation | Incomparable;

/**
 * How far one value is from its exact counterpart: tensors element by element; token sequences only
 * say whether they are the same (ids have no meaningful numeric error); anything else says why not.
 */
export function compareValues(approx: Value | undefined, exact: Value | undefined): Comparison {
  if (!approx || !exact) return { incomparable: 'no value (the node did not produce it)' };
  if (approx.kind === 'tensor' && exact.kind === 'tensor') return deviation(approx, exact);
  if (approx.kind === 'tokens' && exact.kind === 'tokens') {
    const [a, b] = [approx.ids, exact.ids];
    if (a.length === b.length && a.every((x, i) => x === b[i])) return { cosine: 1, maxAbs: 0, relError: 0, meanAbs: 0, rmse: 0, maxRel: 0, elements: a.length };
    return { incomparable: `keeps ${a.length} of ${b.length} tokens: a shorter sequence has no element-wise error` };
  }
  return { incomparable: `a ${approx.kind} value against a ${exact.kind} value` };
}

/** The node's worst comparable relative error (NaN counts as worst), or undefined when none is comparable. */
export function worstRelError(results: readonly Comparison[]): number | undefined {
  let worst: number | undefined;
  for (const r of results) {
    if (isIncomparable(r)) continue;
    if (Number.isNaN(r.relError)) return NaN;
    worst = Math.max(worst ?? 0, r.relError);
  }
  return worst;
}

/**
 * Overlay colour position in [0, 1] for a relative error, on a log scale: ≤ 1e-6 (float32 noise) is 0,
 * ≥ 1 (as large as the value itself) is 1; NaN is 1.
 */
export function accuracyLevel(relError: number): number {
  if (Number.isNaN(relError)) return 1;
  if (relError <= 1e-6) return 0;
  return Math.min(1, Math.log10(relError / 1e-6) / 6);
}
