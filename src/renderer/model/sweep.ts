// What a sweep plots and says: only the nodes the swept param can affect (engine/run/sweep.ts's
// affectedNodes: the swept node and what is downstream of it), in an order fixed by the graph so the
// series and their colours do not move between runs, and a status line once the sweep is over.
import { own } from '../../engine/dict.js';

/** The series to plot: the affected nodes that finished at least once, in the affected order. */
export function sweepSeries(affected: readonly string[], points: readonly { nodes: Record<string, { status: string }> }[]): string[] {
  return affected.filter((id) => points.some((p) => own(p.nodes, id)?.status === 'done'));
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
