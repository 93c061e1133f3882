// Selective Context (Li et al. 2023): the self-information of a token is −log p(token | prefix) under a
// scoring LM; a lexical unit's self-information is the sum over its tokens (self-information is additive);
// units whose self-information falls below the dropRatio-th percentile are dropped.
import { z } from 'zod';
import { commonParams, percentile, defineVariant } from './common.js';
import { tokenUnits } from './units.js';

export const selectiveContext = defineVariant(z.object({
    variant: z.literal('selective-context'),
    ...commonParams,
    unit: z
      .enum(['token', 'phrase', 'sentence'])
      .default('phrase')
      .describe('lexical unit kept or dropped as a whole: a token; a phrase (runs of content words, split at stop words and punctuation); a sentence'),
    dropRatio: z.number().min(0).max(0.99).default(0.35).describe('percentile of unit self-information under which units are dropped (reduce_ratio in the reference code)'),
  }), {
  doc: {
    title: 'Selective Context',
    summary:
      'Drops the lexical units (tokens, phrases or sentences) that carry the least self-information under the scoring LM: what the LM could have guessed adds little.',
    formula: 'I(x_t) = −log p(x_t | x_<t);  I(u) = Σ_{t∈u} I(x_t);  drop u if I(u) < percentile_{dropRatio}({I(u)})',
    references: [{ title: 'Compressing Context to Enhance Inference Efficiency of Large Language Models (Selective Context)', year: 2023 }],
  },
  compress(ctx, tokens, lm, p) {
    const T = tokens.ids.length;
    const lp = lm.logProbs(tokens.ids);
    ctx?.checkCancelled();
    const { unitOf, count } = tokenUnits(tokens, p.unit);
    const info = new Float64Array(count);
    for (let t = 0; t < T; t++) info[unitOf[t]!]! -= lp[t]!;
    const threshold = percentile(info, p.dropRatio * 100);
    const keep = new Uint8Array(T);
    let dropped = 0;
    const droppedUnit = new Uint8Array(count);
    for (let u = 0; u < count; u++) {
      if (info[u]! < threshold) {
        droppedUnit[u] = 1;
        dropped++;
      }
    }
    for (let t = 0; t < T; t++) keep[t] = droppedUnit[unitOf[t]!] ? 0 : 1;
    return { keep, extra: { unit: p.unit, units: count, unitsDropped: dropped, threshold: count ? threshold : 0 } };
  },
});
