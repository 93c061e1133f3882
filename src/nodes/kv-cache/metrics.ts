// What a KV-cache node reports, as a schema on its `metrics` port: the editor's KV view picks the
// nodes that declare an eviction timeline and reads it through this schema.
import { z } from 'zod';

/** Which original positions a cache holds at (at most maxSteps, evenly sampled) steps, as [start, end) runs (views find it by identity: declare this very schema). */
export const evictionTimeline = z
  .object({
    step: z.array(z.number()).describe('decode step of each recorded column'),
    seen: z.array(z.number()).describe('tokens seen so far at each recorded step'),
    runs: z.array(z.array(z.number())).describe('original positions held at each recorded step, as flat [start, end) pairs'),
    maxSteps: z.number().optional().describe('most steps recorded; longer runs are subsampled evenly'),
    subsampled: z.boolean().optional(),
  })
  .refine((t) => t.seen.length === t.step.length && t.runs.length === t.step.length, 'step, seen and runs hold one entry per recorded step');

export const kvCacheMetrics = z.looseObject({
  peakBytes: z.number().describe('the largest of memoryPerStep: bytes held once a step\'s eviction is done'),
  finalBytes: z.number().describe('bytes held after the last step'),
  tokensKept: z.number().describe('tokens the cache holds at the end'),
  evicted: z.number().describe('tokens seen but no longer held'),
  blocks: z.number().describe('blocks in use (paged)'),
  fragmentation: z.number().describe('reserved-but-unused share of the storage'),
  bytesPerToken: z.number().describe('full-precision bytes of one token\'s K and V across the kv heads'),
  fullBytes: z.number().describe('a dense full-precision cache of every token: the baseline'),
  steps: z.number().describe('append steps: the prefill, then one per decoded token'),
  memoryPerStep: z.array(z.number()).describe('bytes held at the end of each step'),
  timeline: evictionTimeline,
});
export type KvCacheMetrics = z.infer<typeof kvCacheMetrics>;
