// Structured attention biases: the term types with technique meaning (ALiBi, StreamingLLM, windows,
// segments) and their evaluation, shared by every attention kernel and its reference. The engine
// carries terms as opaque data (BiasValue); only the node library gives them meaning.
import type { BiasTermData, BiasValue } from '../../engine/values.js';

export type BiasTerm =
  /** ALiBi: score(h, i, j) += −slopes[h]·(i − j). */
  | { type: 'alibi'; slopes: number[] }
  /** StreamingLLM: query i sees key j only if j < sinkTokens or 0 ≤ i − j < recentTokens. */
  | { type: 'streaming'; sinkTokens: number; recentTokens: number }
  /**
   * Segments: query i sees key j only if segment[i] === segment[j], or segment[i] is a task segment
   * (listed in `seeAll`), which sees every key. `crossLogit` is added to a task query's score on keys
   * outside task segments (Structured Prompting's rescaling uses −ln M).
   */
  | { type: 'segments'; segment: Int32Array; seeAll: number[]; crossLogit?: number }
  /**
   * Fixed windows of `windowSize` tokens starting every `windowSize − overlap` tokens (the last may be
   * shorter): query i sees key j only if some window holds both.
   */
  | { type: 'windows'; windowSize: number; overlap: number };

const TERM_TYPES: ReadonlySet<string> = new Set<BiasTerm['type']>(['alibi', 'streaming', 'segments', 'windows']);

/** The terms of a bias value, typed; throws on a term type no kernel knows (rather than ignoring its mask). */
export function biasTerms(bias: BiasValue | undefined): BiasTerm[] {
  const terms: BiasTermData[] = bias?.terms ?? [];
  for (const t of terms) if (!TERM_TYPES.has(t.type)) throw new Error(`bias: unknown term type "${t.type}" (known: ${[...TERM_TYPES].join(', ')})`);
  return terms as BiasTerm[];
}

/**
 * A compiled bias for one head: `allowed(i, j)` and `add(i, j)`, with i a query row and j a key
 * column in absolute positions. Kernels call these per tile; nothing of size T×T is built.
 */
export interface HeadBias {
  /** True when no term masks anything (lets kernels skip the per-element test). */
  unmasked: boolean;
  /** True when no term adds anything. */
  additiveFree: boolean;
  allowed(i: number, j: number): boolean;
  add(i: number, j: number): number;
}

export function headBias(bias: BiasValue | undefined, head: number): HeadBias {
  const terms = biasTerms(bias);
  const masks: ((i: number, j: number) => boolean)[] = [];
  const adds: ((i: number, j: number) => number)[] = [];
  for (const t of terms) {
    if (t.type === 'alibi') {
      const m = t.slopes[head % t.slopes.length]!;
      adds.push((i, j) => -m * (i - j));
    } else if (t.type === 'streaming') {
      const { sinkTokens, recentTokens } = t;
      // "Its last recentTokens keys": never a later key, even when attention is not causal.
      masks.push((i, j) => j < sinkTokens || (j <= i && i - j < recentTokens));
    } else if (t.type === 'windows') {
      const { windowSize, overlap } = t;
      const stride = windowSize - overlap;
      // Windows holding token x: from the first that still reaches it to the last that starts at or before it.
      const first = (x: number) => (x < windowSize ? 0 : Math.floor((x - windowSize) / stride) + 1);
      const last = (x: number) => Math.floor(x / stride);
      masks.push((i, j) => Math.max(first(i), first(j)) <= Math.min(last(i), last(j)));
    } else {
      const seg = t.segment;
      const seeAll = new Set(t.seeAll);
      masks.push((i, j) => seg[i] === seg[j] || seeAll.has(seg[i]!));
      const cross = t.crossLogit ?? 0;
      if (cross !== 0) adds.push((i, j) => (seeAll.has(seg[i]!) && !seeAll.has(seg[j]!) ? cross : 0));
    }
  }
  return {
    unmasked: masks.length === 0,
    additiveFree: adds.length === 0,
    allowed: masks.length === 0 ? () => true : (i, j) => masks.every((m) => m(i, j)),
    add: adds.length === 0 ? () => 0 : (i, j) => adds.reduce((s, a) => s + a(i, j), 0),
  };
}

/**
 * Fills `out` (rows × cols, row-major) with the additive bias for a tile, using −Infinity where the
 * bias or causality masks the pair. Returns false when the tile is entirely masked.
 */
export function fillBiasTile(
  hb: HeadBias,
  causal: boolean,
  row0: number,
  rows: number,
  col0: number,
  cols: number,
  out: Float32Array,
): boolean {
  let any = false;
  for (let r = 0; r < rows; r++) {
    const i = row0 + r;
    for (let c = 0; c < cols; c++) {
      const j = col0 + c;
      const ok = (!causal || j <= i) && hb.allowed(i, j);
      out[r * cols + c] = ok ? hb.add(i, j) : -Infinity;
      any ||= ok;
    }
  }
  return any;
}
