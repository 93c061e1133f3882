// The wasm and webgpu backends' path for exact masked/biased attention (and ReLU attention, whose
// kernel differs only in what a row does with its scores): a variant compiles to the fused kernel's
// spec (src/kernels/wasm/attention.ts) — band rules for causal, windows, global tokens and sinks,
// interval rules for segment and window masks, a rank-1 term for a segment cross-logit, ALiBi
// slopes, and optionally its own tile lists (BigBird) or split-K (Flash-Decoding) — and the kernel
// visits only the tiles the rules leave. The tfjs compositions in each variant stay the `cpu` path.
import { f32, type Tensor } from '../../engine/tensor.js';
import type { RunContext } from '../../engine/node.js';
import type { BiasValue } from '../../engine/values.js';
import { biasTerms } from '../common/bias.js';
import {
  POS_INF,
  type BandRule,
  type FusedAttentionResult,
  type FusedAttentionSpec,
  type IntervalRule,
  type Rank1Rule,
} from '../../kernels/wasm/attention.js';
import { fusedKernelAvailable, runFusedKernel } from './fused-backends.js';
import { scaleOf } from './common.js';
import type { AttentionShape } from './reference.js';

export const causalBand: BandRule = { gcol: 0, grow: 0, lo: POS_INF, hi: 0 };

/** Band of a local window: causal — the last `window` keys; else ±⌊window/2⌋ (sliding-window.ts). */
export function windowBand(window: number, causal: boolean, globalTokens = 0): BandRule {
  const half = Math.floor(window / 2);
  return causal ? { gcol: globalTokens, grow: globalTokens, lo: window - 1, hi: 0 } : { gcol: globalTokens, grow: globalTokens, lo: half, hi: half };
}

/** The bias terms as kernel rules (positions: query rows at qpos, keys at kpos). */
export function biasRules(bias: BiasValue | undefined, H: number, qpos: Int32Array, kpos: Int32Array, head0 = 0) {
  const bands: BandRule[] = [];
  const intervals: IntervalRule[] = [];
  const rank1: Rank1Rule[] = [];
  let slopes: Float64Array | undefined;
  for (const t of biasTerms(bias)) {
    if (t.type === 'alibi') {
      slopes ??= new Float64Array(H);
      for (let h = 0; h < H; h++) slopes[h] += t.slopes[(head0 + h) % t.slopes.length]!;
    } else if (t.type === 'streaming') {
      // j < sinks, or j ≤ i and i − j < recent (bias.ts).
      bands.push({ gcol: t.sinkTokens, grow: 0, lo: t.recentTokens - 1, hi: 0 });
    } else if (t.type === 'windows') {
      const stride = t.windowSize - t.overlap;
      const first = (x: number) => (x < t.windowSize ? 0 : Math.floor((x - t.windowSize) / stride) + 1);
      const last = (x: number) => Math.floor(x / stride);
      intervals.push({ qa: qpos.map(first), qb: qpos.map(last), ka: kpos.map(first), kb: kpos.map(last) });
    } else {
      const seg = t.segment;
      const all = new Set(t.seeAll);
      const sees = (x: number) => all.has(seg[x]!);
      intervals.push({
        qa: qpos.map((i) => (sees(i) ? -POS_INF : seg[i]!)),
        qb: qpos.map((i) => (sees(i) ? POS_INF : seg[i]!)),
        ka: kpos.map((j) => seg[j]!),
        kb: kpos.map((j) => seg[j]!),
      });
      const cross = t.crossLogit ?? 0;
      if (cross !== 0) rank1.push({ qw: Float32Array.from(qpos, (i) => (sees(i) ? 1 : 0)), kw: Float32Array.from(kpos, (j) => (sees(j) ? 0 : cross)) });
    }
  }
  return { bands, intervals, rank1, slopes };
}

export interface FusedOptions {
  /** Mask rules of the pattern itself (causal is added from p.causal). */
  bands?: BandRule[];
  blockQ?: number;
  blockK?: number;
  queryBlocks?: FusedAttentionSpec['queryBlocks'];
  tilesOf?: FusedAttentionSpec['tilesOf'];
  splits?: number;
  /** ReLU attention instead of softmax (FusedAttentionSpec.score). */
  score?: FusedAttentionSpec['score'];
  /** K/V to read instead of the inputs' (paged: gathered through the block table), [Hkv, Tk, D]. */
  k?: Tensor;
  v?: Tensor;
}

/** Whether exact attention runs on a fused kernel here: WGSL on webgpu, wasm SIMD on wasm (fused-backends.ts). */
export const fusedAvailable = (ctx: RunContext) => fusedKernelAvailable(ctx);

export interface KernelCall extends Omit<FusedOptions, 'k' | 'v'> {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  s: AttentionShape;
  p: { causal: boolean; scale?: number };
  bias?: BiasValue;
  /** Absolute positions of the query rows and keys (default: the last Tq of 0..Tk−1, and 0..Tk−1). */
  qpos?: Int32Array;
  kpos?: Int32Array;
  intervals?: IntervalRule[];
  /** The node's head that the call's head 0 is (a call over some of the heads: ALiBi slopes). */
  head0?: number;
  /** The share of the node's progress this call covers (default all of it). */
  span?: [number, number];
  /** Gathered rows of q and of k/v (FusedAttentionSpec.qRows/kRows). */
  qRows?: Int32Array;
  kRows?: Int32Array;
  /** Rows merged by log-sum-exp in the kernel (FusedAttentionSpec.merge). */
  merge?: FusedAttentionSpec['merge'];
  /** ALiBi slope per query row (FusedAttentionSpec.rowSlopes), for a call whose rows come from several heads; the bias then must hold no ALiBi term. */
  rowSlopes?: Float32Array;
}

/** One call of the fused kernel with the variant's rules, the bias's rules, cancel and progress. */
export async function kernelCall(ctx: RunContext, c: KernelCall): Promise<FusedAttentionResult> {
  const { s, p } = c;
  const qpos = c.qpos ?? Int32Array.from({ length: s.Tq }, (_, r) => s.Tk - s.Tq + r);
  const kpos = c.kpos ?? Int32Array.from({ length: s.Tk }, (_, j) => j);
  const rules = biasRules(c.bias, s.H, qpos, kpos, c.head0);
  if (c.rowSlopes && rules.slopes) throw new Error('fused attention: ALiBi slopes per row and an ALiBi bias term in one call');
  ctx.checkCancelled();
  const r = await runFusedKernel(
    ctx,
    {
      q: c.q,
      k: c.k,
      v: c.v,
      ...s,
      scale: scaleOf(p, s.D),
      qpos,
      kpos,
      bands: [...(p.causal ? [causalBand] : []), ...(c.bands ?? []), ...rules.bands],
      intervals: [...(c.intervals ?? []), ...rules.intervals],
      rank1: rules.rank1,
      slopes: rules.slopes,
      rowSlopes: c.rowSlopes,
      blockQ: c.blockQ,
      blockK: c.blockK,
      queryBlocks: c.queryBlocks,
      tilesOf: c.tilesOf,
      splits: c.splits,
      qRows: c.qRows,
      kRows: c.kRows,
      score: c.score,
      merge: c.merge,
    },
    {
      tick: (f) => {
        ctx.checkCancelled();
        const [a, b] = c.span ?? [0, 1];
        ctx.progress(a + f * (b - a));
      },
    },
  );
  // The kernel's memory is reused across calls: count what this call laid out while it ran.
  ctx.track(r.bytes);
  ctx.release(r.bytes);
  return r;
}

/**
 * Runs exact attention on the fused wasm kernel when the backend is `wasm` and the kernel can run
 * here; undefined otherwise (the caller's tfjs composition runs instead).
 */
export async function runFused(
  ctx: RunContext,
  ins: { q: Tensor; k: Tensor; v: Tensor; bias?: BiasValue },
  p: { causal: boolean; scale?: number },
  s: AttentionShape,
  o: FusedOptions = {},
): Promise<Tensor | undefined> {
  if (!fusedAvailable(ctx)) return undefined;
  const k = o.k ?? ins.k;
  const v = o.v ?? ins.v;
  const r = await kernelCall(ctx, { ...o, q: ins.q.data as Float32Array, k: k.data as Float32Array, v: v.data as Float32Array, s, p, bias: ins.bias });
  return f32([s.H, s.Tq, s.Dv], r.out, ['H', 'T', 'D']);
}
