// The kv-cache node: shapes, errors, and each policy against values worked out by hand from its rule.
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../engine/node.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { tensorShape, type KvValue, type MetricsValue } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';
import { expectClose, expectParity, runNode, runReference } from '../testing.js';
import { schedule, toRuns } from './common.js';
import { evict } from './h2o.js';
import { kvCache } from './index.js';

/** [H, T, D] tensor whose element (h, t, d) is t + h/10 + d/100: rows identify their token. */
const tagged = (H: number, T: number, D: number) =>
  f32([H, T, D], Float32Array.from({ length: H * T * D }, (_, i) => Math.floor(i / D) % T + Math.floor(i / (T * D)) / 10 + (i % D) / 100));
const rand = (H: number, T: number, D: number, seed: number) => f32([H, T, D], fillGaussian(new Float32Array(H * T * D), seed, 1));

interface CacheOut {
  k: Tensor;
  v: Tensor;
  positions: Tensor;
  cache: KvValue;
  m: Record<string, any>;
}

async function cache(params: Record<string, unknown>, ins: { k: Tensor; v: Tensor; q?: Tensor }): Promise<CacheOut> {
  const connected = Object.keys(kvCache.outputs).filter((o) => o !== 'query' || ins.q);
  const out: Record<string, any> = await runNode(kvCache, ins, params, { connected });
  return { k: out.k, v: out.v, positions: out.positions, cache: out.cache, m: (out.metrics as MetricsValue).values };
}

/** Rows `rows` (token indices) of each head of a [H, T, D] tensor, flattened. */
function rowsOf(t: Tensor, rows: number[]): number[] {
  const [H, T, D] = t.shape as [number, number, number];
  const out: number[] = [];
  for (let h = 0; h < H; h++) for (const r of rows) out.push(...t.data.subarray((h * T + r) * D, (h * T + r + 1) * D));
  return out;
}

describe('schedule and timeline runs', () => {
  it('appends a prefill step, then one token per step', () => {
    expect(schedule(5, 3)).toEqual([[0, 3], [3, 4], [4, 5]]);
    expect(schedule(3, 0)).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(schedule(3, 10)).toEqual([[0, 3]]);
  });
  it('encodes sorted positions as half-open runs', () => {
    expect(toRuns([0, 1, 2, 7, 8, 10])).toEqual([0, 3, 7, 9, 10, 11]);
    expect(toRuns([])).toEqual([]);
  });
});

describe('kv-cache contiguous', () => {
  // Hkv = 2, D = Dv = 8: 2·16·4 = 128 bytes per token.
  const k = tagged(2, 100, 8);
  const v = tagged(2, 100, 8);

  it('reserves maxTokens slots at every step and reports the unused ones', async () => {
    const r = await cache({ variant: 'contiguous', maxTokens: 256, prefillTokens: 40 }, { k, v });
    expect(r.m.bytesPerToken).toBe(128);
    expect(r.m.finalBytes).toBe(256 * 128);
    expect(r.m.peakBytes).toBe(32768);
    expect(r.m.memoryPerStep).toEqual(new Array(61).fill(32768)); // 1 prefill + 60 decode steps
    expect(r.m.fragmentation).toBeCloseTo(156 / 256, 12);
    expect(r.m.wastedBytes).toBe(156 * 128);
    expect(r.m.tokensKept).toBe(100);
    expect(r.m.evicted).toBe(0);
    expect(r.k.data).toEqual(k.data);
    expect(Array.from(r.positions.data)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(r.cache.paged).toBeUndefined();
  });

  it('refuses more tokens than maxTokens, naming k and maxTokens', () => {
    const ins = { k: tensorShape('float32', [2, 100, 8]), v: tensorShape('float32', [2, 100, 8]), q: undefined };
    expect(() => kvCache.infer(ins, kvCache.params.parse({ variant: 'contiguous', maxTokens: 64 }))).toThrow(/maxTokens = 64/);
    try {
      kvCache.infer(ins, kvCache.params.parse({ variant: 'contiguous', maxTokens: 64 }));
    } catch (e) {
      expect(e).toBeInstanceOf(ShapeError);
      expect((e as ShapeError).port).toBe('k');
    }
  });
});

describe('kv-cache paged', () => {
  const k = tagged(2, 100, 8);
  const v = tagged(2, 100, 8);
  const blockBytes = 16 * 128;

  it('allocates blocks on demand; fragmentation is the unused tail of the last block', async () => {
    const r = await cache({ variant: 'paged', blockSize: 16, prefillTokens: 40 }, { k, v });
    expect(r.m.blocks).toBe(7); // ⌈100/16⌉
    expect(r.m.finalBytes).toBe(7 * blockBytes);
    expect(r.m.fragmentation).toBeCloseTo(12 / 112, 12);
    expect(r.m.wastedBytes).toBe(12 * 128);
    // Step 0 holds 40 tokens in 3 blocks; step i holds 40 + i tokens: the 4th block arrives with token 48 (step 9).
    expect(r.m.memoryPerStep[0]).toBe(3 * blockBytes);
    expect(r.m.memoryPerStep[8]).toBe(3 * blockBytes);
    expect(r.m.memoryPerStep[9]).toBe(4 * blockBytes);
    expect(r.m.memoryPerStep.length).toBe(61);
    const pg = r.cache.paged!;
    expect(pg.blockTables).toEqual([[0, 1, 2, 3, 4, 5, 6]]);
    expect(pg.lengths).toEqual([100]);
    expect(pg.keyBlocks.shape).toEqual([7, 2, 16, 8]);
    // Token 37 of head 1 sits in block 2, slot 5: element (h=1, t=37, d=3) = 37 + 0.1 + 0.03.
    expect(pg.keyBlocks.data[((2 * 2 + 1) * 16 + 5) * 8 + 3]).toBeCloseTo(37.13, 5);
  });

  it('shares the full blocks of a common prefix by reference count', async () => {
    const r = await cache({ variant: 'paged', blockSize: 16, sequences: 3, sharedPrefixTokens: 40, prefillTokens: 50 }, { k, v });
    // ⌊40/16⌋ = 2 shared blocks, each sequence 7 − 2 own blocks: 2 + 3·5 = 17 (21 without sharing).
    expect(r.m.sharedBlocks).toBe(2);
    expect(r.m.blocks).toBe(17);
    expect(r.m.bytesWithoutSharing).toBe(21 * blockBytes);
    expect(r.m.savedBytes).toBe(4 * blockBytes);
    expect(r.m.maxRefCount).toBe(3);
    // Slots used: 32 shared + 3·68 own = 236 of 272.
    expect(r.m.fragmentation).toBeCloseTo(36 / 272, 12);
    const t = r.cache.paged!.blockTables;
    expect(t.map((x) => x.length)).toEqual([7, 7, 7]);
    expect(t[1]!.slice(0, 2)).toEqual(t[0]!.slice(0, 2));
    expect(t[2]!.slice(0, 2)).toEqual(t[0]!.slice(0, 2));
    expect(new Set(t.flatMap((x) => x.slice(2))).size).toBe(15); // the rest are private
    // Every sequence reads the input K through its table: token 99 of head 0, channel 7 = 99.07.
    const kb = r.cache.paged!.keyBlocks;
    for (const table of t) expect(kb.data[((table[6]! * 2 + 0) * 16 + 3) * 8 + 7]).toBeCloseTo(99.07, 5);
  });

  it('rejects a shared prefix longer than the prompt, naming the param', () => {
    const r = kvCache.params.safeParse({ variant: 'paged', sequences: 2, sharedPrefixTokens: 64, prefillTokens: 32 });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['sharedPrefixTokens']);
  });
});

describe('kv-cache streaming (StreamingLLM)', () => {
  const k = tagged(2, 20, 4);
  const v = tagged(2, 20, 4);

  it('keeps [0, sinks) ∪ [len − recent, len) once full', async () => {
    const r = await cache({ variant: 'streaming', sinkTokens: 2, recentTokens: 5 }, { k, v });
    const kept = [0, 1, 15, 16, 17, 18, 19];
    expect(Array.from(r.positions.data)).toEqual(kept);
    expectClose(r.k.data, rowsOf(k, kept), { atol: 0 }, 'kept keys');
    expect(r.m.tokensKept).toBe(7);
    expect(r.m.evicted).toBe(13);
    // 2 heads · 8 floats · 4 bytes = 64 bytes per token; held = min(seen, 7).
    expect(r.m.memoryPerStep.slice(0, 9)).toEqual([1, 2, 3, 4, 5, 6, 7, 7, 7].map((n) => n * 64));
    expect(r.m.peakBytes).toBe(7 * 64);
    expect(r.m.timeline.runs[19]).toEqual([0, 2, 15, 20]);
    expect(r.m.timeline.runs[3]).toEqual([0, 4]);
    expect(r.m.timeline.runs[7]).toEqual([0, 2, 3, 8]); // 8 seen: [0, 2) ∪ [3, 8)
  });

  it('with no sinks it is window-only eviction', async () => {
    const r = await cache({ variant: 'streaming', sinkTokens: 0, recentTokens: 5, prefillTokens: 12 }, { k, v });
    expect(Array.from(r.positions.data)).toEqual([15, 16, 17, 18, 19]);
    expect(r.m.timeline.runs[0]).toEqual([7, 12]); // the prefill already evicts down to the window
  });

  it('subsamples the timeline to 256 evenly spaced steps', async () => {
    const big = rand(1, 1000, 2, 3);
    const r = await cache({ variant: 'streaming', sinkTokens: 4, recentTokens: 60 }, { k: big, v: big });
    const tl = r.m.timeline;
    expect(r.m.memoryPerStep.length).toBe(1000);
    expect(tl.step.length).toBe(256);
    expect(tl.step[0]).toBe(0);
    expect(tl.step[255]).toBe(999);
    expect(tl.subsampled).toBe(true);
    expect(tl.runs[255]).toEqual([0, 4, 940, 1000]);
  });
});

describe('kv-cache h2o', () => {
  // One head, D = 1, q = 1: key j scores k_j. Token 1 has k = 5, the rest 0.
  const q = f32([1, 6, 1], [1, 1, 1, 1, 1, 1]);
  const k = f32([1, 6, 1], [0, 5, 0, 0, 0, 0]);
  const v = tagged(1, 6, 2);

  it('keeps the heavy hitter and the recent window', async () => {
    // Step 2 holds [0, 1, 2]: scores s0 = 1 + 1/(1+e⁵) + 1/(e⁵+2), s1 = e⁵/(1+e⁵) + e⁵/(e⁵+2) ≈ 1.98 > s0 ≈ 1.013:
    // token 0 goes, and token 1 stays to the end.
    const r = await cache({ variant: 'h2o', heavyTokens: 1, recentTokens: 1 }, { q, k, v });
    expect(Array.from(r.positions.data)).toEqual([1, 5]);
    expect(r.m.timeline.runs[1]).toEqual([0, 2]);
    expect(r.m.timeline.runs[2]).toEqual([1, 3]);
    expect(r.m.evicted).toBe(4);
    expectClose(r.v.data, rowsOf(v, [1, 5]), { atol: 0 }, 'kept values');
  });

  it('after a uniform prefill the earliest tokens are the heaviest', async () => {
    // All keys equal: query i gives 1/(i+1) to each of keys 0..i, so score_j = Σ_{i≥j} 1/(i+1) falls with j.
    const zeros = f32([1, 6, 1], new Float32Array(6));
    const r = await cache({ variant: 'h2o', heavyTokens: 2, recentTokens: 2, prefillTokens: 6 }, { q: f32([2, 6, 1], new Float32Array(12).fill(1)), k: zeros, v: zeros });
    expect(Array.from(r.positions.data)).toEqual([0, 1, 4, 5]);
    expect(r.m.scoredPairs).toBe(21); // 1 + 2 + … + 6
  });

  it('needs q, and says so naming the port', async () => {
    const ins = { k: tensorShape('float32', [1, 6, 1]), v: tensorShape('float32', [1, 6, 2]), q: undefined };
    const p = kvCache.params.parse({ variant: 'h2o' });
    expect(() => kvCache.infer(ins, p)).toThrow(ShapeError);
    try {
      kvCache.infer(ins, p);
    } catch (e) {
      expect((e as ShapeError).port).toBe('q');
    }
    await expect(runNode(kvCache, { k, v }, { variant: 'h2o' })).rejects.toThrow(/"q"/);
  });

  it('evicts one token per decode step as the full ranking would: lowest score, the later one on a tie', () => {
    const byRanking = (held: number[], score: number[], recent: number, heavy: number) => {
      const cut = held.length - Math.min(recent, held.length);
      const top = held.slice(0, cut).sort((a, b) => score[b]! - score[a]! || a - b).slice(0, heavy).sort((a, b) => a - b);
      return [...top, ...held.slice(cut)];
    };
    expect(evict([0, 1, 2, 3, 4], [1, 1, 1, 1, 1], 2, 2)).toEqual([0, 1, 3, 4]);
    for (let trial = 0; trial < 200; trial++) {
      const n = 3 + (trial % 17);
      const recent = trial % 3;
      const held = Array.from({ length: n }, (_, i) => 2 * i);
      const score = Array.from({ length: 2 * n }, (_, i) => ((i * 7919 + trial * 104729) % 5) / 4); // many ties
      expect(evict(held, score, recent, n - recent - 1)).toEqual(byRanking(held, score, recent, n - recent - 1));
    }
  });

  it('accepts a connected q whose shape is known only at run time (e.g. from a .npy file)', () => {
    const unknown = { kind: 'tensor' } as const;
    const s = kvCache.infer({ k: unknown, v: unknown, q: unknown }, kvCache.params.parse({ variant: 'h2o' }));
    expect(Object.keys(s)).toContain('query');
  });
});

describe('kv-cache kivi', () => {
  // Hkv = 1, keys D = 2, values Dv = 4, T = 6, 2 bits, groups of 4, residual 4:
  // keys 0..3 quantized (6 − 6 mod 4), keys 4..5 full; values 0..1 quantized (6 − 4), values 2..5 full.
  const kRows = [[0, -1], [0.4, 1], [2.9, 0.2], [3, 5], [7.7, -3.3], [0.123, 9]];
  const vRows = [[0, 0.4, 2.9, 3], [-1, 1, 0.2, 5], [1, 2, 3, 4], [5, 6, 7, 8], [-1, -2, -3, -4], [0.5, 0.25, 0.125, 1]];
  const k = f32([1, 6, 2], kRows.flat());
  const v = f32([1, 6, 4], vRows.flat());

  it('quantizes keys per channel and values per token with asymmetric min-max', async () => {
    const r = await cache({ variant: 'kivi', bits: 2, groupSize: 4, residualTokens: 4 }, { k, v });
    // Channel 0 of tokens 0..3: min 0, max 3, s = 1 → 0, 0, 3, 3. Channel 1: min −1, max 5, s = 2 → −1, 1, 1, 5.
    const kWant = [[0, -1], [0, 1], [3, 1], [3, 5], [7.7, -3.3], [0.123, 9]];
    expectClose(r.k.data, kWant.flat(), { atol: 1e-6 }, 'dequantized keys');
    // Token 0: min 0, max 3, s = 1 → 0, 0, 3, 3; token 1: min −1, max 5, s = 2 → −1, 1, 1, 5.
    const vWant = [[0, 0, 3, 3], [-1, 1, 1, 5], ...vRows.slice(2)];
    expectClose(r.v.data, vWant.flat(), { atol: 1e-6 }, 'dequantized values');
    expect(r.m.quantizedKeyTokens).toBe(4);
    expect(r.m.residualKeyTokens).toBe(2);
    expect(r.m.quantizedValueTokens).toBe(2);
    expect(r.m.residualValueTokens).toBe(4);
    // Keys: 8 codes · 2 bits = 1 word (4 B) + 2 groups · (scale, min) 16 B; values: 8 codes (4 B) + 2 groups (16 B);
    // full precision: 2 keys · 2 · 4 = 16 B and 4 values · 4 · 4 = 64 B. Total 120 B; a full cache is 6·6·4 = 144 B.
    expect(r.m.finalBytes).toBe(120);
    expect(r.m.fullBytes).toBe(144);
    expect(r.m.compression).toBeCloseTo(144 / 120, 12);
    // Bytes after 1, 4, 5 tokens: 24; 4 + 16 + 64 = 84; 20 + 8 + (4 + 8) + 64 = 104.
    expect(r.m.memoryPerStep).toEqual([24, 48, 72, 84, 104, 120]);
  });

  it('uses 15 levels at 4 bits', async () => {
    const r = await cache({ variant: 'kivi', bits: 4, groupSize: 4, residualTokens: 4 }, { k, v });
    // Channel 0: s = 3/15 = 0.2 → 0.4 → 0.4, 2.9 → round(14.5)… avoid ties: check channel 1, s = 6/15 = 0.4:
    // −1, 1 → round(5) = 5 → 1, 0.2 → round(3) = 3 → 0.2, 5.
    const got = r.k.data;
    expectClose([got[1]!, got[3]!, got[5]!, got[7]!], [-1, 1, 0.2, 5], { atol: 1e-6 }, 'channel 1');
    // 8 codes · 4 bits = 32 bits: still one word per tensor.
    expect(r.m.finalBytes).toBe(120);
  });

  it('counts the bytes of a realistic cache and bounds the error by half a step', async () => {
    const kk = rand(2, 1000, 64, 1);
    const vv = rand(2, 1000, 64, 2);
    const r = await cache({ variant: 'kivi', bits: 2, groupSize: 32, residualTokens: 128, prefillTokens: 500 }, { k: kk, v: vv });
    // Keys: 1000 − 1000 mod 128 = 896 quantized, 104 full; values: 872 quantized, 128 full.
    // 2·896·64·2/8 + 2·28·64·8 + 2·872·64·2/8 + 2·872·2·8 + 2·(104 + 128)·64·4 = 231936.
    expect(r.m.finalBytes).toBe(231936);
    expect(r.m.memoryPerStep.at(-1)).toBe(231936);
    expect(r.m.fullBytes).toBe(1000 * 2 * 128 * 4);
    // |x̂ − x| ≤ s/2 = (max − min)/6 per group; Gaussian groups span well under 12, so < 2.
    expect(r.m.keyMaxAbs).toBeGreaterThan(0);
    expect(r.m.keyMaxAbs).toBeLessThan(2);
    // The residual is exact: key 999 and value 999.
    const last = rowsOf(kk, [999]);
    expectClose(rowsOf(r.k, [999]), last, { atol: 0 }, 'residual key');
  });

  it('requires residualTokens to be a multiple of groupSize', () => {
    const r = kvCache.params.safeParse({ variant: 'kivi', groupSize: 32, residualTokens: 100 });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['residualTokens']);
    expect(kvCache.params.safeParse({ variant: 'kivi', bits: 3 }).success).toBe(false);
  });
});

describe('kv-cache node', () => {
  it('infers kept shapes and the query rows of the last step', () => {
    const ins = { k: tensorShape('float32', [2, 100, 8]), v: tensorShape('float32', [2, 100, 16]), q: tensorShape('float32', [4, 100, 8]) };
    const out = kvCache.infer(ins, kvCache.params.parse({ variant: 'streaming', sinkTokens: 4, recentTokens: 28 }));
    expect(out.k!.shape).toEqual([2, 32, 8]);
    expect(out.v!.shape).toEqual([2, 32, 16]);
    expect(out.positions).toMatchObject({ dtype: 'int32', shape: [32] });
    expect(out.query!.shape).toEqual([4, 1, 8]);
    const pre = kvCache.infer(ins, kvCache.params.parse({ variant: 'paged', prefillTokens: 100 }));
    expect(pre.query!.shape).toEqual([4, 100, 8]);
  });

  it('checks grouped-query heads', () => {
    const ins = { k: tensorShape('float32', [3, 10, 8]), v: tensorShape('float32', [3, 10, 8]), q: tensorShape('float32', [4, 10, 8]) };
    expect(() => kvCache.infer(ins, kvCache.params.parse({ variant: 'contiguous' }))).toThrow(/must divide/);
  });

  it('outputs the last step\'s query rows', async () => {
    const q = tagged(2, 10, 3);
    const out = await runNode(kvCache, { q, k: tagged(1, 10, 3), v: tagged(1, 10, 3) }, { variant: 'streaming', sinkTokens: 1, recentTokens: 3 });
    expect((out.query as Tensor).shape).toEqual([2, 1, 3]);
    expectClose((out.query as Tensor).data, rowsOf(q, [9]), { atol: 0 });
    await expect(runNode(kvCache, { k: q, v: q }, { variant: 'contiguous' }, { connected: ['query'] })).rejects.toThrow(/"q"/);
  });

  it('run equals the reference for every variant', async () => {
    const ins = { q: rand(4, 40, 8, 5), k: rand(2, 40, 8, 6), v: rand(2, 40, 8, 7) };
    for (const p of [
      { variant: 'contiguous', maxTokens: 64 },
      { variant: 'paged', blockSize: 8, sequences: 2, sharedPrefixTokens: 16, prefillTokens: 20 },
      { variant: 'streaming', sinkTokens: 2, recentTokens: 10 },
      { variant: 'h2o', heavyTokens: 4, recentTokens: 6, prefillTokens: 8 },
      { variant: 'kivi', groupSize: 4, residualTokens: 8 },
    ]) {
      await expectParity(kvCache, 'cpu', ins, p, { atol: 0 });
      const ref = runReference(kvCache, ins, p);
      const got = await runNode(kvCache, ins, p);
      expect((got.metrics as MetricsValue).values).toEqual((ref.metrics as MetricsValue).values);
    }
  });
});
