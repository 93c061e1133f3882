// The schema declared on the kv-cache node's metrics port describes what every variant reports.
import { describe, expect, it } from 'vitest';
import { f32 } from '../../engine/tensor.js';
import { kvCache, variants } from './index.js';
import { variantName } from '../../engine/variants.js';
import { evictionTimeline, kvCacheMetrics } from './metrics.js';

const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i));

describe('kv-cache metrics schema', () => {
  it('is declared on the metrics port', () => {
    expect(kvCache.outputs.metrics.metrics).toBe(kvCacheMetrics);
  });

  for (const v of variants.map(variantName))
    it(`parses what ${v} reports`, () => {
      const [H, T, D] = [2, 40, 8];
      const params = kvCache.params.parse({ variant: v, prefillTokens: 8, ...(v === 'contiguous' ? { maxTokens: 64 } : {}) });
      const out = kvCache.reference!({ k: f32([H, T, D], ramp(H * T * D)), v: f32([H, T, D], ramp(H * T * D)), q: f32([H, T, D], ramp(H * T * D)) }, params);
      const r = kvCacheMetrics.safeParse(out.metrics!.values);
      expect(r.error?.issues ?? []).toEqual([]);
      expect(r.data!.memoryPerStep).toHaveLength(r.data!.steps);
    });

  it('refuses a timeline whose columns disagree', () => {
    expect(evictionTimeline.safeParse({ step: [0, 1], seen: [1], runs: [[0, 1], [0, 2]] }).success).toBe(false);
  });
});
