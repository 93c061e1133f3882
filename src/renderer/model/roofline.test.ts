import { describe, expect, it } from 'vitest';
import { rooflineTitle } from './roofline.js';

describe('roofline tooltip', () => {
  it('says the rates and their share of the peak', () => {
    expect(rooflineTitle({ gflops: 4.8, gbps: 0.5, peakFlopsPct: 84.2, peakBytesPct: 6.4 })).toBe(
      "achieved 4.80 GFLOP/s (cost model flops / wall time), 84% of the backend's measured multiply-add peak; 0.500 GB/s moved, 6.4% of its measured copy bandwidth",
    );
  });
  it('leaves out what is unknown', () => {
    expect(rooflineTitle({ gflops: 2, gbps: null, peakFlopsPct: null, peakBytesPct: null })).toBe('achieved 2.00 GFLOP/s (cost model flops / wall time)');
  });
});
