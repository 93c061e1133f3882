// The device lanes of a node that runs across simulated devices (attention variants ring and
// dilated-distributed): its `devices` metrics' `timing.lanes`, parsed and checked, for the Timeline's
// per-device rows. Span times are ms since the node started.

export type DeviceSpanKind = 'compute' | 'send' | 'wait';

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

const KINDS: readonly string[] = ['compute', 'send', 'wait'];
const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);

/** Reads the `devices` metrics ({ transport, timing: { lanes: [{ device, peakBytes, bytesSent, spans: [[kind, step, start, end]] }] } }); null when absent or malformed. */
export function parseDeviceLanes(metrics: Record<string, unknown> | undefined): DeviceLanes | null {
  const timing = metrics?.timing;
  const raw = timing && typeof timing === 'object' ? (timing as { lanes?: unknown }).lanes : undefined;
  if (!Array.isArray(raw) || raw.length === 0) return null;
  const lanes: DeviceLane[] = [];
  let endMs = 0;
  for (const lane of raw) {
    if (!lane || typeof lane !== 'object' || !Array.isArray((lane as { spans?: unknown }).spans)) return null;
    const l = lane as { device?: unknown; peakBytes?: unknown; bytesSent?: unknown; spans: unknown[] };
    const device = num(l.device);
    if (device === undefined) return null;
    const spans: DeviceSpan[] = [];
    for (const s of l.spans) {
      if (!Array.isArray(s) || s.length !== 4 || !KINDS.includes(s[0] as string)) return null;
      const [step, start, end] = [num(s[1]), num(s[2]), num(s[3])];
      if (step === undefined || start === undefined || end === undefined || end < start) return null;
      spans.push({ kind: s[0] as DeviceSpanKind, step, start, end });
      endMs = Math.max(endMs, end);
    }
    lanes.push({ device, peakBytes: num(l.peakBytes) ?? 0, bytesSent: num(l.bytesSent) ?? 0, spans });
  }
  return { transport: typeof metrics?.transport === 'string' ? metrics.transport : 'unknown', lanes, endMs };
}

/** Total ms per span kind in one lane (for its row's title). */
export function laneTotals(lane: DeviceLane): Record<DeviceSpanKind, number> {
  const t = { compute: 0, send: 0, wait: 0 };
  for (const s of lane.spans) t[s.kind] += s.end - s.start;
  return t;
}
