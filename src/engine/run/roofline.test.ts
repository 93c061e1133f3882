// The roofline figures against hand-computed values, and the peak micro-benchmark on the cpu backend.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { backendPeak, measureHostCopy } from '../backends/peak.js';
import { formatPct, roofline } from './roofline.js';

const peak = { gflops: 50, gbps: 20, method: 'test' };

describe('roofline', () => {
  it('2 GFLOP in 100 ms at a 50 GFLOP/s peak is 40%; 400 MB moved is 4 GB/s, 20% of 20 GB/s', () => {
    // gflops as the runtime computes it: flops / wallMs / 1e6 = 2e9 / 100 / 1e6 = 20.
    expect(roofline({ wallMs: 100, gflops: 20 }, { bytesMoved: 4e8 }, peak)).toEqual({ gbps: 4, peakFlopsPct: 40, peakBytesPct: 20 });
  });
  it('unknown sides stay null: no bytes in the cost model, no flops, no peak', () => {
    expect(roofline({ wallMs: 10, gflops: null }, {}, peak)).toEqual({ gbps: null, peakFlopsPct: null, peakBytesPct: null });
    expect(roofline({ wallMs: 10, gflops: 5 }, { bytesMoved: 1e6 }, undefined)).toEqual({ gbps: 0.1, peakFlopsPct: null, peakBytesPct: null });
    expect(roofline({ wallMs: 0, gflops: null }, { bytesMoved: 1e6 }, peak).gbps).toBeNull();
  });
  it('formats percentages', () => {
    expect([formatPct(0.05), formatPct(3.14), formatPct(42.4), formatPct(null)]).toEqual(['<0.1%', '3.1%', '42%', '']);
  });
  it('the cpu peak is measured once per session, positive and finite', async () => {
    await tf.setBackend('cpu');
    const a = backendPeak('cpu', tf)!;
    expect(backendPeak('cpu', tf)).toBe(a);
    const p = await a;
    expect(p.gflops).toBeGreaterThan(0.1);
    expect(p.gbps).toBeGreaterThan(0.1);
    expect(Number.isFinite(p.gflops + p.gbps)).toBe(true);
    expect(measureHostCopy()).toBeGreaterThan(0.1);
  });
});
