// Llama 3.1 scaling: by wavelength, keep the high frequencies, divide the low ones by the factor,
// and blend linearly in between (HF `_compute_llama3_parameters`).
import { z } from 'zod';
import { MAX_LEN, commonParams, factorParam, ropeInv, defineVariant } from './common.js';

const params = z.object({
  variant: z.literal('llama3'),
  ...commonParams,
  factor: factorParam(8),
  lowFreqFactor: z.number().positive().default(1).describe('wavelengths above orig/lowFreqFactor are divided by the factor'),
  highFreqFactor: z.number().positive().default(4).describe('wavelengths below orig/highFreqFactor are kept'),
  originalMaxPositionEmbeddings: z.number().int().min(1).max(MAX_LEN).default(8192).describe('the trained context length'),
});
type P = z.infer<typeof params>;

function checkBands(p: P): void {
  if (!(p.highFreqFactor > p.lowFreqFactor))
    throw new Error(`llama3: highFreqFactor (${p.highFreqFactor}) must exceed lowFreqFactor (${p.lowFreqFactor})`);
}

export const llama3 = defineVariant(params, {
  doc: {
    title: 'Llama 3 scaling',
    summary: 'Per wavelength λ = 2π/inv: short wavelengths kept, long ones divided by the factor, a smooth blend between.',
    formula:
      "λ < orig/high: inv' = inv; λ > orig/low: inv' = inv/s; else t = (orig/λ − low)/(high − low), inv' = (1 − t)·inv/s + t·inv",
    references: [{ title: 'The Llama 3 Herd of Models', year: 2024 }],
  },
  effect: 'rotate',
  check: checkBands,
  plan(p, D) {
    checkBands(p);
    const orig = p.originalMaxPositionEmbeddings;
    const inv = ropeInv(p.base, D).map((v) => {
      const wavelength = (2 * Math.PI) / v;
      if (wavelength < orig / p.highFreqFactor) return v;
      if (wavelength > orig / p.lowFreqFactor) return v / p.factor;
      const t = (orig / wavelength - p.lowFreqFactor) / (p.highFreqFactor - p.lowFreqFactor);
      return ((1 - t) * v) / p.factor + t * v;
    });
    return { inv, attentionFactor: 1, factor: p.factor };
  },
});
