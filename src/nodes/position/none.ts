// No position information: q and k pass through (a baseline, or NoPE models).
import { z } from 'zod';
import { commonParams, plainPlan, defineVariant } from './common.js';

export const none = defineVariant(z.object({ variant: z.literal('none'), ...commonParams }), {
  doc: {
    title: 'None (NoPE)',
    summary: 'q and k pass through unchanged; the causal mask alone carries order. Frequencies are all 0.',
    references: [{ title: 'The Impact of Positional Encoding on Length Generalization in Transformers', year: 2023 }],
  },
  effect: 'none',
  plan: (_p, D) => plainPlan(new Float64Array(Math.floor(D / 2))),
});
