// The `kv-cache` node: one type, one variant per cache policy (one file each, listed below). Each
// simulates a cache over K/V appended in order — a prefill of prefillTokens, then one token per
// decode step — and reports what it keeps, where, and the bytes it holds at every step. This is
// host-side bookkeeping, so every variant is plain TypeScript shared by run() and reference(); a
// policy may also run a kernel on the backend (onBackend: KIVI's quantizer in WGSL on webgpu).
import { variantFamily } from '../../engine/variants.js';
import { defineNode, ShapeError, type AnyNodeDef } from '../../engine/node.js';
import { i32, squeezeBatch, type Tensor } from '../../engine/tensor.js';
import { metrics, tensorShape, type KvValue } from '../../engine/values.js';
import { gatherTokens, inferCache, lastStepTokens, range, shapeOf, type CacheResult, type CacheShape, type CacheVariant } from './common.js';
import { contiguous } from './contiguous.js';
import { kvCacheMetrics } from './metrics.js';
import { h2o } from './h2o.js';
import { kivi } from './kivi.js';
import { paged } from './paged.js';
import { streaming } from './streaming.js';
import type { FamilyDef } from '../../engine/registry.js';

export const variants: CacheVariant[] = [contiguous, paged, streaming, h2o, kivi];

export type KvCacheParams = { variant: string; prefillTokens: number } & Record<string, unknown>;
const family = variantFamily<CacheVariant, KvCacheParams>(variants);
const { params } = family;

const variantOf = family.of;

interface Ins {
  k: Tensor;
  v: Tensor;
  q?: Tensor;
}

/** The squeezed inputs, the policy and the cache's dims. */
function prepare(ins: Ins, p: KvCacheParams) {
  const k = squeezeBatch(ins.k, 3);
  const v = squeezeBatch(ins.v, 3);
  const q = ins.q && squeezeBatch(ins.q, 3);
  const variant = variantOf(p);
  const dims = inferCache({ k: shapeOf(k), v: shapeOf(v), q: q && shapeOf(q) });
  variant.check?.(dims, p);
  return { ins: { k, v, q }, variant, s: dims as CacheShape };
}

/** Shapes the policy's result into the node's outputs; `wantQuery` asks for the last step's query rows. */
function finish({ ins: { k, v, q }, s }: ReturnType<typeof prepare>, r: CacheResult, p: KvCacheParams, wantQuery: boolean) {
  const kOut = r.k ?? gatherTokens(k, r.positions);
  const vOut = r.v ?? gatherTokens(v, r.positions);
  const cache: KvValue = { kind: 'kv', k: kOut, v: vOut, positions: r.positions, ...(r.paged ? { paged: r.paged } : {}) };
  const out = { k: kOut, v: vOut, positions: i32([r.positions.length], r.positions, ['T']), cache, metrics: metrics(r.metrics) };
  if (!wantQuery) return out;
  if (!q) throw new ShapeError('q', 'the "query" output is the last step\'s rows of q: connect the "q" input');
  const last = lastStepTokens(s.T, p.prefillTokens);
  return { ...out, query: gatherTokens(q, range(s.T - last, s.T), ['H', 'T', 'D']) };
}

/** Runs the policy on the host (simulate) and shapes its outputs. */
function manage(ins: Ins, p: KvCacheParams, cancel: () => void, wantQuery: boolean) {
  const x = prepare(ins, p);
  return finish(x, x.variant.simulate(x.ins, p, x.s, cancel), p, wantQuery);
}

export const kvCache = defineNode({
  type: 'kv-cache',
  family: 'kv-cache',
  title: 'KV cache',
  summary:
    'Simulates a KV-cache manager over K/V appended in order (a prefill of prefillTokens, then one token per decode step): which tokens it keeps, where it stores them, and the bytes it holds after every step. Host-side bookkeeping, in plain TypeScript (run and reference share it).',
  references: family.references,
  params,
  variants: family.docs,
  inputs: {
    k: { kind: 'tensor', dims: ['Hkv', 'T', 'D'], doc: 'keys, appended in order: the first prefillTokens as the prompt, then one per step' },
    v: { kind: 'tensor', dims: ['Hkv', 'T', 'D'], doc: 'values' },
    q: { kind: 'tensor', optional: true, dims: ['H', 'T', 'D'], doc: 'queries: required by h2o (attention scores); also gives the `query` output' },
  },
  outputs: {
    k: { kind: 'tensor', dims: ['Hkv', 'T', 'D'], doc: 'keys the cache holds at the end, in cache order (kivi: dequantized)' },
    v: { kind: 'tensor', dims: ['Hkv', 'T', 'D'], doc: 'values the cache holds at the end, in cache order' },
    positions: { kind: 'tensor', dims: ['T'], doc: 'int32 original positions of the kept tokens' },
    cache: { kind: 'kv', doc: 'the cache: kept K/V and positions, plus block storage and block tables when paged' },
    metrics: {
      kind: 'metrics',
      metrics: kvCacheMetrics,
      doc: 'peakBytes (the largest of memoryPerStep: bytes held once a step\'s eviction is done), finalBytes, tokensKept, evicted, blocks, fragmentation, memoryPerStep[] (bytes at the end of each step), timeline (original positions held per step as [start, end) runs, at most 256 steps, evenly subsampled)',
    },
    query: { kind: 'tensor', dims: ['H', 'T', 'D'], doc: 'the rows of q appended by the last step: the queries that attend over the final cache (needs q)' },
  },
  infer(ins, p) {
    const s = inferCache(ins);
    const variant = variantOf(p);
    variant.check?.(s, p);
    const n = s.T === null ? null : variant.kept(s.T, p);
    const kv = (D: number | null) => tensorShape('float32', [s.Hkv, n, D], ['Hkv', 'T', 'D']);
    return {
      k: kv(s.D),
      v: kv(s.Dv),
      positions: tensorShape('int32', [n], ['T']),
      cache: { kind: 'kv', dtype: 'float32', shape: [s.Hkv, n, s.D] },
      metrics: { kind: 'metrics' },
      ...(s.hasQ
        ? { query: tensorShape('float32', [s.H, s.T === null ? null : lastStepTokens(s.T, p.prefillTokens), s.D], ['H', 'T', 'D']) }
        : {}),
    };
  },
  cost(ins, p) {
    const d = inferCache(ins);
    const s: CacheShape = { Hkv: d.Hkv ?? 0, T: d.T ?? 0, D: d.D ?? 0, Dv: d.Dv ?? 0, H: d.H };
    return variantOf(p).cost(s, p);
  },
  // Every policy but the ones that keep every token exactly is compared with a cache that does.
  exact: (p) =>
    p.variant === 'contiguous' || p.variant === 'paged'
      ? undefined
      : { kind: 'sibling', params: { variant: 'contiguous', prefillTokens: p.prefillTokens, maxTokens: 1 << 24 }, ports: ['k', 'v'] },
  // A policy with a kernel on the run's backend (KIVI's quantizer on webgpu) runs it; else simulate.
  async run(ctx, ins, p) {
    const x = prepare(ins, p);
    const r = (await x.variant.onBackend?.(ctx, x.ins, p, x.s)) ?? x.variant.simulate(x.ins, p, x.s, () => ctx.checkCancelled());
    return finish(x, r, p, ctx.isConnected('query'));
  },
  reference: (ins, p) => manage(ins, p, () => {}, ins.q !== undefined),
});

export const nodes: AnyNodeDef[] = [kvCache];

/** The family's palette and canvas data: its title and colour. */
export const familyDef: FamilyDef = { id: 'kv-cache', title: 'KV caches', color: '#9333ea' };
