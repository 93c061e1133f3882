// Every run's profile carries the backend's measured peak, and every node that ran its share of it:
// achieved GFLOP/s and GB/s (cost model flops and bytes over wall time) as % of the peak.
import { describe, expect, it } from 'vitest';
import { runPipeline } from '../api.js';
import { qkvAttention } from '../testdata/fixtures.js';

describe('roofline in the profile', () => {
  for (const [backend, method] of [['cpu', /^JS scalar/], ['wasm', /^wasm SIMD/]] as const)
    it(`${backend}: the peak is measured and each node is placed under it`, async () => {
      const r = await runPipeline(qkvAttention({ seqLen: 64 }), { backend });
      const peak = r.profile.peak!;
      expect(peak, r.profile.peakError).toBeDefined();
      expect(peak.method).toMatch(method);
      expect(peak.gflops).toBeGreaterThan(0);
      expect(peak.gbps).toBeGreaterThan(0);
      const flash = r.profile.nodes.find((n) => n.nodeId === 'flash')!;
      expect(flash.gflops).toBeGreaterThan(0);
      expect(flash.peakFlopsPct).toBeCloseTo((100 * flash.gflops!) / peak.gflops, 9);
      expect(flash.gbps).toBeGreaterThan(0);
      expect(flash.peakBytesPct).toBeCloseTo((100 * flash.gbps!) / peak.gbps, 9);
      // A node whose cost model counts no flops has no flops share.
      const src = r.profile.nodes.find((n) => n.nodeId === 'qkv')!;
      if (src.flops === 0) expect(src.peakFlopsPct).toBeNull();
    });
});
