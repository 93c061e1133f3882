// What every position variant shares: common params, the variant contract, the plain RoPE
// frequencies that the scaling rules start from, and the positions a run uses.
import { z } from 'zod';
import { ShapeError, type VariantDoc } from '../../engine/node.js';
import { defineVariant as defineAnyVariant, type VariantSchema } from '../../engine/variants.js';
import type { MetricValue } from '../../engine/values.js';
import type { BiasTerm } from '../common/bias.js';

/** Upper bound for lengths and token counts in params (16M tokens). */
export const MAX_LEN = 1 << 24;

export const commonParams = {
  base: z.number().gt(1).max(1e12).default(10000).describe('RoPE base θ (rope_theta); the sinusoidal table uses it too'),
  positionOffset: z
    .number().int().min(0).max(2 ** 30).default(0)
    .describe("k's positions are offset..offset+Tk−1 (q's the last Tq of them) when the `positions` input is not connected (ignored when it is)"),
  layout: z
    .enum(['half', 'interleaved'])
    .default('half')
    .describe('"half": HF Llama rotate_half (pairs d, d+D/2); "interleaved": GPT-J / RoFormer pairs (2i, 2i+1)'),
  rotaryDims: z
    .number().int().min(2).max(MAX_LEN).multipleOf(2).optional()
    .describe('rotate only the first rotaryDims channels of each head, pass the rest through (GPT-NeoX rotary_pct, HF partial_rotary_factor); default all D'),
  fromConfig: z
    .string().min(1).optional()
    .describe("an HF config.json, relative to the pipeline: its rope_theta, rope_scaling, head_dim and partial rotary factor replace this node's variant and params, with HF semantics (as a connected `model` input does)"),
  configLayer: z
    .number().int().min(0).max(4096).optional()
    .describe("with a config: the layer whose rotary to use (Gemma 3's sliding layers use rope_local_base_freq); default a global layer"),
};

/** Scaling factors are ≥ 1: they stretch the trained length, never shrink it. */
export const factorParam = (def: number) => z.number().min(1).max(1e6).default(def).describe('context extension factor s');

export type Layout = 'half' | 'interleaved';
export interface PositionParams {
  variant: string;
  base: number;
  positionOffset: number;
  layout: Layout;
  rotaryDims?: number;
  fromConfig?: string;
  configLayer?: number;
}

/**
 * The rotation a variant asks for: the D/2 inverse frequencies (float64), a factor on cos and sin,
 * and for xPos a per-pair decay. Everything is decided before the kernel runs.
 */
export interface RotaryPlan {
  inv: Float64Array;
  /** Multiplies cos and sin, so q·k scales by its square (YaRN's temperature, LongRoPE's factor). */
  attentionFactor: number;
  /** The variant's scale factor, to count which dims it divides by exactly that factor. */
  factor?: number;
  /** xPos: pair i of q at position n is scaled by ζ_i^(n/scaleBase), of k by ζ_i^(−n/scaleBase). */
  xpos?: { zeta: Float64Array; scaleBase: number };
  /** Facts the metrics output reports (effective base, YaRN's low/high, LongRoPE's factor list). */
  facts?: Record<string, MetricValue>;
}

/** One position technique: its params (with the `variant` literal), docs, effect, and frequencies. */
export interface PositionVariant<P = PositionParams & Record<string, unknown>> {
  params: VariantSchema;
  doc: VariantDoc;
  /** What happens to q and k: rotated, a table added, or passed through untouched. */
  effect: 'rotate' | 'add' | 'none';
  /** Inverse frequencies for head dim D when the largest position is L − 1. */
  plan(p: P, D: number, L: number): RotaryPlan;
  /** Structured attention bias terms for H query heads (ALiBi). */
  bias?(p: P, H: number): BiasTerm[];
  /** Checks params that depend on the head dim; throws naming the param. */
  check?(p: P, D: number): void;
}

/** Declares a position variant: `p` in its functions is typed by its params schema. */
export const defineVariant: <S extends VariantSchema>(params: S, impl: Omit<PositionVariant<z.output<S>>, 'params'>) => PositionVariant<z.output<S>> = defineAnyVariant;

/** Plain RoPE: inv_i = base^(−2i/D), i = 0..D/2−1. */
export function ropeInv(base: number, D: number): Float64Array {
  const inv = new Float64Array(D / 2);
  for (let i = 0; i < D / 2; i++) inv[i] = Math.pow(base, (-2 * i) / D);
  return inv;
}

export const plainPlan = (inv: Float64Array, extra: Partial<RotaryPlan> = {}): RotaryPlan => ({ inv, attentionFactor: 1, ...extra });

/** The positions of k's T tokens: the `positions` input, else offset..offset+T−1. */
export function positionsOf(T: number, offset: number, given?: Int32Array): Int32Array {
  if (given) {
    if (given.length !== T) throw new ShapeError('positions', `"positions" has ${given.length} entries but k has Tk = ${T}`);
    return given;
  }
  const pos = new Int32Array(T);
  for (let t = 0; t < T; t++) pos[t] = offset + t;
  return pos;
}

/** L = max position + 1: the sequence length that dynamic NTK and LongRoPE switch on. */
export function lengthOf(positions: Int32Array): number {
  let max = -1;
  for (const p of positions) if (p > max) max = p;
  return max + 1;
}
