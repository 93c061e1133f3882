// What a run would refuse in the names a document uses, found before it runs: `checks` that name a
// node, port or metric that is not there or compare nothing, and two nodes handing the host the
// same output name (NodeDef.emits).
import { MAX_EMIT_NAME, type AnyNodeDef } from '../node.js';
import { own } from '../dict.js';
import type { Check, Pipeline } from '../schema/pipeline.js';
import type { PortShape } from '../values.js';
import { suggest, type CompileIssue } from './compile.js';

export const COMPARISONS = ['lt', 'le', 'gt', 'ge'] as const;

type Ref = Pick<Check, 'node' | 'port' | 'metric' | 'profile'>;

/** One reference to a node's figure, at JSON path `path`: the node exists, and a metric's port is a metrics output. */
function refIssues(ref: Ref, path: string, defOf: (id: string) => AnyNodeDef | undefined, ids: () => string[]): CompileIssue[] {
  const def = defOf(ref.node);
  if (!def) return [{ path: `${path}.node`, message: `check names node "${ref.node}", which is not in the pipeline${suggest(ref.node, ids())}` }];
  if (ref.profile !== undefined) return [];
  const port = ref.port ?? 'metrics';
  const spec = own(def.outputs, port);
  const metricsPorts = Object.entries(def.outputs).filter(([, s]) => s.kind === 'metrics').map(([p]) => p);
  if (spec?.kind !== 'metrics')
    return [{
      path: `${path}.port`, nodeId: ref.node, port,
      message: `check reads ${ref.node}.${port}, which is not a metrics output of ${def.type}; ${metricsPorts.length ? `its metrics: ${metricsPorts.join(', ')}` : 'it has no metrics output (checks on it can read profile fields: wallMs, peakBytes, …)'}`,
    }];
  return [];
}

/** Every reference in `checks` (left and right-hand sides) with its JSON path. */
export function checkRefs(checks: Check[] | undefined): { ref: Ref; path: string }[] {
  const refs: { ref: Ref; path: string }[] = [];
  (checks ?? []).forEach((c, i) => {
    refs.push({ ref: c, path: `checks[${i}]` });
    for (const op of COMPARISONS) {
      const rhs = c[op];
      if (rhs !== undefined && typeof rhs !== 'number') refs.push({ ref: rhs, path: `checks[${i}].${op}` });
    }
  });
  return refs;
}

/**
 * Checks that would fail however the run went: no comparison, or a node or port that is not there.
 * An optional metrics output a check reads (a tokenizer's) counts as connected, so the run makes it.
 */
export function checkIssues(doc: Pipeline, defOf: (id: string) => AnyNodeDef | undefined, connect: (id: string, port: string) => void): CompileIssue[] {
  const issues: CompileIssue[] = [];
  (doc.checks ?? []).forEach((c, i) => {
    if (!COMPARISONS.some((op) => c[op] !== undefined))
      issues.push({ path: `checks[${i}]`, nodeId: c.node, message: 'a check needs a comparison: one of lt, le, gt, ge (a number or { node, metric })' });
  });
  // Suggestions scan every node id: only for the first few unknown names, so that a document of many
  // bad checks stays linear.
  let ids: string[] | undefined;
  let suggestions = 10;
  const idsToSuggest = () => (suggestions-- > 0 ? (ids ??= doc.nodes.map((n) => n.id)) : []);
  for (const { ref, path } of checkRefs(doc.checks)) {
    const found = refIssues(ref, path, defOf, idsToSuggest);
    issues.push(...found);
    const port = ref.port ?? 'metrics';
    if (!found.length && ref.profile === undefined && own(defOf(ref.node)!.outputs, port)?.optional) connect(ref.node, port);
  }
  return issues;
}

/**
 * Metrics a check reads that the node says it will not produce: only where the inferred metrics shape
 * lists its `keys` (the first segment of a dotted metric path is checked).
 */
export function metricKeyIssues(checks: Check[] | undefined, shapeOf: (id: string, port: string) => PortShape | undefined): CompileIssue[] {
  const issues: CompileIssue[] = [];
  for (const { ref, path } of checkRefs(checks)) {
    if (ref.metric === undefined) continue;
    const keys = shapeOf(ref.node, ref.port ?? 'metrics')?.keys;
    const head = ref.metric.split('.')[0]!;
    if (keys && !keys.includes(head))
      issues.push({ path: `${path}.metric`, nodeId: ref.node, message: `check reads metric "${ref.metric}" of ${ref.node}, which it does not report${suggest(head, keys)}; its metrics: ${keys.join(', ')}` });
  }
  return issues;
}

/** Two nodes handing over one name (the second would fail at run time), or a name too long for a file. */
export function emitIssues(doc: Pipeline, defs: (AnyNodeDef | undefined)[], params: unknown[]): CompileIssue[] {
  const issues: CompileIssue[] = [];
  const owner = new Map<string, number>();
  doc.nodes.forEach((n, i) => {
    const def = defs[i];
    if (!def?.emits || params[i] === undefined) return;
    for (const name of def.emits(params[i])) {
      if (name.length > MAX_EMIT_NAME)
        issues.push({ path: `nodes[${i}].params`, nodeId: n.id, message: `output name "${name.slice(0, 40)}…" is ${name.length} characters; at most ${MAX_EMIT_NAME}` });
      const first = owner.get(name);
      if (first !== undefined && first !== i)
        issues.push({ path: `nodes[${i}].params`, nodeId: n.id, message: `output name "${name}" is already written by node "${doc.nodes[first]!.id}" (nodes[${first}])` });
      else owner.set(name, i);
    }
  });
  return issues;
}
