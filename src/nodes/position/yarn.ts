// YaRN: interpolate only the low frequencies (a linear ramp between the two correction dims) and
// raise the attention temperature. Index conventions follow HF `_compute_yarn_parameters`.
import { z } from 'zod';
import { MAX_LEN, commonParams, factorParam, ropeInv, defineVariant } from './common.js';

const params = z.object({
  variant: z.literal('yarn'),
  ...commonParams,
  factor: factorParam(4),
  originalMaxPositionEmbeddings: z.number().int().min(1).max(MAX_LEN).default(4096).describe('the trained context length'),
  betaFast: z.number().positive().default(32).describe('rotations above which a dim is left unchanged'),
  betaSlow: z.number().positive().default(1).describe('rotations below which a dim is fully interpolated'),
  attentionFactor: z.number().positive().optional().describe('multiplies cos and sin; default 0.1·ln(s) + 1'),
});
/** The dim whose wavelength makes `rotations` turns over the original length. */
const correctionDim = (rotations: number, D: number, base: number, orig: number) =>
  (D * Math.log(orig / (2 * Math.PI * rotations))) / (2 * Math.log(base));

/** YaRN's default temperature factor √(1/t) = 0.1·ln(s) + 1 (1 when s ≤ 1). */
export const yarnMscale = (s: number) => (s <= 1 ? 1 : 0.1 * Math.log(s) + 1);

export const yarn = defineVariant(params, {
  doc: {
    title: 'YaRN',
    summary:
      'High-frequency dims (many turns over the trained length) are kept, low-frequency dims are divided by s, a ramp in between; cos and sin are scaled by the attention factor.',
    formula:
      'corr(r) = D·ln(orig/(2π·r)) / (2·ln base); low = max(⌊corr(betaFast)⌋, 0), high = min(⌈corr(betaSlow)⌉, D−1); ramp_i = clamp((i−low)/(high−low), 0, 1); inv_i = (θ_i/s)·ramp_i + θ_i·(1−ramp_i)',
    references: [{ title: 'YaRN: Efficient Context Window Extension of Large Language Models', year: 2023 }],
  },
  effect: 'rotate',
  plan(p, D) {
    const low = Math.max(Math.floor(correctionDim(p.betaFast, D, p.base, p.originalMaxPositionEmbeddings)), 0);
    let high = Math.min(Math.ceil(correctionDim(p.betaSlow, D, p.base, p.originalMaxPositionEmbeddings)), D - 1);
    if (high === low) high += 0.001; // avoids a division by zero in the ramp
    const theta = ropeInv(p.base, D);
    const inv = theta.map((t, i) => {
      const ramp = Math.min(Math.max((i - low) / (high - low), 0), 1);
      return (t / p.factor) * ramp + t * (1 - ramp);
    });
    return { inv, attentionFactor: p.attentionFactor ?? yarnMscale(p.factor), factor: p.factor, facts: { low, high } };
  },
});
