// A node's place under the roofline: achieved GFLOP/s and GB/s (the cost model's flops and bytes
// moved over the wall time) as a share of the backend's measured peak (backends/peak.ts), so a
// figure says at once whether it measures the technique or an unoptimised kernel.
import type { BackendPeak } from '../backends/peak.js';
import type { Cost } from '../node.js';

export interface Roofline {
  /** bytesMoved / wall time, GB/s; null when the cost model has no bytes or the node took no time. */
  gbps: number | null;
  /** Achieved GFLOP/s and GB/s as % of the backend's peak; null when either side is unknown. */
  peakFlopsPct: number | null;
  peakBytesPct: number | null;
}

export function roofline(p: { wallMs: number; gflops: number | null }, cost: Pick<Cost, 'bytesMoved'>, peak: BackendPeak | undefined): Roofline {
  const gbps = cost.bytesMoved && p.wallMs > 0 ? cost.bytesMoved / p.wallMs / 1e6 : null;
  return {
    gbps,
    peakFlopsPct: peak && p.gflops !== null && peak.gflops > 0 ? (100 * p.gflops) / peak.gflops : null,
    peakBytesPct: peak && gbps !== null && peak.gbps > 0 ? (100 * gbps) / peak.gbps : null,
  };
}

/** "12% of peak" style text for tables and chips: one decimal below 10%, '<0.1' below that. */
export function formatPct(pct: number | null | undefined): string {
  if (pct === null || pct === undefined) return '';
  if (pct < 0.1) return '<0.1%';
  return `${pct < 10 ? pct.toFixed(1) : pct.toFixed(0)}%`;
}
