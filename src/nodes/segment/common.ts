// What every window segmenter shares: the variant contract and the shape of its result. Segmenters
// are host-side bookkeeping (a position and a segment id per token, O(T)), so run() and the
// reference share the same plain-TS code.
import { z } from 'zod';
import type { VariantDoc } from '../../engine/node.js';
import { defineVariant as defineAnyVariant, type VariantSchema } from '../../engine/variants.js';
import type { MetricValue } from '../../engine/values.js';
import type { BiasTerm } from '../common/bias.js';

/** Upper bound for lengths and token counts in params (16M tokens). */
export const MAX_LEN = 1 << 24;

export const commonParams = {
  length: z
    .number().int().min(1).max(1 << 24).optional()
    .describe('T when neither `tokens` nor `like` is connected; must agree with them when one is'),
};

export interface SegmentParams {
  variant: string;
  length?: number;
}

export interface Segmentation {
  /** int32 position of each token, for `position.positions`. */
  positions: Int32Array;
  /** Structured mask (and rescaling) for `attention.bias`. */
  terms: BiasTerm[];
  /** Metadata: index ranges [start, end) of the windows, the task span, the largest position. */
  windows: Record<string, MetricValue>;
}

export interface SegmentVariant<P = SegmentParams & Record<string, unknown>> {
  params: VariantSchema;
  doc: VariantDoc;
  /** Checks params against T; throws naming the param. */
  check(p: P, T: number): void;
  segment(p: P, T: number): Segmentation;
}

/** Declares a segment variant: `p` in its functions is typed by its params schema. */
export const defineVariant: <S extends VariantSchema>(params: S, impl: Omit<SegmentVariant<z.output<S>>, 'params'>) => SegmentVariant<z.output<S>> = defineAnyVariant;

/** Consecutive ranges of the given lengths starting at `from`, as [start, end) pairs. */
export function ranges(lengths: number[], from = 0): [number, number][] {
  let s = from;
  return lengths.map((n) => [s, (s += n)] as [number, number]);
}

export const maxOf = (a: Int32Array) => a.reduce((m, x) => Math.max(m, x), -1);
