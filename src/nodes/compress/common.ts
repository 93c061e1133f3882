// What the compressor variants share: the scorer param, the variant interface, and turning a keep
// mask into the node's outputs.
import { z } from 'zod';
import type { RunContext, VariantDoc } from '../../engine/node.js';
import { defineVariant as defineAnyVariant, type VariantSchema } from '../../engine/variants.js';
import { tensor, type Tensor } from '../../engine/tensor.js';
import { metrics, type MetricValue, type MetricsValue, type TokensValue } from '../../engine/values.js';
import { CORPUS } from './corpus.js';
import type { ScoringLM } from './lm.js';

export const commonParams = {
  lm: z
    .string()
    .min(1)
    .default('ngram')
    .describe(
      `scoring LM, by registered name: "ngram" = interpolated Kneser–Ney trigram trained on ${CORPUS.title} ` +
        `(${CORPUS.package}; ${CORPUS.licence}) mixed with a cache model of the prompt itself; ` +
        '"ngram-static" = the same without the cache',
    ),
};

export interface CompressResult {
  /** 1 = keep the token, 0 = drop it. */
  keep: Uint8Array;
  /** Variant-specific figures added to the metrics output. */
  extra: Record<string, MetricValue>;
}

/** One compression technique. Host-side bookkeeping over LM scores: run() is plain TypeScript. */
export interface CompressVariant<P = { variant: string; lm: string } & Record<string, unknown>> {
  params: VariantSchema;
  doc: VariantDoc;
  compress(ctx: Pick<RunContext, 'checkCancelled' | 'progress'> | undefined, tokens: TokensValue, lm: ScoringLM, p: P): CompressResult;
}

/** Declares a compression technique: `p` in its functions is typed by its params schema. */
export const defineVariant: <S extends VariantSchema>(params: S, impl: Omit<CompressVariant<z.output<S>>, 'params'>) => CompressVariant<z.output<S>> = defineAnyVariant;

export interface CompressOutputs {
  tokens: TokensValue;
  kept: Tensor;
  metrics: MetricsValue;
}

/**
 * The kept tokens as a new tokens value: its text is the kept tokens' spans concatenated (the
 * compressed prompt) and its offsets point into that text.
 */
export function compressOutputs(tokens: TokensValue, r: CompressResult): CompressOutputs {
  const T = tokens.ids.length;
  let n = 0;
  for (let t = 0; t < T; t++) n += r.keep[t] ? 1 : 0;
  const ids = new Int32Array(n);
  const offsets = new Int32Array(2 * n);
  const parts: string[] = [];
  let j = 0;
  let pos = 0;
  for (let t = 0; t < T; t++) {
    if (!r.keep[t]) continue;
    const piece = tokens.text.slice(tokens.offsets[2 * t], tokens.offsets[2 * t + 1]);
    ids[j] = tokens.ids[t]!;
    offsets[2 * j] = pos;
    pos += piece.length;
    offsets[2 * j + 1] = pos;
    parts.push(piece);
    j++;
  }
  return {
    tokens: { kind: 'tokens', ids, offsets, text: parts.join(''), encoding: tokens.encoding },
    kept: tensor('uint8', [T], r.keep, ['T']),
    metrics: metrics({ inputTokens: T, outputTokens: n, ratio: T ? n / T : 1, ...survival(tokens, r.keep), ...r.extra }),
  };
}

/**
 * Whether the facts survive: numbers ("4.2", "2024") and named entities (runs of capitalised words
 * not at a sentence start: "Tampere", "City Council"; a heuristic) of the input text, and how many
 * of them are kept whole (every character inside a kept token).
 */
export function survival(tokens: TokensValue, keep: Uint8Array): Record<string, MetricValue> {
  const kept = new Uint8Array(tokens.text.length);
  for (let t = 0; t < keep.length; t++) if (keep[t]) kept.fill(1, tokens.offsets[2 * t], tokens.offsets[2 * t + 1]);
  const whole = (a: number, e: number) => kept.subarray(a, e).every((k) => k === 1);
  const count = (spans: [number, number][]) => [spans.length, spans.filter(([a, e]) => whole(a, e)).length] as const;
  const numbers: [number, number][] = [...tokens.text.matchAll(/\d+(?:[.,]\d+)*/g)].map((m) => [m.index, m.index + m[0].length]);
  const entities: [number, number][] = [...tokens.text.matchAll(/\b[A-Z][\p{L}-]+(?:\s+[A-Z][\p{L}-]+)*/gu)]
    .filter((m) => !/(^|[.!?:]\s*|\n\s*)$/.test(tokens.text.slice(Math.max(0, m.index - 3), m.index)))
    .map((m) => [m.index, m.index + m[0].length]);
  const [nNum, nNumKept] = count(numbers);
  const [nEnt, nEntKept] = count(entities);
  // Fractions to set against `ratio` (null when the text has none): facts kept more often than tokens?
  return {
    numbers: nNum, numbersKept: nNumKept, numbersSurvived: nNum ? nNumKept / nNum : null,
    entities: nEnt, entitiesKept: nEntKept, entitiesSurvived: nEnt ? nEntKept / nEnt : null,
  };
}

/** numpy's default percentile (linear interpolation between closest ranks), q in [0, 100]. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const v = Float64Array.from(values).sort();
  if (v.length === 0) return Number.NaN;
  const pos = (q / 100) * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, v.length - 1);
  return v[lo]! + (pos - lo) * (v[hi]! - v[lo]!);
}

/**
 * Splits `total` into integer parts proportional to `weights` (largest remainder; ties go to the
 * earlier part), each part at most its weight when the weights are capacities.
 */
export function allocate(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    out[i]!++;
    left--;
  }
  return out;
}

/** Indices of the k largest scores (ties: the earlier index wins), in ascending index order. */
export function topK(scores: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return idx.slice(0, Math.max(0, k)).sort((a, b) => a - b);
}
