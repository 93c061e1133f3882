// What the editor shows before anything runs: the compiler's issues, and the inferred shapes for the
// edge labels. The engine's compile stops at the first class of error (an unconnected input stops
// shape inference everywhere), so when it fails the shapes come from a tolerant pass over the nodes
// that can be inferred — every rule still comes from the node declarations and checkPortKinds.
import { checkPortKinds, compile, type CompileIssue, type PlanStep } from '../../engine/compile/compile.js';
import { ShapeError, type Cost } from '../../engine/node.js';
import type { Registry } from '../../engine/registry.js';
import { splitPortRef, type Pipeline } from '../../engine/schema/pipeline.js';
import type { PortShape } from '../../engine/values.js';
import { dict, own } from '../../engine/dict.js';

export interface Analysis {
  ok: boolean;
  issues: CompileIssue[];
  warnings: CompileIssue[];
  /** Inferred output shapes by node id, then port. */
  shapes: Record<string, Record<string, PortShape | undefined>>;
  costs: Record<string, Cost>;
  /** Predicted peak bytes per node (live values + workspace + outputs), when the whole graph compiles. */
  predictedPeak: Record<string, number>;
  predictedPeakBytes: number;
}

export function analyze(doc: Pipeline, registry: Registry): Analysis {
  const r = compile(doc, registry);
  if (r.ok) {
    // Keyed by node id: records without a prototype (see engine/dict.ts).
    const shapes: Analysis['shapes'] = dict();
    const costs: Analysis['costs'] = dict();
    const predictedPeak: Analysis['predictedPeak'] = dict();
    r.plan.steps.forEach((s: PlanStep) => {
      shapes[s.id] = s.outShapes;
      costs[s.id] = s.cost;
      predictedPeak[s.id] = s.predictedPeakBytes;
    });
    return { ok: true, issues: [], warnings: r.warnings, shapes, costs, predictedPeak, predictedPeakBytes: r.plan.predictedPeakBytes };
  }
  const partial = inferPartial(doc, registry);
  const seen = new Set(r.issues.map((i) => `${i.nodeId}|${i.message}`));
  const issues = [...r.issues, ...partial.issues.filter((i) => !seen.has(`${i.nodeId}|${i.message}`))];
  return { ok: false, issues, warnings: [], shapes: partial.shapes, costs: partial.costs, predictedPeak: dict(), predictedPeakBytes: 0 };
}

/** Shape inference over whatever part of the graph is complete; failures become issues, not aborts. */
export function inferPartial(doc: Pipeline, registry: Registry): { shapes: Analysis['shapes']; costs: Analysis['costs']; issues: CompileIssue[] } {
  const issues: CompileIssue[] = [];
  const shapes: Analysis['shapes'] = dict();
  const costs: Analysis['costs'] = dict();
  const byId = new Map(doc.nodes.map((n, i) => [n.id, { n, i }]));
  const inputs = new Map<string, Record<string, { node: string; port: string }>>();
  const preds = new Map<string, Set<string>>();
  for (const e of doc.edges) {
    const f = splitPortRef(e.from);
    const t = splitPortRef(e.to);
    const fn = byId.get(f.node);
    const tn = byId.get(t.node);
    if (!fn || !tn) continue;
    const out = own(registry.get(fn.n.type)?.outputs, f.port);
    const inp = own(registry.get(tn.n.type)?.inputs, t.port);
    if (!out || !inp || checkPortKinds(out, inp)) continue;
    const m = inputs.get(t.node) ?? dict<{ node: string; port: string }>();
    m[t.port] = f;
    inputs.set(t.node, m);
    preds.set(t.node, (preds.get(t.node) ?? new Set()).add(f.node));
  }
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (id: string): void => {
    if (done.has(id) || visiting.has(id)) return;
    visiting.add(id);
    for (const p of preds.get(id) ?? []) visit(p);
    visiting.delete(id);
    done.add(id);
    const { n, i } = byId.get(id)!;
    const def = registry.get(n.type);
    if (!def) return;
    const params = def.params.safeParse(n.params);
    if (!params.success) return;
    const ins: Record<string, PortShape | undefined> = {};
    const wired = inputs.get(id) ?? dict<{ node: string; port: string }>();
    for (const [port, spec] of Object.entries(def.inputs)) {
      const src = wired[port];
      const s = src ? shapes[src.node]?.[src.port] : undefined;
      if (!s && !spec.optional) return; // an input is missing or unknown: nothing to infer yet
      ins[port] = s;
    }
    try {
      const out = def.infer(ins as never, params.data) as Record<string, PortShape | undefined>;
      shapes[id] = out;
      if (def.cost) costs[id] = def.cost(ins as never, params.data, out as never);
    } catch (err) {
      const port = err instanceof ShapeError ? err.port : undefined;
      issues.push({ path: `nodes[${i}]`, nodeId: id, port, message: `${id} (${def.type}): ${(err as Error).message}` });
    }
  };
  for (const n of doc.nodes) visit(n.id);
  return { shapes, costs, issues };
}
