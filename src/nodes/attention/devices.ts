// Simulated devices for the distributed attention variants (ring, dilated-distributed): how a
// sequence is cut into per-device shards, and the `devices` metrics that the profile and the
// editor's device lanes read — per device its measured peak bytes, bytes sent, and its compute,
// send and wait spans; per step the slowest device's compute, send and wait times.
import { z } from 'zod';
import type { MetricValue, MetricsValue } from '../../engine/values.js';

/** Span kinds in a device's lane (the numbers are what workers report, to keep messages small). */
export const SPAN_KINDS = ['compute', 'send', 'wait'] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];

const stepTimes = { computeMs: z.number(), sendMs: z.number(), waitMs: z.number() };

/** One device's row in the Timeline: its spans [kind, step, startMs, endMs], ms since the node started. */
export const deviceLane = z.object({
  device: z.number().int().describe('device index'),
  peakBytes: z.number().describe('its peak bytes'),
  bytesSent: z.number().describe('bytes it sent'),
  spans: z.array(z.tuple([z.enum(SPAN_KINDS), z.number().int(), z.number(), z.number()]).refine(([, , start, end]) => end >= start, 'a span ends before it starts')),
});
export const deviceLanes = z.array(deviceLane).min(1);

/** What a node across simulated devices reports on its `devices` port (the Timeline reads `timing.lanes` through it). */
export const deviceMetricsSchema = z.looseObject({
  devices: z.number().int().describe('simulated devices'),
  transport: z.enum(['worker_threads', 'in-process']).describe('a worker_thread per device, or devices taking turns in-process'),
  overlap: z.string().describe('whether communication overlapped compute, and how to read the times'),
  maxDevicePeakBytes: z.number().describe('the largest peak any device held'),
  totalBytesSent: z.number().describe('bytes all devices sent'),
  bytesSentPerStep: z.number().optional().describe('ring: the K/V block one device sends per step'),
  gatheredBytes: z.number().optional().describe("dilated-distributed: bytes the all-gathers delivered (each device's own rows not counted)"),
  scoreEntries: z.number().describe('score entries computed'),
  perDevice: z.array(z.object({ device: z.number().int(), peakBytes: z.number(), bytesSent: z.number() })).describe('each device: peak bytes and bytes sent'),
  timing: z
    .looseObject({
      ...stepTimes,
      transferMs: z.number().optional().describe('ring: one block transfer with nothing to hide it'),
      perDevice: z.array(z.object({ device: z.number().int(), ...stepTimes })),
      steps: z.array(z.object({ step: z.number().int(), ...stepTimes })).describe("each step: the slowest device's times"),
      lanes: deviceLanes,
    })
    .describe('clock readings (they change from run to run)'),
});
export type DeviceMetrics = z.infer<typeof deviceMetricsSchema>;

/** The top-level names of the `devices` metrics (checks are validated against them). */
export const DEVICE_METRIC_KEYS = Object.keys(deviceMetricsSchema.shape);

/** What one device reports: spans as flat [kind, step, start, end] quadruples, times in epoch ms. */
export interface DeviceReport {
  device: number;
  peakBytes: number;
  bytesSent: number;
  spans: number[];
}

/** Milliseconds since the epoch, comparable across worker threads (each has its own timeOrigin). */
export const epochMs = () => performance.timeOrigin + performance.now();

/** Device d's share [start, end) of n items over `devices` devices: balanced, the first ones never shorter. */
export function shard(n: number, devices: number, d: number): [number, number] {
  return [Math.floor((d * n) / devices), Math.floor(((d + 1) * n) / devices)];
}

/** Refuses a device count the sequence cannot be cut into (every device needs a row). */
export function checkDevices(variant: string, devices: number, Tq: number, Tk: number): void {
  if (devices > Math.min(Tq, Tk))
    throw new Error(`attention (${variant}): params.devices = ${devices} is more than the sequence has rows (${Math.min(Tq, Tk)}); use at most that many devices`);
}

/**
 * The `devices` metrics: scalars for checks (maxDevicePeakBytes, bytesSentPerStep, …) and a row per
 * device, all of them counts that every run repeats; and under `timing`, what a clock measured: the
 * totals, a row per device, a row per step (the slowest device's times) and the `lanes` the
 * editor's timeline draws. `t0` (epoch ms) is the node's start: lane times are ms since then.
 */
export function deviceMetrics(
  reports: DeviceReport[],
  t0: number,
  info: { transport: string; overlap: string; steps: number; extra?: Record<string, MetricValue>; timing?: Record<string, MetricValue> },
): MetricsValue {
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const steps = Array.from({ length: info.steps }, () => [0, 0, 0]);
  const totals = reports.map(() => [0, 0, 0]);
  const lanes = reports.map((r, d) => {
    const spans: MetricValue[] = [];
    for (let x = 0; x + 3 < r.spans.length; x += 4) {
      const [kind, step, start, end] = [r.spans[x]!, r.spans[x + 1]!, r.spans[x + 2]!, r.spans[x + 3]!];
      const ms = end - start;
      totals[d]![kind]! += ms;
      const row = steps[step];
      if (row) row[kind] = Math.max(row[kind]!, ms);
      spans.push([SPAN_KINDS[kind]!, step, round(start - t0), round(end - t0)]);
    }
    return { device: r.device, peakBytes: r.peakBytes, bytesSent: r.bytesSent, spans };
  });
  const sum = (k: number) => steps.reduce((a, s) => a + s[k]!, 0);
  return {
    kind: 'metrics',
    values: {
      devices: reports.length,
      transport: info.transport,
      overlap: info.overlap,
      maxDevicePeakBytes: Math.max(...reports.map((r) => r.peakBytes)),
      totalBytesSent: reports.reduce((a, r) => a + r.bytesSent, 0),
      ...info.extra,
      perDevice: reports.map((r) => ({ device: r.device, peakBytes: r.peakBytes, bytesSent: r.bytesSent })),
      timing: {
        computeMs: round(sum(0)),
        sendMs: round(sum(1)),
        waitMs: round(sum(2)),
        ...info.timing,
        perDevice: reports.map((r, d) => ({ device: r.device, computeMs: round(totals[d]![0]!), sendMs: round(totals[d]![1]!), waitMs: round(totals[d]![2]!) })),
        steps: steps.map((s, step) => ({ step, computeMs: round(s[0]!), sendMs: round(s[1]!), waitMs: round(s[2]!) })),
        lanes,
      },
    },
  };
}
