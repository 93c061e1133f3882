// Evaluates a pipeline's `checks` against the metrics a run produced.
import type { Check } from '../schema/pipeline.js';
import type { Value } from '../values.js';
import type { Tensor } from '../tensor.js';
import type { NodeProfile } from './events.js';
import { own } from '../dict.js';
import { COMPARISONS } from '../compile/refs.js';

export interface CheckResult {
  check: Check;
  ok: boolean;
  /** e.g. "cmp.maxAbs = 3.1e-7 < 1e-5" */
  text: string;
}

type Ref = { node: string; port?: string; metric?: string; profile?: keyof NodeProfile };

const label = (r: Ref) => `${r.node}.${r.metric ?? r.profile}`;

function lookup(outputs: Record<string, Record<string, Value>>, nodes: NodeProfile[], ref: Ref): number {
  if (ref.profile) {
    const p = nodes.find((n) => n.nodeId === ref.node);
    const x = p?.[ref.profile];
    if (typeof x !== 'number') throw new Error(`check: node "${ref.node}" has no profile field ${ref.profile} in this run`);
    return x;
  }
  const v = own(own(outputs, ref.node), ref.port ?? 'metrics');
  if (!v) throw new Error(`check: node "${ref.node}" has no output "${ref.port ?? 'metrics'}" in this run`);
  if (v.kind !== 'metrics') throw new Error(`check: ${ref.node}.${ref.port ?? 'metrics'} is ${v.kind}, not metrics`);
  let cur: unknown = v.values;
  for (const part of ref.metric!.split('.')) cur = typeof cur === 'object' ? own(cur as Record<string, unknown>, part) : undefined;
  if (typeof cur !== 'number') throw new Error(`check: metric ${ref.node}.${ref.metric} is ${JSON.stringify(cur)}, not a number`);
  return cur;
}

const OPS = { lt: (a: number, b: number) => a < b, le: (a: number, b: number) => a <= b, gt: (a: number, b: number) => a > b, ge: (a: number, b: number) => a >= b };
const SYM = { lt: '<', le: '≤', gt: '>', ge: '≥' };

export function evaluateChecks(checks: Check[] | undefined, outputs: Record<string, Record<string, Value>>, nodes: NodeProfile[] = []): CheckResult[] {
  const results: CheckResult[] = [];
  for (const check of checks ?? []) {
    try {
      // The compiler refuses such a check; one that reaches here must not pass by comparing nothing.
      if (!COMPARISONS.some((op) => check[op] !== undefined)) throw new Error(`check on ${label(check)} has no comparison (lt, le, gt or ge)`);
      const left = lookup(outputs, nodes, check);
      for (const op of COMPARISONS) {
        const rhs = check[op];
        if (rhs === undefined) continue;
        const raw = typeof rhs === 'number' ? rhs : lookup(outputs, nodes, rhs);
        const right = typeof rhs === 'number' ? rhs : raw * check.factor;
        // The node's own figure stays visible next to the scaled one, so it matches the tables.
        const rhsText =
          typeof rhs === 'number' ? `${rhs}` : check.factor !== 1 ? `${check.factor}·${label(rhs)} (${check.factor}·${fmt(raw)} = ${fmt(right)})` : `${label(rhs)} (${fmt(right)})`;
        const ok = OPS[op](left, right);
        results.push({ check, ok, text: `${label(check)} = ${fmt(left)} ${SYM[op]} ${rhsText}${check.why ? ` — ${check.why}` : ''}` });
      }
    } catch (err) {
      results.push({ check, ok: false, text: (err as Error).message });
    }
  }
  return results;
}

function fmt(x: number): string {
  return Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(3) : String(+x.toPrecision(6));
}

/**
 * NaN/±Infinity in a node's float outputs (tensors, and a cache's K/V), per port: a NaN nobody asked
 * for (an overflowing `scale`) would otherwise pass silently down the graph. `{}` when all are finite.
 */
export function nonFiniteOutputs(outputs: Record<string, Value>): { nonFinite?: Record<string, number> } {
  const counts: Record<string, number> = {};
  const count = (t: Tensor) => {
    if (t.dtype !== 'float32') return 0;
    let n = 0;
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i]!)) n++;
    return n;
  };
  for (const [port, v] of Object.entries(outputs)) {
    const n = v.kind === 'tensor' ? count(v) : v.kind === 'kv' ? count(v.k) + count(v.v) : 0;
    if (n) counts[port] = n;
  }
  return Object.keys(counts).length ? { nonFinite: counts } : {};
}
