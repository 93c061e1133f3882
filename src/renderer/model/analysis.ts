// What the editor shows before anything runs: the compiler's issues, and the inferred shapes for the
// edge labels. When the graph does not compile yet, the compiler's partial mode still gives the
// shapes and costs of every node it could infer.
import { compile, type CompileIssue, type PlanStep } from '../../engine/compile/compile.js';
import type { Cost } from '../../engine/node.js';
import type { Registry } from '../../engine/registry.js';
import type { Pipeline } from '../../engine/schema/pipeline.js';
import type { PortShape } from '../../engine/values.js';
import { dict } from '../../engine/dict.js';
import { adapterFallbacks, type AdapterCaps } from '../../engine/compile/adapter-needs.js';

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

/** `adapter`: the run's WebGPU adapter, when the backend is webgpu — nodes whose GPU kernel would fall back on it are warned about. */
export function analyze(doc: Pipeline, registry: Registry, adapter?: AdapterCaps): Analysis {
  const r = compile(doc, registry, { partial: true });
  if (!r.ok) return { ok: false, issues: r.issues, warnings: [], shapes: r.shapes ?? dict(), costs: r.costs ?? dict(), predictedPeak: dict(), predictedPeakBytes: 0 };
  // Keyed by node id: records without a prototype (see engine/dict.ts).
  const shapes: Analysis['shapes'] = dict();
  const costs: Analysis['costs'] = dict();
  const predictedPeak: Analysis['predictedPeak'] = dict();
  r.plan.steps.forEach((s: PlanStep) => {
    shapes[s.id] = s.outShapes;
    costs[s.id] = s.cost;
    predictedPeak[s.id] = s.predictedPeakBytes;
  });
  const warnings = adapter ? [...r.warnings, ...adapterFallbacks(r.plan, adapter)] : r.warnings;
  return { ok: true, issues: [], warnings, shapes, costs, predictedPeak, predictedPeakBytes: r.plan.predictedPeakBytes };
}
