// What every KV-cache policy shares: the append schedule (a prefill, then one token per decode step),
// the step recorder (bytes per step, the eviction timeline), gathering the kept tokens, and the
// metrics every variant reports. Cache management is host-side bookkeeping — which tokens stay, which
// blocks hold them, how many bytes that costs — so it is plain TypeScript, and run() and reference()
// share it.
import { z } from 'zod';
import type { Cost, RunContext, VariantDoc } from '../../engine/node.js';
import { defineVariant as defineAnyVariant, type VariantSchema } from '../../engine/variants.js';
import { bindDims, requireDivides } from '../../engine/shapes.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import type { KvValue, MetricValue, PortShape } from '../../engine/values.js';

export const commonParams = {
  prefillTokens: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('tokens appended in the first step (the prompt); the rest arrive one per decode step; clamped to T'),
};

/** Dims of the cache's inputs: k [Hkv, T, D], v [Hkv, T, Dv], q [H, T, D] when connected. */
export interface CacheShape {
  Hkv: number;
  T: number;
  D: number;
  Dv: number;
  /** Query heads; null when q is not connected. */
  H: number | null;
}

/** CacheShape as far as the compiler knows it (null = known only at run time). */
export type CacheDims = { [K in keyof CacheShape]: number | null } & {
  /** Whether q is connected (its shape may still be unknown until run time). */
  hasQ: boolean;
};

export interface CacheInputs {
  k: Tensor;
  v: Tensor;
  q?: Tensor;
}

export interface CacheResult {
  /** Original positions of the kept tokens, in cache order. */
  positions: Int32Array;
  /** What the cache holds when it is not the input rows themselves (KIVI: dequantized). */
  k?: Tensor;
  v?: Tensor;
  paged?: KvValue['paged'];
  metrics: Record<string, MetricValue>;
}

/** One cache policy: its params (with the `variant` literal), docs, shape rule, cost and simulation. */
export interface CacheVariant<P = { variant: string; prefillTokens: number } & Record<string, unknown>> {
  params: VariantSchema;
  doc: VariantDoc;
  /** Tokens the cache holds after all T tokens arrived, for shape inference. */
  kept(T: number, p: P): number;
  /** Checks that need the shapes (a required port, a capacity); throws ShapeError naming the port. */
  check?(s: CacheDims, p: P): void;
  cost(s: CacheShape, p: P): Cost;
  simulate(ins: CacheInputs, p: P, s: CacheShape, cancel: () => void): CacheResult;
  /** The same result from a kernel on the run's backend, when the policy has one there; undefined: simulate runs. */
  onBackend?(ctx: RunContext, ins: CacheInputs, p: P, s: CacheShape): Promise<CacheResult | undefined>;
}

/** Declares a cache policy: `p` in its functions is typed by its params schema. */
export const defineVariant: <S extends VariantSchema>(params: S, impl: Omit<CacheVariant<z.output<S>>, 'params'>) => CacheVariant<z.output<S>> = defineAnyVariant;

/** Binds k, v (and q) dims; shared by infer (port shapes) and run (tensors). */
export function inferCache(ins: { k: PortShape; v: PortShape; q?: PortShape }): CacheDims {
  const env: Record<string, number | null> = {};
  const [Hkv, T, D] = bindDims(env, 'k', ins.k, ['Hkv', 'T', 'D'], { dtype: 'float32' });
  const [, , Dv] = bindDims(env, 'v', ins.v, ['Hkv', 'T', 'Dv'], { dtype: 'float32' });
  let H: number | null = null;
  if (ins.q) {
    [H] = bindDims(env, 'q', ins.q, ['H', 'T', 'D'], { dtype: 'float32' });
    requireDivides('q', 'grouped-query attention: kv heads of k', Hkv!, H);
  }
  return { Hkv: Hkv ?? null, T: T ?? null, D: D ?? null, Dv: Dv ?? null, H, hasQ: ins.q !== undefined };
}

export const shapeOf = (t: Tensor): PortShape => ({ kind: 'tensor', dtype: t.dtype, shape: t.shape });

/** The steps that append tokens: [0, P) as one prefill step (when P > 0), then [t, t+1) for t ≥ P. */
export function schedule(T: number, prefillTokens: number): [number, number][] {
  const P = Math.min(prefillTokens, T);
  const steps: [number, number][] = P > 0 ? [[0, P]] : [];
  for (let t = P; t < T; t++) steps.push([t, t + 1]);
  return steps;
}

/** Tokens appended by the last step (1 for a decode step, P when the prefill is the only step). */
export function lastStepTokens(T: number, prefillTokens: number): number {
  const P = Math.min(prefillTokens, T);
  return T > P ? 1 : P;
}

/** Sorted positions → flat half-open runs [s0, e0, s1, e1, …]. */
export function toRuns(sorted: ArrayLike<number>): number[] {
  const runs: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const x = sorted[i]!;
    if (runs.length && runs[runs.length - 1] === x) runs[runs.length - 1] = x + 1;
    else runs.push(x, x + 1);
  }
  return runs;
}

/** Most steps the eviction timeline keeps; longer runs are subsampled evenly (first and last kept). */
export const TIMELINE_MAX_STEPS = 256;

/**
 * Records, per step, the bytes the cache holds at the end of the step (after any eviction) and, for
 * at most TIMELINE_MAX_STEPS evenly spaced steps, which original positions it holds (as runs).
 */
export class StepRecorder {
  readonly memoryPerStep: number[] = [];
  private readonly sampled: Set<number>;
  private readonly timeline = { step: [] as number[], seen: [] as number[], runs: [] as number[][] };

  constructor(readonly totalSteps: number) {
    const m = Math.min(totalSteps, TIMELINE_MAX_STEPS);
    this.sampled = new Set(Array.from({ length: m }, (_, i) => (m === 1 ? 0 : Math.round((i * (totalSteps - 1)) / (m - 1)))));
  }

  /** `runs` is called only for sampled steps. */
  record(seen: number, bytes: number, runs: () => number[]): void {
    const step = this.memoryPerStep.length;
    this.memoryPerStep.push(bytes);
    if (this.sampled.has(step)) {
      this.timeline.step.push(step);
      this.timeline.seen.push(seen);
      this.timeline.runs.push(runs());
    }
  }

  metrics(extra: {
    s: CacheShape;
    tokensKept: number;
    blocks?: number;
    fragmentation?: number;
    sequences?: number;
  }): Record<string, MetricValue> {
    const { s, tokensKept } = extra;
    const perToken = bytesPerToken(s);
    return {
      peakBytes: this.memoryPerStep.reduce((a, b) => Math.max(a, b), 0),
      finalBytes: this.memoryPerStep.at(-1) ?? 0,
      tokensKept,
      evicted: s.T - tokensKept,
      blocks: extra.blocks ?? 0,
      fragmentation: extra.fragmentation ?? 0,
      bytesPerToken: perToken,
      // A dense full-precision cache holding every token of every sequence, with no waste: the baseline.
      fullBytes: s.T * perToken * (extra.sequences ?? 1),
      steps: this.totalSteps,
      memoryPerStep: this.memoryPerStep,
      timeline: { ...this.timeline, maxSteps: TIMELINE_MAX_STEPS, subsampled: this.totalSteps > TIMELINE_MAX_STEPS },
    };
  }
}

/** Full-precision (float32) bytes of one token's K and V across the kv heads. */
export const bytesPerToken = (s: CacheShape): number => s.Hkv * (s.D + s.Dv) * 4;

/** Rows `positions` of every head of a [H, T, D] tensor → [H, n, D]. */
export function gatherTokens(t: Tensor, positions: ArrayLike<number>, dims = ['Hkv', 'T', 'D']): Tensor {
  const [H, T, D] = t.shape as [number, number, number];
  const n = positions.length;
  const out = new Float32Array(H * n * D);
  const src = t.data as Float32Array;
  for (let h = 0; h < H; h++)
    for (let i = 0; i < n; i++) {
      const p = positions[i]!;
      out.set(src.subarray((h * T + p) * D, (h * T + p + 1) * D), (h * n + i) * D);
    }
  return f32([H, n, D], out, dims);
}

export const range = (a: number, b: number): Int32Array => Int32Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);

/**
 * Cost of a policy that only copies tokens: no FLOPs, the kept K/V read and written once; the
 * workspace is the policy's own storage plus the kept positions (an Int32Array the outputs carry).
 */
export function copyCost(s: CacheShape, kept: number, workspaceBytes: number, note: string): Cost {
  return { flops: 0, workspaceBytes: workspaceBytes + kept * 4, bytesMoved: 2 * kept * bytesPerToken(s), note };
}
