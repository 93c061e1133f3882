// The fitted exponent of a sweep: how a node's time or memory grows with the swept value (≈1 for
// O(N), ≈2 for O(N²)). One rule for `ctxlab sweep` and the editor's sweep view, so the same sweep
// reports the same exponent in both; and the sweep loop both hosts run (each keeps only its I/O:
// progress, cancel, the CSV or the charts).
import { dict } from '../dict.js';
import type { NodeProfile } from './events.js';
import type { ServiceRunResult } from './service.js';

export interface PowerFit {
  /** b in log y = a + b·log x. */
  slope: number;
  intercept: number;
  /** Coefficient of determination in log-log space. */
  r2: number;
  /** Points used. */
  n: number;
}

/** Least-squares fit of log y = a + b·log x over the points with finite x > 0 and y > 0; null with fewer than 2 or one x. */
export function fitLogLog(xs: readonly number[], ys: readonly number[]): PowerFit | null {
  const pts: [number, number][] = [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const [x, y] = [xs[i]!, ys[i]!];
    if (x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y)) pts.push([Math.log(x), Math.log(y)]);
  }
  const n = pts.length;
  if (n < 2) return null;
  const mx = pts.reduce((s, p) => s + p[0], 0) / n;
  const my = pts.reduce((s, p) => s + p[1], 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const [x, y] of pts) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
    syy += (y - my) ** 2;
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy), n };
}

/** Fewer points than this give no exponent: two points always fit a line exactly, whatever the noise. */
export const MIN_SWEEP_POINTS = 3;
/** Times under this (ms) are timer noise: a node whose every time is under it gets no time exponent. */
export const MIN_SWEEP_MS = 0.05;

/** A sweep's exponent for one node and figure, or why there is none. */
export type SweepSlope = { slope: number; why?: undefined } | { slope: null; why: string };

/**
 * The exponent of `ys` against the swept values `xs` (null when the values are not numbers), from at
 * least MIN_SWEEP_POINTS points. `floor`: figures all under it are noise (MIN_SWEEP_MS for times).
 */
export function sweepSlope(xs: readonly number[] | null, ys: readonly number[], floor = 0): SweepSlope {
  if (!xs) return { slope: null, why: 'the swept values are not numbers' };
  const measured = ys.filter((y) => y > 0 && Number.isFinite(y));
  if (measured.length < MIN_SWEEP_POINTS) return { slope: null, why: `fewer than ${MIN_SWEEP_POINTS} points (finished runs with a figure above 0)` };
  if (measured.every((y) => y < floor)) return { slope: null, why: `every time under ${floor} ms` };
  const fit = fitLogLog(xs, ys);
  return fit && fit.n >= MIN_SWEEP_POINTS ? { slope: fit.slope } : { slope: null, why: 'the swept values must be positive and differ' };
}

// ---- The sweep itself: the values run in order, each run's per-node figures, the fit ----

/** What one node measured at one swept value. */
export interface SweepNode {
  ms: number;
  peak: number;
  status: NodeProfile['status'];
  type: string;
  variant?: string;
  error?: string;
}

/** One swept value: how its run ended and what each node measured. */
export interface SweepPoint<V = unknown> {
  value: V;
  status: 'ok' | 'refused' | 'invalid' | 'failed' | 'cancelled';
  /** Why it is not ok: the compiler's issues, the nodes' errors, or how the engine worker died. */
  message?: string;
  totalMs: number;
  nodes: Record<string, SweepNode>;
}

/** What a host gives a sweep: its engine call and its I/O (progress, cancel). */
export interface SweepHost<V> {
  /** Runs the pipeline once with the swept param at `value`, uncached (the host's worker, backend, budget). */
  run(value: V): Promise<ServiceRunResult>;
  /** The message when `err` means the engine worker died (the sweep ends, that value failed); undefined rethrows. */
  died(err: unknown): string | undefined;
  /** Before each run; `warmup` for the untimed first one. */
  onStart?(value: V, warmup: boolean): void;
  onPoint?(point: SweepPoint<V>): void;
  /** True ends the sweep before its next run (the user cancelled). */
  stopped?(): boolean;
}

/** The untimed warm-up runs at the smallest value (the first value when they are not numbers). */
export function sweepWarmup<V>(values: readonly V[]): V {
  const numbers = (vs: readonly V[]): vs is readonly (V & number)[] => vs.every((v) => typeof v === 'number');
  return numbers(values) ? values.reduce((a, b) => (b < a ? b : a)) : values[0]!;
}

/**
 * Runs `values` in order after one untimed warm-up run (the first run pays for backend start-up and
 * kernel compiles, which would tilt the fitted exponent). Ends early when stopped, when a run is
 * cancelled, or when the engine worker dies (that value is the last point, failed).
 */
export async function runSweep<V>(values: readonly V[], host: SweepHost<V>): Promise<SweepPoint<V>[]> {
  const points: SweepPoint<V>[] = [];
  const add = (p: SweepPoint<V>) => {
    points.push(p);
    host.onPoint?.(p);
  };
  const warmup = sweepWarmup(values);
  let at = warmup;
  try {
    host.onStart?.(warmup, true);
    await host.run(warmup);
    for (const value of values) {
      if (host.stopped?.()) break;
      at = value;
      host.onStart?.(value, false);
      const point = sweepPoint(value, await host.run(value));
      add(point);
      if (point.status === 'cancelled') break;
    }
  } catch (err) {
    const message = host.died(err);
    if (message === undefined) throw err;
    add({ value: at, status: 'failed', message, totalMs: 0, nodes: dict() });
  }
  return points;
}

/** One run's outcome as a sweep point. */
export function sweepPoint<V>(value: V, r: ServiceRunResult): SweepPoint<V> {
  if (!r.ok) return { value, status: r.stage, message: r.issues.map((i) => i.message).join('; '), totalMs: 0, nodes: dict() };
  const nodes: Record<string, SweepNode> = dict(
    r.profile.nodes.map((n) => [n.nodeId, { ms: n.wallMs, peak: n.peakBytes, status: n.status, type: n.type, variant: n.variant, error: n.error }] as const),
  );
  const message = r.errors.map((e) => `node "${e.nodeId}": ${e.message}`).join('; ') || undefined;
  return { value, status: r.status, message, totalMs: r.profile.totalMs, nodes };
}

/** Per node, its time and memory exponents over the points where it finished. */
export interface NodeSlopes {
  ms: SweepSlope;
  peak: SweepSlope;
}

/**
 * The exponents of the nodes in `ids`; those not in `affected` (not the swept node or downstream
 * of it) get none: the param cannot change them, so a slope would be noise.
 */
export function sweepFits(points: readonly SweepPoint[], ids: readonly string[], affected: readonly string[]): Record<string, NodeSlopes> {
  const numeric = points.every((p) => typeof p.value === 'number');
  const unaffected: SweepSlope = { slope: null, why: 'the swept param does not reach it' };
  return dict(
    ids.map((id) => {
      if (!affected.includes(id)) return [id, { ms: unaffected, peak: unaffected }] as const;
      const done = points.filter((p) => p.nodes[id]?.status === 'done');
      const xs = numeric ? done.map((p) => p.value as number) : null;
      return [id, { ms: sweepSlope(xs, done.map((p) => p.nodes[id]!.ms), MIN_SWEEP_MS), peak: sweepSlope(xs, done.map((p) => p.nodes[id]!.peak)) }] as const;
    }),
  );
}

/** `node.port` → `node` (ids may not contain dots; ports never do). */
const nodeOf = (ref: string) => ref.slice(0, ref.lastIndexOf('.'));

export interface SweepGraph {
  nodes: readonly { id: string }[];
  edges: readonly { from: string; to: string }[];
}

/**
 * The swept node and every node downstream of it, in topological order (ties in document order):
 * what the swept param can change. Nodes off that path would only add noise to a sweep.
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
