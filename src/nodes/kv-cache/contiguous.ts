// Contiguous cache: one buffer of maxTokens slots reserved up front for the whole sequence, as
// serving systems did before paging. Nothing is evicted; the unused reserved slots are the waste
// that PagedAttention measured (reservation plus internal fragmentation).
import { z } from 'zod';
import { ShapeError } from '../../engine/node.js';
import { bytesPerToken, commonParams, copyCost, range, schedule, StepRecorder, defineVariant } from './common.js';

export const contiguous = defineVariant(z.object({
    variant: z.literal('contiguous'),
    ...commonParams,
    maxTokens: z.number().int().min(1).max(1 << 24).default(4096).describe('slots reserved per sequence (the model\'s max length)'),
  }), {
  doc: {
    title: 'Contiguous (preallocated)',
    summary: 'Reserves maxTokens slots up front and keeps every token; fragmentation is the reserved-but-unused share, as PagedAttention measured it.',
    formula: 'bytes = maxTokens · Hkv · (D + Dv) · 4 at every step; fragmentation = (maxTokens − T) / maxTokens',
    references: [{ title: 'Efficient Memory Management for Large Language Model Serving with PagedAttention', year: 2023 }],
  },
  kept: (T) => T,
  check(s, p) {
    if (s.T !== null && s.T > p.maxTokens)
      throw new ShapeError('k', `k has ${s.T} tokens but the contiguous cache reserves maxTokens = ${p.maxTokens}; raise maxTokens`);
  },
  // The reservation of maxTokens slots is what the metrics report; this process holds only the kept K/V.
  cost: (s, p) => copyCost(s, s.T, 0, `the kept K/V (a real cache would reserve ${p.maxTokens} slots)`),
  simulate(_ins, p, s) {
    const steps = schedule(s.T, p.prefillTokens);
    const rec = new StepRecorder(steps.length);
    const reserved = p.maxTokens * bytesPerToken(s);
    for (const [, to] of steps) rec.record(to, reserved, () => [0, to]);
    return {
      positions: range(0, s.T),
      metrics: {
        ...rec.metrics({ s, tokensKept: s.T, fragmentation: (p.maxTokens - s.T) / p.maxTokens }),
        maxTokens: p.maxTokens,
        wastedBytes: (p.maxTokens - s.T) * bytesPerToken(s),
      },
    };
  },
});
