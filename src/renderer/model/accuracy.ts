// The accuracy overlay's pipeline: every approximate node (one whose declaration names an exact
// counterpart for its params, or one fed an output the exact computation lacks, such as a window mask)
// beside the exact computation on the same inputs, and only what they need. Pure: a document and a
// registry in, a document and the pairs to compare out.
import type { AnyNodeDef, ExactCounterpart, ExactPort } from '../../engine/node.js';
import type { Registry } from '../../engine/registry.js';
import { deviation, isIncomparable, type Deviation, type Incomparable } from '../../engine/run/accuracy.js';
import type { Value } from '../../engine/values.js';
import { dict, own } from '../../engine/dict.js';
import { splitPortRef, type Pipeline, type PipelineEdge, type PipelineNode } from '../../engine/schema/pipeline.js';

/** One value of an approximate node and where its exact counterpart is found after the run. */
export interface AccuracyPair {
  node: string;
  port: string;
  /** The metrics field compared, when the port is a metrics port (perplexity per length). */
  field?: string;
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

/** The node's declared exact counterpart, or undefined (none, unknown type, params that do not parse). */
function exactOf(n: PipelineNode, registry: Registry): { def: AnyNodeDef; exact: ExactCounterpart | undefined } | undefined {
  const def = registry.get(n.type);
  if (!def) return undefined;
  const parsed = def.params.safeParse(n.params ?? {});
  return parsed.success ? { def, exact: def.exact?.(parsed.data) } : undefined;
}

/**
 * Rewrites `doc` for the overlay. A node whose declared `exact(params)` is a sibling gets one (same
 * type, the exact params, a copy of every edge into the node; nodes whose siblings would be identical
 * share one); so does a node fed by an output declared `absent` in the exact computation (a window
 * mask), with its own params (or the exact ones) and without that edge, compared on the outputs it
 * always produces. A node whose exact value is an input is paired with the edge's source. Nodes with
 * params that do not parse are left out (the compiler reports them on the ordinary run).
 */
export function accuracyPipeline(doc: Pipeline, registry: Registry): AccuracyPlan {
  const ids = new Set(doc.nodes.map((n) => n.id));
  const into = (ref: string) => doc.edges.filter((e) => e.to === ref);
  const added: PipelineNode[] = [];
  const addedEdges: PipelineEdge[] = [];
  const pairs: AccuracyPair[] = [];
  const exactOfNode = dict<string>();
  const siblingOf = dict<string>();
  const siblingByKey = new Map<string, string>();
  const declared = new Map(doc.nodes.map((n) => [n.id, exactOf(n, registry)]));
  // "node.port" of every output the exact computation has none of.
  const absent = new Set<string>();
  for (const [id, d] of declared) if (d?.exact?.kind === 'absent') for (const port of d.exact.ports) absent.add(`${id}.${port}`);

  for (const n of doc.nodes) {
    const d = declared.get(n.id);
    if (!d || d.exact?.kind === 'absent') continue;
    const { def, exact } = d;
    if (exact?.kind === 'input') {
      const found = exact.pairs.flatMap(({ output, input }) =>
        into(`${n.id}.${input}`).map((e) => ({ node: n.id, port: output, exact: { node: nodeOf(e.from), port: portOf(e.from) } })),
      );
      if (!found.length) continue;
      pairs.push(...found);
      exactOfNode[n.id] = `its input ${exact.pairs.map((p) => `"${p.input}"`).join(', ')}`;
      continue;
    }
    const edgesIn = doc.edges.filter((e) => nodeOf(e.to) === n.id);
    const dropped = edgesIn.filter((e) => absent.has(e.from));
    if (!exact && !dropped.length) continue;
    // Exact by its params but fed a mask: the same node without it, on what it always produces.
    const params = exact?.params ?? n.params ?? {};
    const ports: ExactPort[] = exact?.ports ?? Object.entries(def.outputs).filter(([, o]) => !o.optional && COMPARABLE.has(o.kind)).map(([p]) => p);
    if (!ports.length) continue;
    const inputs = edgesIn.filter((e) => !absent.has(e.from)).map((e) => [portOf(e.to), e.from]).sort();
    // Approximations of one computation (twelve sparse kernels on the same q, k, v) share one exact sibling.
    const key = JSON.stringify([n.type, params, inputs]);
    let sib = siblingByKey.get(key);
    if (!sib) {
      sib = freshId(`${n.id}__exact`, ids);
      siblingByKey.set(key, sib);
      added.push({ id: sib, type: n.type, params });
      for (const [port, from] of inputs) addedEdges.push({ from: from!, to: `${sib}.${port}` });
    }
    for (const p of ports) {
      const { port, field } = typeof p === 'string' ? { port: p, field: undefined } : p;
      pairs.push({ node: n.id, port, ...(field === undefined ? {} : { field }), exact: { node: sib, port } });
    }
    const variant = typeof params.variant === 'string' ? ` · ${params.variant}` : '';
    const without = dropped.length ? ` without ${dropped.map((e) => `"${portOf(e.to)}" (${e.from})`).join(', ')}` : '';
    exactOfNode[n.id] = `${def.title}${variant} on the same inputs${without}`;
    siblingOf[n.id] = sib;
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
    exactOf: exactOfNode,
    siblingOf,
  };
}

/** Output kinds compareValues gives a number for without a field. */
const COMPARABLE: ReadonlySet<string> = new Set(['tensor', 'tokens']);

export type Comparison = Deviation | Incomparable;

/**
 * How far one value is from its exact counterpart: tensors element by element; token sequences only
 * say whether they are the same (ids have no meaningful numeric error); with `field`, that field of
 * two metrics values (a number or nested arrays of numbers); anything else says why not.
 */
export function compareValues(approx: Value | undefined, exact: Value | undefined, field?: string): Comparison {
  if (!approx || !exact) return { incomparable: 'no value (the node did not produce it)' };
  if (field !== undefined) {
    const [a, b] = [metricNumbers(approx, field), metricNumbers(exact, field)];
    if (isIncomparable(a)) return a;
    if (isIncomparable(b)) return { incomparable: `the exact ${b.incomparable}` };
    return deviation(a, b);
  }
  if (approx.kind === 'tensor' && exact.kind === 'tensor') return deviation(approx, exact);
  if (approx.kind === 'tokens' && exact.kind === 'tokens') {
    const [a, b] = [approx.ids, exact.ids];
    if (a.length === b.length && a.every((x, i) => x === b[i])) return { cosine: 1, maxAbs: 0, relError: 0, meanAbs: 0, rmse: 0, maxRel: 0, elements: a.length };
    return { incomparable: `keeps ${a.length} of ${b.length} tokens: a shorter sequence has no element-wise error` };
  }
  return { incomparable: `a ${approx.kind} value against a ${exact.kind} value` };
}

/** A metrics field as numbers laid out row-major: a number ([]), an array ([n]), arrays of arrays ([n, m]…). */
export function metricNumbers(v: Value, field: string): { shape: number[]; data: number[] } | Incomparable {
  if (v.kind !== 'metrics') return { incomparable: `a ${v.kind} value has no field "${field}"` };
  const x = own(v.values, field);
  if (x === undefined) return { incomparable: `metrics have no field "${field}"` };
  const data: number[] = [];
  const shapeOf = (y: unknown): number[] | undefined => {
    if (typeof y === 'number') {
      data.push(y);
      return [];
    }
    if (!Array.isArray(y)) return undefined;
    const inner = y.map(shapeOf);
    const first = inner[0] ?? [];
    // Ragged or non-numeric: no layout to compare element by element.
    return inner.every((s) => s !== undefined && s.length === first.length && s.every((d, i) => d === first[i])) ? [y.length, ...first] : undefined;
  };
  const shape = shapeOf(x);
  return shape ? { shape, data } : { incomparable: `metrics field "${field}" is not a number or a regular array of numbers` };
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
