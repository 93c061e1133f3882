// What a position node reports, as a schema on its `metrics` port: the editor's position view picks
// the nodes that declare it and reads (and titles) the figures through it.
import { z } from 'zod';

export const positionMetrics = z.looseObject({
  variant: z.string().describe('the position scheme'),
  headDim: z.number().describe('D'),
  maxPosition: z.number().describe("the largest of k's positions"),
  rotaryDims: z.number().optional().describe('channels rotated (partial rotary)'),
  attentionFactor: z.number().optional().describe('multiplies cos and sin'),
  unchangedDims: z.number().optional().describe('dimension pairs whose frequency the scaling left unchanged'),
  dividedDims: z.number().optional().describe('dimension pairs divided by the full factor'),
  minWavelength: z.number().optional().describe('shortest wavelength 2π/θ, in tokens'),
  maxWavelength: z.number().optional().describe('longest wavelength 2π/θ, in tokens'),
  slopes: z.array(z.number()).optional().describe('ALiBi slope per head'),
});
export type PositionMetrics = z.infer<typeof positionMetrics>;
