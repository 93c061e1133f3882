import { describe, expect, it } from 'vitest';
import { laneTotals, parseDeviceLanes } from './device-lanes.js';

describe('parseDeviceLanes', () => {
  const good = {
    transport: 'worker_threads',
    timing: {
      lanes: [
        { device: 0, peakBytes: 100, bytesSent: 64, spans: [['send', 0, 0, 0.5], ['compute', 0, 0.5, 3], ['wait', 0, 3, 3.25], ['compute', 1, 3.25, 6]] },
        { device: 1, peakBytes: 100, bytesSent: 64, spans: [['send', 0, 0.1, 0.4], ['compute', 0, 0.4, 2.5], ['wait', 0, 2.5, 3.5], ['compute', 1, 3.5, 7]] },
      ],
    },
  };

  it('reads lanes, spans and the latest end', () => {
    const r = parseDeviceLanes(good)!;
    expect(r.transport).toBe('worker_threads');
    expect(r.lanes.map((l) => l.device)).toEqual([0, 1]);
    expect(r.lanes[1]!.spans[2]).toEqual({ kind: 'wait', step: 0, start: 2.5, end: 3.5 });
    expect(r.endMs).toBe(7);
    expect(laneTotals(r.lanes[0]!)).toEqual({ compute: 5.25, send: 0.5, wait: 0.25 });
  });

  it('refuses what is not device lanes', () => {
    const lanes = (l: unknown) => ({ timing: { lanes: l } });
    expect(parseDeviceLanes(undefined)).toBeNull();
    expect(parseDeviceLanes({ lanes: good.timing.lanes })).toBeNull();
    expect(parseDeviceLanes(lanes([]))).toBeNull();
    expect(parseDeviceLanes(lanes([{ device: 0, spans: [['think', 0, 0, 1]] }]))).toBeNull();
    expect(parseDeviceLanes(lanes([{ device: 0, spans: [['compute', 0, 2, 1]] }]))).toBeNull();
    expect(parseDeviceLanes(lanes([{ spans: [] }]))).toBeNull();
  });
});
