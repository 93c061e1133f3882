// Which node's custom GPU kernel will fall back on this adapter, known before the run: a node
// declares what its kernel needs for its shapes (NodeDef.adapterNeeds: features, minimum limits);
// this only compares those needs with the adapter's features and limits it is given. The engine
// knows no kernel: the node says what it needs, what for, and what runs instead.
import type { AdapterNeed } from '../node.js';
import type { BackendInfo } from '../run/events.js';
import type { CompileIssue, Plan } from './compile.js';

/** An adapter's features and limits (GPUAdapter.features / .limits as plain data). */
export interface AdapterCaps {
  features: string[];
  limits: Record<string, number>;
}

/** The adapter's features and limits when the backend is webgpu (else no GPU kernel runs: nothing to check). */
export function adapterCapsOf(b: BackendInfo | undefined): AdapterCaps | undefined {
  const a = b?.name === 'webgpu' ? b.adapter : undefined;
  return a?.limits ? { features: a.features ?? [], limits: a.limits } : undefined;
}

/** What an adapter lacks of a need: one phrase per missing feature or limit (empty: it has everything). */
export function unmetNeeds(need: AdapterNeed, adapter: AdapterCaps): string[] {
  const missing: string[] = [];
  for (const f of need.features ?? []) if (!adapter.features.includes(f.name)) missing.push(`${f.for} needs the '${f.name}' feature, which the adapter lacks`);
  for (const l of need.limits ?? []) {
    const have = adapter.limits[l.name];
    if (have === undefined || have < l.min) missing.push(`${l.for} needs ${l.name} ≥ ${l.min}; the adapter allows ${have ?? 'none'}`);
  }
  return missing;
}

/** One warning per step whose declared kernel cannot run on the adapter, naming the node and what runs instead. */
export function adapterFallbacks(plan: Plan, adapter: AdapterCaps): CompileIssue[] {
  const issues: CompileIssue[] = [];
  plan.steps.forEach((s, index) => {
    const need = s.def.adapterNeeds?.(s.inShapes as never, s.params);
    if (!need) return;
    const missing = unmetNeeds(need, adapter);
    if (missing.length)
      issues.push({
        path: `nodes[${index}]`,
        nodeId: s.id,
        nodeType: s.def.type,
        message: `on this adapter ${need.kernel} will fall back to ${need.fallback}: ${missing.join('; ')}`,
      });
  });
  return issues;
}
