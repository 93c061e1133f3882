// StreamingLLM cache: attention sinks plus a rolling window. While the cache has room it keeps
// everything; once more than sinkTokens + recentTokens tokens arrived it keeps [0, sinkTokens) ∪
// [len − recentTokens, len), as the paper's StartRecentKVCache does. sinkTokens = 0 is plain
// window (sliding) eviction, the baseline the paper shows collapsing once the first tokens leave.
// StreamingLLM applies RoPE with positions inside the cache (0..kept−1), not the original ones:
// feed the position encoder the cache's k without `positions`, or `positions` to use original ones.
import { z } from 'zod';
import { bytesPerToken, commonParams, copyCost, schedule, StepRecorder, toRuns, defineVariant } from './common.js';

const params = z
  .object({
    variant: z.literal('streaming'),
    ...commonParams,
    sinkTokens: z.number().int().min(0).default(4).describe('leading tokens always kept (attention sinks; start_size)'),
    recentTokens: z.number().int().min(0).default(1020).describe('most recent tokens kept (recent_size)'),
  })
  .refine((p) => p.sinkTokens + p.recentTokens >= 1, { message: 'sinkTokens + recentTokens must be at least 1', path: ['recentTokens'] });
/** Original positions held after `len` tokens arrived, in cache order. */
export function streamingKept(len: number, sinkTokens: number, recentTokens: number): Int32Array {
  if (len <= sinkTokens + recentTokens) return Int32Array.from({ length: len }, (_, i) => i);
  const out = new Int32Array(sinkTokens + recentTokens);
  for (let i = 0; i < sinkTokens; i++) out[i] = i;
  for (let i = 0; i < recentTokens; i++) out[sinkTokens + i] = len - recentTokens + i;
  return out;
}

export const streaming = defineVariant(params, {
  doc: {
    title: 'StreamingLLM (sinks + recent window)',
    summary:
      'StreamingLLM semantics: once full it keeps [0, sinkTokens) ∪ [len − recentTokens, len) — the attention sinks and the recent window. RoPE belongs after the cache, with positions inside it (0..kept−1). sinkTokens = 0 is window-only eviction.',
    formula: 'kept = [0, sinkTokens) ∪ [len − recentTokens, len) once len > sinkTokens + recentTokens',
    references: [{ title: 'Efficient Streaming Language Models with Attention Sinks', year: 2023 }],
  },
  kept: (T, p) => Math.min(T, p.sinkTokens + p.recentTokens),
  cost(s, p) {
    const cap = Math.min(s.T, p.sinkTokens + p.recentTokens);
    return copyCost(s, cap, cap * bytesPerToken(s), `${cap} tokens held`);
  },
  simulate(_ins, p, s) {
    const steps = schedule(s.T, p.prefillTokens);
    const rec = new StepRecorder(steps.length);
    const cap = p.sinkTokens + p.recentTokens;
    for (const [, to] of steps) {
      const held = Math.min(to, cap);
      rec.record(to, held * bytesPerToken(s), () => toRuns(streamingKept(to, p.sinkTokens, p.recentTokens)));
    }
    const positions = streamingKept(s.T, p.sinkTokens, p.recentTokens);
    return {
      positions,
      metrics: { ...rec.metrics({ s, tokensKept: positions.length }), capacity: cap },
    };
  },
});
