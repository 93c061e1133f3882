// PagedAttention (vLLM): exact attention that reads K/V through a sequence's block table instead of
// one contiguous buffer. Keys and values sit in blocks [numBlocks, Hkv, blockSize, D]; logical block
// i of the sequence is physical block table[i], and the last block is filled only up to the
// sequence length. The kernel gathers whole blocks through the table, a tile of ⌈256/blockSize⌉
// blocks at a time, and merges the tiles with an online softmax (as vLLM merges partitions), so it
// equals softmax(Q·Kᵀ·scale + bias + mask)·V over the contiguous kept K/V. Causality and bias use
// positions inside the cache (0..len−1), with the queries as its last rows.
// The `attention` node lists this variant; with its `cache` input connected the K/V come from the
// cache's blocks (k and v are then only used for shapes), without it k/v are paged here.
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { fillBiasTile, headBias } from '../common/bias.js';
import { ShapeError } from '../../engine/node.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { commonParams, exactFlops, headView, scaleOf, type AttentionInputs, type AttentionVariant } from './common.js';
import { fusedAvailable, runFused } from './fused.js';
import { naiveAttentionReference } from './reference.js';

const params = z.object({
  variant: z.literal('paged'),
  ...commonParams,
  blockSize: z.number().int().min(1).max(128).default(16).describe('tokens per block when k/v are paged here (no cache connected)'),
  sequence: z.number().int().min(0).default(0).describe('which sequence of the cache to read (its block table)'),
});
type P = z.infer<typeof params>;

/** Keys gathered per tile. */
const TILE_KEYS = 256;

/** One sequence's view of paged K/V. */
interface PagedSource {
  blockSize: number;
  keyBlocks: Tensor;
  valueBlocks: Tensor;
  table: number[];
  len: number;
}

/** The K/V blocks to read: the cache's (one sequence of it), or k/v laid out in blocks here. */
export function pagedSource({ q, k, v, cache }: AttentionInputs, p: Pick<P, 'blockSize' | 'sequence'>): PagedSource {
  if (cache) {
    const pg = cache.paged;
    if (!pg) throw new ShapeError('cache', 'paged attention reads K/V through a block table, and this cache has none: use the kv-cache variant "paged"');
    const table = pg.blockTables[p.sequence];
    if (!table) throw new ShapeError('cache', `sequence ${p.sequence} is out of range: the cache holds ${pg.blockTables.length} sequence(s)`);
    const len = pg.lengths[p.sequence]!;
    const [N, Hkv, B, D] = pg.keyBlocks.shape as [number, number, number, number];
    const H = q.shape.at(-3)!;
    if (B !== pg.blockSize) throw new ShapeError('cache', `keyBlocks hold ${B} tokens per block but blockSize is ${pg.blockSize}`);
    if (table.length * B < len) throw new ShapeError('cache', `the block table of sequence ${p.sequence} covers ${table.length * B} tokens, fewer than its length ${len}`);
    if (table.some((b) => b < 0 || b >= N)) throw new ShapeError('cache', `the block table of sequence ${p.sequence} names a block outside 0..${N - 1}`);
    if (D !== q.shape.at(-1)) throw new ShapeError('cache', `the cache's head dim ${D} does not match q's ${q.shape.at(-1)}`);
    if (H % Hkv !== 0) throw new ShapeError('cache', `grouped-query attention: the cache's ${Hkv} kv heads must divide q's ${H} heads`);
    return { blockSize: B, keyBlocks: pg.keyBlocks, valueBlocks: pg.valueBlocks, table, len };
  }
  const B = p.blockSize;
  const [, T] = k.shape.slice(-3) as [number, number, number];
  const n = Math.ceil(T / B);
  return { blockSize: B, keyBlocks: toBlocks(k, B), valueBlocks: toBlocks(v, B), table: Array.from({ length: n }, (_, i) => i), len: T };
}

/** [Hkv, T, D] → [⌈T/B⌉, Hkv, B, D], block i holding tokens iB..iB+B−1 (zeros past T). */
function toBlocks(t: Tensor, B: number): Tensor {
  const [Hkv, T, D] = t.shape.slice(-3) as [number, number, number];
  const n = Math.ceil(T / B);
  const out = new Float32Array(n * Hkv * B * D);
  for (let h = 0; h < Hkv; h++)
    for (let tok = 0; tok < T; tok++)
      out.set((t.data as Float32Array).subarray((h * T + tok) * D, (h * T + tok + 1) * D), ((Math.floor(tok / B) * Hkv + h) * B + (tok % B)) * D);
  return f32([n, Hkv, B, D], out, ['N', 'Hkv', 'B', 'D']);
}

/** Contiguous [Hkv, len, D] K or V read through the block table (plain loops): the reference's input. */
export function gatherContiguous(blocks: Tensor, table: number[], len: number): Tensor {
  const [, Hkv, B, D] = blocks.shape as [number, number, number, number];
  const out = new Float32Array(Hkv * len * D);
  for (let h = 0; h < Hkv; h++)
    for (let t = 0; t < len; t++) {
      const src = ((table[Math.floor(t / B)]! * Hkv + h) * B + (t % B)) * D;
      for (let d = 0; d < D; d++) out[(h * len + t) * D + d] = blocks.data[src + d]!;
    }
  return f32([Hkv, len, D], out, ['Hkv', 'T', 'D']);
}

/** gatherContiguous with a row copy per token (the fused kernel's input; same result). */
function gatherRows(blocks: Tensor, table: number[], len: number): Tensor {
  const [, Hkv, B, D] = blocks.shape as [number, number, number, number];
  const src = blocks.data as Float32Array;
  const out = new Float32Array(Hkv * len * D);
  for (let h = 0; h < Hkv; h++)
    for (let t = 0; t < len; t++) {
      const at = ((table[Math.floor(t / B)]! * Hkv + h) * B + (t % B)) * D;
      out.set(src.subarray(at, at + D), (h * len + t) * D);
    }
  return f32([Hkv, len, D], out, ['Hkv', 'T', 'D']);
}

export const paged: AttentionVariant<P> = {
  params,
  doc: {
    title: 'PagedAttention (block table)',
    summary:
      'Exact attention over K/V stored in fixed-size blocks, read through a sequence\'s block table (the kv-cache "paged" variant\'s `cache`); equals attention over the contiguous kept K/V.',
    formula: 'K_j = keyBlocks[table[⌊j/B⌋], :, j mod B]; O = softmax(Q·Kᵀ·scale + B + M)·V, merged tile by tile with an online softmax',
    references: [{ title: 'Efficient Memory Management for Large Language Model Serving with PagedAttention', year: 2023 }],
  },
  cost(s, p) {
    const w = Math.max(p.blockSize, Math.floor(TILE_KEYS / p.blockSize) * p.blockSize);
    return {
      flops: exactFlops(s, p.causal),
      // Score tile, its exponentials and mask; one gathered tile of K/V; the running (m, ℓ, O); one
      // kv head's blocks on the backend.
      workspaceBytes: 3 * s.Tq * w * 4 + w * (s.D + s.Dv) * 4 + s.Tq * (s.Dv + 2) * 4 * 2 + s.Tk * (s.D + s.Dv) * 4,
      bytesMoved: 4 * (2 * s.H * s.Tq * (s.D + s.Dv) + s.H * s.Tk * (s.D + s.Dv)),
      note: `tiles of ${w} keys gathered through the block table`,
    };
  },
  async run(ctx, ins, p, s) {
    const { tf } = ctx;
    if (fusedAvailable(ctx)) {
      // wasm: K/V gathered through the cache's block table once, a row at a time (O(len·D)), then
      // the fused kernel. Without a cache the table is the identity over k/v: they are read as they are.
      const c = ins.cache ? pagedSource(ins, p) : undefined;
      const [k, v] = c ? [gatherRows(c.keyBlocks, c.table, c.len), gatherRows(c.valueBlocks, c.table, c.len)] : [ins.k, ins.v];
      const [Hkv, Tk, D] = k.shape.slice(-3) as [number, number, number];
      return (await runFused(ctx, { q: ins.q, k, v, bias: ins.bias }, p, { ...s, Hkv, Tk, D, Dv: v.shape.at(-1)! }))!;
    }
    const src = pagedSource(ins, p);
    const { q, bias } = ins;
    const B = src.blockSize;
    const [N, Hkv, , D] = src.keyBlocks.shape as [number, number, number, number];
    const Dv = src.valueBlocks.shape[3]!;
    const { H, Tq } = s;
    const len = src.len;
    const scale = scaleOf(p, D);
    const offset = len - Tq;
    const perTile = Math.max(1, Math.floor(TILE_KEYS / B));
    const out = new Float32Array(H * Tq * Dv);
    const tileBuf = new Float32Array(Tq * perTile * B);
    ctx.track(tileBuf.byteLength);
    const kAll = tf.tensor4d(src.keyBlocks.data as Float32Array, [N, Hkv, B, D]);
    const vAll = tf.tensor4d(src.valueBlocks.data as Float32Array, [N, Hkv, B, Dv]);
    const tables: tfc.Tensor1D[] = [];
    for (let i0 = 0; i0 * B < len; i0 += perTile) tables.push(tf.tensor1d(src.table.slice(i0, i0 + perTile), 'int32'));
    let kg: tfc.Tensor3D | undefined;
    let vg: tfc.Tensor3D | undefined;
    let loaded = -1;
    try {
      for (let h = 0; h < H; h++) {
        const g = Math.floor(h / (H / Hkv));
        if (g !== loaded) {
          tf.dispose([kg!, vg!].filter(Boolean));
          // This kv head's blocks: [N, B, D].
          kg = tf.tidy(() => tf.reshape(tf.slice(kAll, [0, g, 0, 0], [N, 1, B, D]), [N, B, D]) as tfc.Tensor3D);
          vg = tf.tidy(() => tf.reshape(tf.slice(vAll, [0, g, 0, 0], [N, 1, B, Dv]), [N, B, Dv]) as tfc.Tensor3D);
          loaded = g;
        }
        const hb = headBias(bias, h);
        const hasBias = (bias?.terms.length ?? 0) > 0;
        const qh = tf.tidy(() => tf.mul(tf.tensor2d(headView(q, h), [Tq, D]), scale) as tfc.Tensor2D);
        let m: tfc.Tensor = tf.fill([Tq, 1], -1e30);
        let l: tfc.Tensor = tf.zeros([Tq, 1]);
        let acc: tfc.Tensor = tf.zeros([Tq, Dv]);
        for (let ti = 0; ti < tables.length; ti++) {
          ctx.checkCancelled();
          const c0 = ti * perTile * B;
          if (p.causal && c0 > offset + Tq - 1) break; // every key of this tile is in every query's future
          const cols = Math.min(perTile * B, len - c0);
          let mask: tfc.Tensor2D | undefined;
          if (hasBias || (p.causal && c0 + cols - 1 > offset)) {
            const view = tileBuf.subarray(0, Tq * cols);
            if (!fillBiasTile(hb, p.causal, offset, Tq, c0, cols, view)) continue;
            mask = tf.tensor2d(view, [Tq, cols]);
          }
          const next = tf.tidy(() => {
            const idx = tables[ti]!;
            const n = idx.shape[0];
            // Gather the tile's blocks through the table, then drop the unused tail of the last block.
            const kt = tf.slice(tf.reshape(tf.gather(kg!, idx), [n * B, D]), [0, 0], [cols, D]);
            const vt = tf.slice(tf.reshape(tf.gather(vg!, idx), [n * B, Dv]), [0, 0], [cols, Dv]);
            let sc: tfc.Tensor = tf.matMul(qh, kt, false, true);
            if (mask) sc = tf.add(sc, mask);
            const mNew = tf.maximum(m, tf.max(sc, 1, true));
            const pr = tf.exp(tf.sub(sc, mNew));
            const corr = tf.exp(tf.sub(m, mNew));
            return [mNew, tf.add(tf.mul(l, corr), tf.sum(pr, 1, true)), tf.add(tf.mul(acc, corr), tf.matMul(pr, vt))];
          });
          mask?.dispose();
          tf.dispose([m, l, acc]);
          [m, l, acc] = next as [tfc.Tensor, tfc.Tensor, tfc.Tensor];
        }
        const o = tf.tidy(() => tf.div(acc, tf.maximum(l, 1e-30)));
        out.set((await o.data()) as Float32Array, h * Tq * Dv);
        tf.dispose([o, m, l, acc, qh]);
        ctx.progress((h + 1) / H);
      }
    } finally {
      tf.dispose([kAll, vAll, ...tables, ...[kg!, vg!].filter(Boolean)]);
      ctx.release(tileBuf.byteLength);
    }
    return f32([H, Tq, Dv], out, ['H', 'T', 'D']);
  },
  reference(ins, p) {
    const src = pagedSource(ins, p);
    const k = gatherContiguous(src.keyBlocks, src.table, src.len);
    const v = gatherContiguous(src.valueBlocks, src.table, src.len);
    return naiveAttentionReference(ins.q, k, v, { causal: p.causal, scale: p.scale, bias: ins.bias });
  },
};
