// The device lanes of a node that runs across simulated devices (attention variants ring and
// dilated-distributed): its `devices` metrics' `timing.lanes`, read through the schema the node
// declares (src/nodes/attention/devices.ts), for the Timeline's per-device rows. Span times are ms
// since the node started.
import { deviceLanes, type SpanKind } from '../../nodes/attention/devices.js';

export type DeviceSpanKind = SpanKind;

export interface DeviceSpan {
  kind: DeviceSpanKind;
  step: number;
  start: number;
  end: number;
}

export interface DeviceLane {
  device: number;
  peakBytes: number;
  bytesSent: number;
  spans: DeviceSpan[];
}

export interface DeviceLanes {
  transport: string;
  lanes: DeviceLane[];
  /** The latest span end, ms since the node started. */
  endMs: number;
}

/** Reads `timing.lanes` of the `devices` metrics; null when absent or malformed. */
export function parseDeviceLanes(metrics: Record<string, unknown> | undefined): DeviceLanes | null {
  const timing = metrics?.timing;
  const r = deviceLanes.safeParse(timing && typeof timing === 'object' ? (timing as { lanes?: unknown }).lanes : undefined);
  if (!r.success) return null;
  const lanes = r.data.map((l) => ({ ...l, spans: l.spans.map(([kind, step, start, end]) => ({ kind, step, start, end })) }));
  const endMs = Math.max(0, ...lanes.flatMap((l) => l.spans.map((s) => s.end)));
  return { transport: typeof metrics?.transport === 'string' ? metrics.transport : 'unknown', lanes, endMs };
}

/** Total ms per span kind in one lane (for its row's title). */
export function laneTotals(lane: DeviceLane): Record<DeviceSpanKind, number> {
  const t = { compute: 0, send: 0, wait: 0 };
  for (const s of lane.spans) t[s.kind] += s.end - s.start;
  return t;
}
