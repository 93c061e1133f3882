// LongRoPE: per-dimension rescale factors (searched offline), one list for short and one for long
// sequences. Follows HF `_compute_longrope_parameters`, including the switch point.
import { z } from 'zod';
import { MAX_LEN, commonParams, defineVariant } from './common.js';

const params = z.object({
  variant: z.literal('longrope'),
  ...commonParams,
  shortFactor: z.array(z.number().positive()).default([]).describe('D/2 factors used while L ≤ originalMaxPositionEmbeddings (short_factor)'),
  longFactor: z.array(z.number().positive()).default([]).describe('D/2 factors used once L > originalMaxPositionEmbeddings (long_factor)'),
  originalMaxPositionEmbeddings: z.number().int().min(1).max(MAX_LEN).default(4096).describe('the trained context length'),
  maxPositionEmbeddings: z.number().int().min(1).max(MAX_LEN).default(131072).describe('the extended context length'),
  attentionFactor: z.number().positive().optional().describe('multiplies cos and sin; default √(1 + ln s / ln orig)'),
});
type P = z.infer<typeof params>;

/** √(1 + ln s / ln orig) with s = max/orig; 1 when s ≤ 1. */
export function longropeAttentionFactor(orig: number, max: number): number {
  const s = max / orig;
  return s <= 1 ? 1 : Math.sqrt(1 + Math.log(s) / Math.log(orig));
}

function checkFactors(p: P, D: number): void {
  for (const name of ['shortFactor', 'longFactor'] as const)
    if (p[name].length !== D / 2)
      throw new Error(
        `longrope: ${name} has ${p[name].length} entries but head dim ${D} needs D/2 = ${D / 2} (the ${name === 'shortFactor' ? 'short_factor' : 'long_factor'} list of the model's rope_scaling)`,
      );
}

export const longrope = defineVariant(params, {
  doc: {
    title: 'LongRoPE',
    summary:
      'Divides each frequency by its own searched factor: the long list once L = max position + 1 exceeds the original length, the short list otherwise.',
    formula: 'ext = L > orig ? longFactor : shortFactor; inv_i = 1 / (ext_i · base^(2i/D)); cos, sin ×= √(1 + ln(max/orig)/ln orig)',
    references: [{ title: 'LongRoPE: Extending LLM Context Window Beyond 2 Million Tokens', year: 2024 }],
  },
  effect: 'rotate',
  check: checkFactors,
  plan(p, D, L) {
    checkFactors(p, D);
    const long = L > p.originalMaxPositionEmbeddings;
    const ext = long ? p.longFactor : p.shortFactor;
    const inv = new Float64Array(D / 2);
    for (let i = 0; i < D / 2; i++) inv[i] = 1 / (ext[i]! * Math.pow(p.base, (2 * i) / D));
    const attentionFactor = p.attentionFactor ?? longropeAttentionFactor(p.originalMaxPositionEmbeddings, p.maxPositionEmbeddings);
    return { inv, attentionFactor, facts: { factors: long ? 'long' : 'short' } };
  },
});
