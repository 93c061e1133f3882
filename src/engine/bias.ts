// Evaluation of structured attention biases, shared by every attention kernel and its reference.
import type { BiasTerm, BiasValue } from './values.js';

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
  const terms: BiasTerm[] = bias?.terms ?? [];
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
