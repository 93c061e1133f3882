// Paged cache (vLLM): K/V live in fixed-size blocks of blockSize tokens, allocated on demand as
// tokens arrive; each sequence's block table maps its logical blocks to physical ones. The only
// waste is the unused slots of each sequence's last block (internal fragmentation). Several
// sequences with a common prompt prefix share the prefix's full blocks by reference count; a
// partly filled prefix block is copied per sequence (vLLM's copy-on-write), so only full blocks
// are shared. Every sequence holds the input K/V — they differ only in which blocks hold them.
import { z } from 'zod';
import { f32 } from '../../engine/tensor.js';
import { bytesPerToken, commonParams, copyCost, range, schedule, StepRecorder, defineVariant } from './common.js';

const params = z
  .object({
    variant: z.literal('paged'),
    ...commonParams,
    blockSize: z.number().int().min(1).max(128).default(16).describe('tokens per block (vLLM block_size; 16 is typical)'),
    sequences: z.number().int().min(1).max(256).default(1).describe('sequences served together, each holding the input K/V'),
    sharedPrefixTokens: z.number().int().min(0).default(0).describe('leading prompt tokens common to every sequence; their full blocks are shared'),
  })
  .refine((p) => p.sharedPrefixTokens <= p.prefillTokens, {
    message: 'sharedPrefixTokens must not exceed prefillTokens: the shared prefix is part of the prompt',
    path: ['sharedPrefixTokens'],
  });
type P = z.infer<typeof params>;

/** Physical blocks after T tokens: the shared full prefix blocks once, the rest per sequence. */
export function pagedBlocks(T: number, p: Pick<P, 'blockSize' | 'sequences' | 'sharedPrefixTokens'>) {
  const perSeq = Math.ceil(T / p.blockSize);
  const shared = p.sequences > 1 ? Math.floor(Math.min(p.sharedPrefixTokens, T) / p.blockSize) : 0;
  return { perSeq, shared, blocks: shared + p.sequences * (perSeq - shared) };
}

export const paged = defineVariant(params, {
  doc: {
    title: 'Paged (vLLM block table)',
    summary:
      'vLLM semantics: blocks of blockSize tokens (1..128, 16 typical) allocated on demand and mapped by a per-sequence block table; internal fragmentation is the unused slots of each sequence\'s last block; sequences share the full blocks of a common prefix by reference count (a partly filled prefix block is copied on write).',
    formula:
      'blocks = ⌊prefix/B⌋ + S·(⌈T/B⌉ − ⌊prefix/B⌋); bytes = blocks·B·Hkv·(D + Dv)·4; fragmentation = unused slots / (blocks·B)',
    references: [{ title: 'Efficient Memory Management for Large Language Model Serving with PagedAttention', year: 2023 }],
  },
  kept: (T) => T,
  cost(s, p) {
    const { blocks } = pagedBlocks(s.T, p);
    return copyCost(s, s.T * p.sequences, blocks * p.blockSize * bytesPerToken(s), `${blocks} blocks of ${p.blockSize} tokens`);
  },
  simulate({ k, v }, p, s, cancel) {
    const B = p.blockSize;
    const S = p.sequences;
    const { shared } = pagedBlocks(s.T, p);
    const blockBytes = B * bytesPerToken(s);
    const tables: number[][] = Array.from({ length: S }, () => []);
    const refCount: number[] = [];
    const steps = schedule(s.T, p.prefillTokens);
    const rec = new StepRecorder(steps.length);
    for (const [from, to] of steps) {
      cancel();
      // Each sequence asks for the blocks its new tokens need; prefix blocks come from sequence 0.
      for (let seq = 0; seq < S; seq++)
        for (let i = Math.floor(from / B); i * B < to; i++) {
          if (i < tables[seq]!.length) continue;
          const block = seq > 0 && i < shared ? tables[0]![i]! : refCount.length;
          if (block === refCount.length) refCount.push(0);
          refCount[block]!++;
          tables[seq]!.push(block);
        }
      rec.record(to, refCount.length * blockBytes, () => [0, to]);
    }
    const blocks = refCount.length;
    const used = shared * B + S * (s.T - shared * B);
    const keyBlocks = fillBlocks(k.data as Float32Array, tables, blocks, B, s.Hkv, s.T, s.D);
    const valueBlocks = fillBlocks(v.data as Float32Array, tables, blocks, B, s.Hkv, s.T, s.Dv);
    const bytesWithoutSharing = S * Math.ceil(s.T / B) * blockBytes;
    const finalBytes = blocks * blockBytes;
    return {
      positions: range(0, s.T),
      paged: { blockSize: B, keyBlocks, valueBlocks, blockTables: tables, lengths: tables.map(() => s.T) },
      metrics: {
        ...rec.metrics({ s, tokensKept: s.T, blocks, fragmentation: blocks ? (blocks * B - used) / (blocks * B) : 0, sequences: S }),
        blockSize: B,
        sequences: S,
        sharedBlocks: shared,
        maxRefCount: refCount.reduce((a, b) => Math.max(a, b), 0),
        wastedBytes: (blocks * B - used) * bytesPerToken(s),
        bytesWithoutSharing,
        savedBytes: bytesWithoutSharing - finalBytes,
      },
    };
  },
});

/** Copies token t of every head into slot t mod B of its sequence's block ⌊t/B⌋ → [N, Hkv, B, D]. */
function fillBlocks(src: Float32Array, tables: number[][], blocks: number, B: number, Hkv: number, T: number, D: number) {
  const out = new Float32Array(blocks * Hkv * B * D);
  for (const table of tables)
    for (let t = 0; t < T; t++) {
      const base = table[Math.floor(t / B)]! * Hkv * B;
      for (let h = 0; h < Hkv; h++) out.set(src.subarray((h * T + t) * D, (h * T + t + 1) * D), (base + h * B + (t % B)) * D);
    }
  return f32([blocks, Hkv, B, D], out, ['N', 'Hkv', 'B', 'D']);
}
