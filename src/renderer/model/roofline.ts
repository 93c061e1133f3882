// The roofline on the editor's node chip: the GF/s badge's suffix and its tooltip.
import type { NodeProfile } from '../../engine/run/events.js';
import { formatPct } from '../../engine/run/roofline.js';

export { formatPct };

/** Tooltip of the GF/s badge: achieved rates and their share of the backend's measured peak. */
export function rooflineTitle(p: Pick<NodeProfile, 'gflops' | 'gbps' | 'peakFlopsPct' | 'peakBytesPct'>): string {
  const parts = [`achieved ${p.gflops === null ? '?' : p.gflops.toPrecision(3)} GFLOP/s (cost model flops / wall time)`];
  if (p.peakFlopsPct != null) parts[0] += `, ${formatPct(p.peakFlopsPct)} of the backend's measured multiply-add peak`;
  if (p.gbps != null) parts.push(`${p.gbps.toPrecision(3)} GB/s moved${p.peakBytesPct != null ? `, ${formatPct(p.peakBytesPct)} of its measured copy bandwidth` : ''}`);
  return parts.join('; ');
}
