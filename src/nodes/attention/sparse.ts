// Block-sparse attention shared by the sparse variants (sliding window, Longformer, BigBird): a
// pattern names, for a block of query rows, the key ranges any of them may see; the kernel runs
// FlashAttention's online softmax over only those keys, tile by tile, with a per-tile mask that
// combines the pattern, causality and the structured bias. Nothing of size T×T is built.
import type * as tfc from '@tensorflow/tfjs-core';
import { headBias, type HeadBias } from '../common/bias.js';
import type { RunContext } from '../../engine/node.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import type { BiasValue } from '../../engine/values.js';
import { forEachHead, groupOf, headView, scaleOf, uploadGroup, type AttentionInputs } from './common.js';
import type { AttentionShape } from './reference.js';

/** Which keys each query sees, in absolute positions (query row r sits at Tk − Tq + r). */
export interface SparsePattern {
  /**
   * Key ranges [start, end) that some row in [i0, i1) may see, in any order (callers merge and clip
   * them): a superset of the pattern, since the mask is exact. Causality is applied by the caller.
   */
  keyRanges(h: number, i0: number, i1: number): [number, number][];
  /** ln of how many times query i sees key j: 0 once, −∞ never (LongNet's pairs can see twice). */
  logWeight(h: number, i: number, j: number): number;
  /**
   * Optional shortcut: true when every row in [i0, i1) sees every listed column once (ignoring
   * causality), so a kernel can skip building that tile's mask. False is always safe.
   */
  fullyVisible?(h: number, i0: number, i1: number, cols: Int32Array): boolean;
}

export const densePattern = (Tk: number): SparsePattern => ({ keyRanges: () => [[0, Tk]], logWeight: () => 0, fullyVisible: () => true });

/** Whether a tile needs no mask at all: no bias terms, fully visible, and causally complete. */
export function unmaskedTile(pattern: SparsePattern, hasBias: boolean, causal: boolean, h: number, i0: number, rows: number, cols: Int32Array): boolean {
  return !hasBias && (!causal || cols[cols.length - 1]! <= i0) && (pattern.fullyVisible?.(h, i0, i0 + rows, cols) ?? false);
}

/** Sorts and merges ranges, clipped to [lo, hi). */
export function mergeRanges(ranges: [number, number][], lo: number, hi: number): [number, number][] {
  const rs = ranges
    .map(([a, b]) => [Math.max(a, lo), Math.min(b, hi)] as [number, number])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const r of rs) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/**
 * Fills a rows × cols tile (row-major) with bias + ln(pattern weight), −∞ where masked; rows are
 * i0..i0+rows−1, columns the listed key positions. Returns false when every entry is masked.
 */
export function fillPatternTile(
  hb: HeadBias,
  causal: boolean,
  pattern: SparsePattern,
  h: number,
  i0: number,
  rows: number,
  cols: Int32Array,
  out: Float32Array,
): boolean {
  let any = false;
  const n = cols.length;
  for (let r = 0; r < rows; r++) {
    const i = i0 + r;
    for (let c = 0; c < n; c++) {
      const j = cols[c]!;
      let w = -Infinity;
      if ((!causal || j <= i) && hb.allowed(i, j)) {
        const lw = pattern.logWeight(h, i, j);
        if (lw !== -Infinity) w = lw + hb.add(i, j);
      }
      out[r * n + c] = w;
      any ||= w !== -Infinity;
    }
  }
  return any;
}

/** Query blocks aligned to absolute multiples of `B`, so block patterns (BigBird) line up. */
export function* queryBlocks(s: AttentionShape, B: number): Generator<{ r0: number; rows: number; i0: number }> {
  const off = s.Tk - s.Tq;
  for (let i0 = off; i0 < s.Tk; ) {
    const i1 = Math.min(s.Tk, (Math.floor(i0 / B) + 1) * B);
    yield { r0: i0 - off, rows: i1 - i0, i0 };
    i0 = i1;
  }
}

/** The key columns a query block visits, split into chunks of at most `maxCols`. */
export function keyChunks(pattern: SparsePattern, h: number, i0: number, i1: number, causal: boolean, Tk: number, maxCols: number): Int32Array[] {
  const ranges = mergeRanges(pattern.keyRanges(h, i0, i1), 0, causal ? Math.min(Tk, i1) : Tk);
  const total = ranges.reduce((n, [a, b]) => n + b - a, 0);
  const cols = new Int32Array(total);
  let n = 0;
  for (const [a, b] of ranges) for (let j = a; j < b; j++) cols[n++] = j;
  const chunks: Int32Array[] = [];
  for (let c = 0; c < total; c += maxCols) chunks.push(cols.subarray(c, Math.min(total, c + maxCols)));
  return chunks;
}

/** Key/value rows for a chunk: a slice when the columns are contiguous, else a gather. */
export function takeRows(tf: RunContext['tf'], x: tfc.Tensor2D, cols: Int32Array): tfc.Tensor2D {
  const n = cols.length;
  if (cols[n - 1]! - cols[0]! + 1 === n) return tf.slice(x, [cols[0]!, 0], [n, x.shape[1]]);
  return tf.gather(x, tf.tensor1d(cols, 'int32')) as tfc.Tensor2D;
}

/** Executed score entries (rows × visited columns) of the block-sparse kernel, for `cost`. */
function sparsePairs(s: AttentionShape, pattern: SparsePattern, causal: boolean, B: number, heads = s.H): number {
  let pairs = 0;
  for (let h = 0; h < heads; h++)
    for (const { rows, i0 } of queryBlocks(s, B)) {
      const ranges = mergeRanges(pattern.keyRanges(h, i0, i0 + rows), 0, causal ? Math.min(s.Tk, i0 + rows) : s.Tk);
      pairs += rows * ranges.reduce((n, [a, b]) => n + b - a, 0);
    }
  return pairs;
}

export interface SparseOptions {
  /** Query rows per block. */
  queryBlock: number;
  /** Key columns per tile. */
  keyChunk: number;
}

/** Online-softmax attention over the pattern's keys; exact for the masked formula. */
export async function blockSparseAttention(
  ctx: RunContext,
  { q, k, v, bias }: AttentionInputs,
  p: { causal: boolean; scale?: number },
  s: AttentionShape,
  pattern: SparsePattern,
  opts: SparseOptions,
): Promise<Tensor> {
  const { tf } = ctx;
  const scale = scaleOf(p, s.D);
  const out = new Float32Array(s.H * s.Tq * s.Dv);
  const tileBuf = new Float32Array(opts.queryBlock * opts.keyChunk);
  ctx.track(tileBuf.byteLength);
  const blocks = [...queryBlocks(s, opts.queryBlock)];
  const hasBias = (bias?.terms.length ?? 0) > 0;
  try {
    await forEachHead(tf, s, (g) => uploadGroup(tf, k, v, g, s), async (h, { k: kh, v: vh }) => {
      const hb = headBias(bias, h);
      const qh = tf.tidy(() => tf.mul(tf.tensor2d(headView(q, h), [s.Tq, s.D]), scale) as tfc.Tensor2D);
      const parts: tfc.Tensor[] = [];
      for (const { r0, rows, i0 } of blocks) {
        const qt = tf.slice(qh, [r0, 0], [rows, s.D]);
        let m: tfc.Tensor = tf.fill([rows, 1], -1e30);
        let l: tfc.Tensor = tf.zeros([rows, 1]);
        let acc: tfc.Tensor = tf.zeros([rows, s.Dv]);
        for (const cols of keyChunks(pattern, h, i0, i0 + rows, p.causal, s.Tk, opts.keyChunk)) {
          ctx.checkCancelled();
          const view = tileBuf.subarray(0, rows * cols.length);
          const plain = unmaskedTile(pattern, hasBias, p.causal, h, i0, rows, cols);
          if (!plain && !fillPatternTile(hb, p.causal, pattern, h, i0, rows, cols, view)) continue;
          const next = tf.tidy(() => {
            let sc: tfc.Tensor = tf.matMul(qt, takeRows(tf, kh, cols), false, true);
            if (!plain) sc = tf.add(sc, tf.tensor2d(view, [rows, cols.length]));
            const mNew = tf.maximum(m, tf.max(sc, 1, true));
            const pr = tf.exp(tf.sub(sc, mNew));
            const corr = tf.exp(tf.sub(m, mNew));
            return [mNew, tf.add(tf.mul(l, corr), tf.sum(pr, 1, true)), tf.add(tf.mul(acc, corr), tf.matMul(pr, takeRows(tf, vh, cols)))];
          });
          tf.dispose([m, l, acc]);
          [m, l, acc] = next as [tfc.Tensor, tfc.Tensor, tfc.Tensor];
        }
        parts.push(tf.tidy(() => tf.divNoNan(acc, l)));
        tf.dispose([m, l, acc, qt]);
      }
      // One download per head (a sync point on WebGPU).
      const o = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
      out.set((await o.data()) as Float32Array, h * s.Tq * s.Dv);
      tf.dispose([o, ...parts]);
      qh.dispose();
      ctx.progress((h + 1) / s.H);
    });
  } finally {
    ctx.release(tileBuf.byteLength);
  }
  return f32([s.H, s.Tq, s.Dv], out, ['H', 'T', 'D']);
}

/**
 * Scores of query row r of head h (group g) against every key, in float64:
 * q·k·scale + bias + ln w(i, j), or −∞ where the pattern, the bias or causality masks the pair.
 * Returns the row's max and how many keys it sees.
 */
export function patternRowScores(
  q: Tensor, k: Tensor, s: AttentionShape, h: number, g: number, r: number, scale: number,
  hb: ReturnType<typeof headBias>, pattern: SparsePattern, causal: boolean, out: Float64Array,
): { max: number; visible: number } {
  const { Tq, Tk, D } = s;
  const i = Tk - Tq + r;
  let max = -Infinity;
  let visible = 0;
  for (let j = 0; j < Tk; j++) {
    const lw = (causal && j > i) || !hb.allowed(i, j) ? -Infinity : pattern.logWeight(h, i, j);
    if (lw === -Infinity) {
      out[j] = -Infinity;
      continue;
    }
    let dot = 0;
    for (let d = 0; d < D; d++) dot += q.data[(h * Tq + r) * D + d]! * k.data[(g * Tk + j) * D + d]!;
    out[j] = dot * scale + hb.add(i, j) + lw;
    max = Math.max(max, out[j]!);
    visible++;
  }
  return { max, visible };
}

/**
 * The dense formula of a pattern, in float64 loops: softmax over every key of
 * q·k·scale + bias + ln w(i, j) (w = 0: masked), i.e. naive attention with the pattern's mask.
 */
export function patternReference(
  { q, k, v, bias }: { q: Tensor; k: Tensor; v: Tensor; bias?: BiasValue },
  p: { causal: boolean; scale?: number },
  s: AttentionShape,
  pattern: SparsePattern,
): Tensor {
  const { H, Tq, Tk, D, Dv } = s;
  const scale = scaleOf(p, D);
  const out = new Float32Array(H * Tq * Dv);
  const w = new Float64Array(Tk);
  for (let h = 0; h < H; h++) {
    const g = groupOf(h, s);
    const hb = headBias(bias, h);
    for (let r = 0; r < Tq; r++) {
      const { max } = patternRowScores(q, k, s, h, g, r, scale, hb, pattern, p.causal, w);
      let sum = 0;
      for (let j = 0; j < Tk; j++) sum += w[j] = w[j] === -Infinity ? 0 : Math.exp(w[j]! - max);
      for (let d = 0; d < Dv; d++) {
        let acc = 0;
        for (let j = 0; j < Tk; j++) if (w[j]) acc += w[j]! * v.data[(g * Tk + j) * Dv + d]!;
        out[(h * Tq + r) * Dv + d] = sum > 0 ? acc / sum : 0;
      }
    }
  }
  return f32([H, Tq, Dv], out, ['H', 'T', 'D']);
}

/**
 * Cost of the block-sparse kernel: the score entries it actually computes (query blocks × visited
 * key columns), 2·(D + Dv) flops each. `sameForAllHeads` counts one head and multiplies.
 */
export function sparseCost(s: AttentionShape, pattern: SparsePattern, causal: boolean, opts: SparseOptions, sameForAllHeads: boolean) {
  const pairs = sameForAllHeads ? s.H * sparsePairs(s, pattern, causal, opts.queryBlock, 1) : sparsePairs(s, pattern, causal, opts.queryBlock);
  const perRow = s.Tq > 0 ? pairs / (s.H * s.Tq) : 0;
  return {
    flops: 2 * pairs * (s.D + s.Dv),
    // Score tile, its mask and exponentials; the running (m, ℓ, O) of a block; one head's q, k, v.
    workspaceBytes: 3 * opts.queryBlock * opts.keyChunk * 4 + opts.queryBlock * (s.Dv + 2) * 8 + (s.Tq * s.D + s.Tk * (s.D + s.Dv)) * 4,
    bytesMoved: 4 * (s.H * s.Tq * (s.D + s.Dv) + pairs * (s.D + s.Dv) / opts.queryBlock),
    note: `≈${Math.round(perRow)} keys per query in ${opts.queryBlock}×${opts.keyChunk} tiles`,
  };
}
