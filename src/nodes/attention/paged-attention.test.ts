// PagedAttention reads K/V through the cache's block tables and must equal exact attention over the
// contiguous kept K/V (naiveAttentionReference on the original tensors), on cpu and wasm.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode, ShapeError } from '../../engine/node.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import type { BiasValue, KvValue } from '../../engine/values.js';
import { naiveAttentionReference } from './reference.js';
import { fillGaussian } from '../common/random.js';
import { expectClose, expectParity, runNode, testContext } from '../testing.js';
import { kvCache } from '../kv-cache/index.js';
import { paged } from './paged-attention.js';

const rand = (H: number, T: number, D: number, seed: number) => f32([H, T, D], fillGaussian(new Float32Array(H * T * D), seed, 1));
/** The last `n` query rows of each head. */
const lastRows = (q: Tensor, n: number) => {
  const [H, T, D] = q.shape as [number, number, number];
  const out = new Float32Array(H * n * D);
  for (let h = 0; h < H; h++) out.set(q.data.subarray((h * T + T - n) * D, (h * T + T) * D) as Float32Array, h * n * D);
  return f32([H, n, D], out);
};

/** A one-variant attention node around `paged`, so the shared parity helper can drive it. */
const pagedNode = defineNode({
  type: 'test.paged-attention',
  family: 'attention',
  title: 'paged attention (test)',
  summary: '',
  references: [],
  params: paged.params as z.ZodType<any>,
  inputs: {
    q: { kind: 'tensor' },
    k: { kind: 'tensor' },
    v: { kind: 'tensor' },
    bias: { kind: 'bias', optional: true },
    cache: { kind: 'kv', optional: true },
  },
  outputs: { out: { kind: 'tensor' } },
  infer: () => ({}),
  async run(ctx, ins, p) {
    return { out: await paged.run(ctx, ins, p, dims(ins.q, ins.k, ins.v)) };
  },
  reference: (ins, p) => ({ out: paged.reference(ins, p, dims(ins.q, ins.k, ins.v)) }),
});
const parse = (p: Record<string, unknown>) => paged.params.parse(p) as any;
const dims = (q: Tensor, k: Tensor, v: Tensor) => ({ H: q.shape[0]!, Hkv: k.shape[0]!, Tq: q.shape[1]!, Tk: k.shape[1]!, D: q.shape[2]!, Dv: v.shape[2]! });

async function pagedCache(k: Tensor, v: Tensor, params: Record<string, unknown>): Promise<KvValue> {
  return (await runNode(kvCache, { k, v }, { variant: 'paged', ...params }, { connected: ['cache'] })).cache as KvValue;
}

describe('paged attention', () => {
  // 4 query heads over 2 kv heads (grouped-query), 37 tokens: the last block is partly filled.
  const q = rand(4, 37, 8, 1);
  const k = rand(2, 37, 8, 2);
  const v = rand(2, 37, 6, 3);

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`equals attention over the contiguous K/V for every sequence of a shared-prefix cache (${backend})`, async () => {
      // Three sequences, the first 20 prompt tokens shared: the tables interleave physical blocks.
      const cache = await pagedCache(k, v, { blockSize: 4, sequences: 3, sharedPrefixTokens: 20, prefillTokens: 24 });
      expect(cache.paged!.blockTables[2]).not.toEqual(cache.paged!.blockTables[0]);
      const want = naiveAttentionReference(q, k, v, { causal: true });
      for (const sequence of [0, 1, 2]) {
        const out = (await runNode(pagedNode, { q, k, v, cache }, { variant: 'paged', sequence }, { backend })).out as Tensor;
        expectClose(out.data, want.data, { atol: 2e-5 }, `sequence ${sequence}`);
      }
    });

    it(`decodes the last query rows, non-causal and with ALiBi, at block sizes 1..128 (${backend})`, async () => {
      const alibi: BiasValue = { kind: 'bias', terms: [{ type: 'alibi', slopes: [0.5, 0.25, 0.125, 0.0625] }] };
      for (const blockSize of [1, 5, 16, 128]) {
        const cache = await pagedCache(k, v, { blockSize, prefillTokens: 30 });
        for (const [qq, opts] of [
          [lastRows(q, 1), { causal: true }],
          [lastRows(q, 3), { causal: true, bias: alibi }],
          [q, { causal: false, scale: 0.2 }],
        ] as const) {
          const want = naiveAttentionReference(qq, k, v, opts);
          const params = { variant: 'paged', causal: opts.causal, ...('scale' in opts ? { scale: opts.scale } : {}) };
          const out = (await runNode(pagedNode, { q: qq, k, v, cache, bias: 'bias' in opts ? opts.bias : undefined }, params, { backend })).out as Tensor;
          expectClose(out.data, want.data, { atol: 2e-5 }, `blockSize ${blockSize}, Tq ${qq.shape[1]}`);
        }
      }
    });

    it(`pages k/v itself when no cache is connected; run matches its reference (${backend})`, async () => {
      await expectParity(pagedNode, backend, { q, k, v }, { variant: 'paged', blockSize: 7 }, { atol: 2e-5 });
      const out = (await runNode(pagedNode, { q, k, v }, { variant: 'paged', blockSize: 7 }, { backend })).out as Tensor;
      expectClose(out.data, naiveAttentionReference(q, k, v, { causal: true }).data, { atol: 2e-5 });
    });
  }

  it('the reference reads the blocks through the table', async () => {
    const cache = await pagedCache(k, v, { blockSize: 4, sequences: 2, sharedPrefixTokens: 8, prefillTokens: 8 });
    const out = paged.reference({ q, k, v, cache }, parse({ variant: 'paged', sequence: 1 }), dims(q, k, v));
    expectClose(out.data, naiveAttentionReference(q, k, v, { causal: true }).data, { atol: 1e-6 });
  });

  it('names the cache port when the cache has no block table or the sequence is out of range', async () => {
    const ctx = await testContext('cpu');
    const flat: KvValue = { kind: 'kv', k, v, positions: new Int32Array(37) };
    const p = parse({ variant: 'paged' });
    await expect(paged.run(ctx, { q, k, v, cache: flat }, p, dims(q, k, v))).rejects.toThrow(ShapeError);
    await expect(paged.run(ctx, { q, k, v, cache: flat }, p, dims(q, k, v))).rejects.toMatchObject({ port: 'cache' });
    const cache = await pagedCache(k, v, {});
    expect(() => paged.reference({ q, k, v, cache }, parse({ variant: 'paged', sequence: 1 }), dims(q, k, v))).toThrow(
      /sequence 1 is out of range/,
    );
  });
});
