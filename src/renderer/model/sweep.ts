// What a sweep plots and says: only the nodes the swept param can affect (the swept node and what is
// downstream of it), in an order fixed by the graph so the series and their colours do not move
// between runs, and a status line once the sweep is over.

export interface SweepGraph {
  nodes: readonly { id: string }[];
  edges: readonly { from: string; to: string }[];
}

/** `node.port` → `node` (ids may not contain dots; ports never do). */
const nodeOf = (ref: string) => ref.slice(0, ref.lastIndexOf('.'));

/**
 * The swept node and every node downstream of it, in topological order (ties in document order).
 * Nodes off that path cannot change with the param: their slopes would be noise.
 */
export function affectedNodes(graph: SweepGraph, swept: string): string[] {
  const succ = new Map<string, string[]>();
  for (const e of graph.edges) {
    const from = nodeOf(e.from);
    succ.set(from, [...(succ.get(from) ?? []), nodeOf(e.to)]);
  }
  const reached = new Set<string>();
  const stack = graph.nodes.some((n) => n.id === swept) ? [swept] : [];
  while (stack.length) {
    const id = stack.pop()!;
    if (reached.has(id)) continue;
    reached.add(id);
    stack.push(...(succ.get(id) ?? []));
  }
  // Kahn's algorithm over the reached subgraph, taking ready nodes in document order.
  const docOrder = graph.nodes.map((n) => n.id).filter((id) => reached.has(id));
  const indeg = new Map(docOrder.map((id) => [id, 0]));
  for (const e of graph.edges) {
    const [from, to] = [nodeOf(e.from), nodeOf(e.to)];
    if (reached.has(from) && reached.has(to)) indeg.set(to, indeg.get(to)! + 1);
  }
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < docOrder.length) {
    const next = docOrder.find((id) => !done.has(id) && indeg.get(id) === 0);
    if (next === undefined) break; // a cycle: the compiler refuses the run anyway
    order.push(next);
    done.add(next);
    for (const to of succ.get(next) ?? []) if (indeg.has(to)) indeg.set(to, indeg.get(to)! - 1);
  }
  return order;
}

/** The series to plot: the affected nodes that were measured at least once, in the affected order. */
export function sweepSeries(affected: readonly string[], points: readonly { nodes: Record<string, unknown> }[]): string[] {
  return affected.filter((id) => points.some((p) => Object.hasOwn(p.nodes, id)));
}

export interface SweepOutcome {
  running: boolean;
  values: readonly number[];
  points: readonly { status: 'ok' | 'refused' | 'failed' | 'cancelled' | 'invalid' }[];
}

/** The status line after a sweep, e.g. "sweep done: 3 of 4 values ran, 1 refused"; '' while running or before any. */
export function sweepStatus(s: SweepOutcome): string {
  if (s.running || s.points.length === 0) return '';
  const count = (st: SweepOutcome['points'][number]['status']) => s.points.filter((p) => p.status === st).length;
  const ok = count('ok');
  const rest = (['refused', 'failed', 'invalid'] as const).filter((st) => count(st)).map((st) => `${count(st)} ${st}`);
  // A sweep ends early when cancelled, or when a run took the worker down (its point is the last, failed).
  const early = s.points.length < s.values.length;
  const cancelled = count('cancelled') > 0 || (early && s.points.at(-1)!.status !== 'failed');
  const head = cancelled ? 'sweep cancelled' : early ? 'sweep stopped' : ok === 0 ? 'sweep failed' : 'sweep done';
  return `${head}: ${ok} of ${s.values.length} value${s.values.length === 1 ? '' : 's'} ran${rest.length ? `, ${rest.join(', ')}` : ''}`;
}
