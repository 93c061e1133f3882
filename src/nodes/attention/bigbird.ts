// BigBird block-sparse attention: the sequence is cut into blocks of `blockSize`; each query block
// sees its `windowBlocks` neighbouring blocks, the global blocks (which also see everything), and
// `randomBlocks` blocks drawn per head and query block from a seeded generator. Work:
// O(T·(windowBlocks + globalBlocks + randomBlocks)·blockSize·D) plus the global rows.
import { z } from 'zod';
import { rng } from '../common/random.js';
import { commonParams, type AttentionVariant, defineVariant } from './common.js';
import type { AttentionShape } from './reference.js';
import { runFused } from './fused.js';
import { blockSparseAttention, mergeRanges, patternReference, queryBlocks, sparseCost, type SparsePattern } from './sparse.js';

type P = z.output<typeof params>;

/**
 * Key blocks of each query block. Global blocks: the first ⌈g/2⌉ and the last ⌊g/2⌋ (BigBird-ITC's
 * first and last block for g = 2). Random blocks avoid the window and the global blocks (and, when
 * causal, later blocks, which the mask would hide), drawn without replacement per (head, block).
 */
export function bigbirdBlocks(p: Omit<P, 'variant' | 'scale'>, Tk: number) {
  const b = p.blockSize;
  const nb = Math.max(1, Math.ceil(Tk / b));
  const half = (p.windowBlocks - 1) / 2;
  const isGlobal = (J: number) => J < Math.ceil(p.globalBlocks / 2) || J >= nb - Math.floor(p.globalBlocks / 2);
  const memo = new Map<number, Int32Array | null>();
  /** Sorted key blocks of query block I for head h; null: every block. */
  function keysOf(h: number, I: number): Int32Array | null {
    const key = h * nb + I;
    if (memo.has(key)) return memo.get(key)!;
    let list: Int32Array | null = null;
    if (!isGlobal(I)) {
      const fixed = new Set<number>();
      for (let J = Math.max(0, I - half); J <= Math.min(nb - 1, I + half); J++) fixed.add(J);
      const cand: number[] = [];
      for (let J = 0; J < nb; J++) {
        if (isGlobal(J)) fixed.add(J);
        else if (!fixed.has(J) && Math.abs(J - I) > half && (!p.causal || J < I)) cand.push(J);
      }
      const u = rng(p.seed, h, I);
      const take = Math.min(p.randomBlocks, cand.length);
      for (let t = 0; t < take; t++) {
        const pick = t + Math.floor(u() * (cand.length - t));
        [cand[t], cand[pick]] = [cand[pick]!, cand[t]!];
        fixed.add(cand[t]!);
      }
      list = Int32Array.from([...fixed].sort((x, y) => x - y));
    }
    memo.set(key, list);
    return list;
  }
  return { nb, isGlobal, keysOf };
}

export function bigbirdPattern(p: Omit<P, 'variant' | 'scale'>, Tk: number): SparsePattern {
  const b = p.blockSize;
  const { keysOf } = bigbirdBlocks(p, Tk);
  return {
    keyRanges(h, i0, i1) {
      const ranges: [number, number][] = [];
      for (let I = Math.floor(i0 / b); I <= Math.floor((i1 - 1) / b); I++) {
        const list = keysOf(h, I);
        if (!list) return [[0, Tk]];
        for (const J of list) ranges.push([J * b, (J + 1) * b]);
      }
      return mergeRanges(ranges, 0, Tk);
    },
    logWeight(h, i, j) {
      const list = keysOf(h, Math.floor(i / b));
      return !list || list.includes(Math.floor(j / b)) ? 0 : -Infinity;
    },
    // Rows of one block see every column its key ranges list.
    fullyVisible: (_h, i0, i1) => Math.floor(i0 / b) === Math.floor((i1 - 1) / b),
  };
}

const opts = (p: P) => ({ queryBlock: p.blockSize, keyChunk: Math.max(p.blockSize, 256) });

/**
 * wasm: the fused kernel with BigBird's blocks as its tiles (each query block lists its key blocks).
 * Its tiles hold a multiple of 8 keys, at most 256: other block sizes run the tfjs composition.
 */
function runOnKernel(...[ctx, ins, p, s]: Parameters<AttentionVariant<P>['run']>) {
  const b = p.blockSize;
  if (b % 8 !== 0 || b > 256) return Promise.resolve(undefined);
  const { nb, keysOf } = bigbirdBlocks(p, s.Tk);
  const every = Array.from({ length: nb }, (_, J) => J);
  const tilesOf = (h: number, r0: number) => keysOf(h, Math.floor((s.Tk - s.Tq + r0) / b)) ?? every;
  return runFused(ctx, ins, p, s, { blockQ: b, blockK: b, queryBlocks: [...queryBlocks(s, b)], tilesOf });
}

const params = z
  .object({
    variant: z.literal('bigbird'),
    ...commonParams,
    blockSize: z.number().int().min(1).max(4096).default(64).describe('tokens per block'),
    windowBlocks: z.number().int().min(1).max(255).default(3).describe('neighbouring blocks each query block sees, itself included (odd)'),
    globalBlocks: z.number().int().min(0).max(255).default(2).describe('global blocks: the first ⌈g/2⌉ and the last ⌊g/2⌋'),
    randomBlocks: z.number().int().min(0).max(255).default(3).describe('random key blocks per query block and head'),
    seed: z.number().int().default(0).describe('seed of the random blocks'),
  })
  .refine((p) => p.windowBlocks % 2 === 1, { message: 'windowBlocks must be odd (the block and (w−1)/2 on each side)', path: ['windowBlocks'] });

export const bigbird = defineVariant(params, {
  doc: {
    title: 'BigBird (block-sparse: window + global + random)',
    summary: 'Block-sparse attention: each query block sees neighbouring blocks, global blocks and a few random blocks; global blocks see everything.',
    formula: 'softmax over keys in blocks J ∈ window(I) ∪ global ∪ random(h, I) (all J when I is global), of q_i·k_j·scale + bias',
    references: [{ title: 'Big Bird: Transformers for Longer Sequences', year: 2020 }],
  },
  cost: (s: AttentionShape, p) => sparseCost(s, bigbirdPattern(p, s.Tk), p.causal, opts(p), p.randomBlocks === 0),
  run: async (ctx, ins, p, s) => (await runOnKernel(ctx, ins, p, s)) ?? blockSparseAttention(ctx, ins, p, s, bigbirdPattern(p, s.Tk), opts(p)),
  reference: (ins, p, s) => patternReference(ins, p, s, bigbirdPattern(p, s.Tk)),
  probe: (p, s) => ({ activation: 'softmax', pattern: bigbirdPattern(p, s.Tk) }),
});
