// StreamingLLM as a mask: every query sees the attention sinks and its most recent keys.
import { z } from 'zod';
import { MAX_LEN, commonParams, defineVariant } from './common.js';

const params = z.object({
  variant: z.literal('streaming'),
  ...commonParams,
  sinkTokens: z.number().int().min(0).max(MAX_LEN).default(4).describe('leading tokens every query keeps seeing'),
  recentTokens: z.number().int().min(1).max(MAX_LEN).default(1024).describe('keys i − recentTokens < j ≤ i each query sees'),
});
export const streaming = defineVariant(params, {
  doc: {
    title: 'StreamingLLM (sinks + recent)',
    summary:
      'Query i sees keys j < sinkTokens and i − recentTokens < j ≤ i. Positions stay 0..T−1; the rolling cache positions StreamingLLM re-assigns come from the kv-cache `positions` output.',
    formula: 'allowed(i, j) ⇔ j < sinkTokens ∨ 0 ≤ i − j < recentTokens',
    references: [{ title: 'Efficient Streaming Language Models with Attention Sinks', year: 2023 }],
  },
  check: () => {},
  segment(p, T) {
    return {
      positions: Int32Array.from({ length: T }, (_, t) => t),
      terms: [{ type: 'streaming', sinkTokens: p.sinkTokens, recentTokens: p.recentTokens }],
      windows: {
        tokens: T,
        sinks: [0, Math.min(p.sinkTokens, T)],
        recentTokens: p.recentTokens,
        keysPerQuery: Math.min(T, p.sinkTokens + p.recentTokens),
        maxPosition: T - 1,
      },
    };
  },
});
