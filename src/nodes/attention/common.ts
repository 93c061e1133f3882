// What every attention variant shares: common params, inputs, shape inference, FLOP conventions,
// and small helpers (head groups, bias plans) the kernels use.
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import type { Cost, RunContext, VariantDoc } from '../../engine/node.js';
import { defineVariant as defineAnyVariant, type VariantSchema } from '../../engine/variants.js';
import { bindDims, requireDivides } from '../../engine/shapes.js';
import type { Tensor } from '../../engine/tensor.js';
import type { BiasValue, PortShape, KvValue, MetricsValue } from '../../engine/values.js';
import { biasTerms } from '../common/bias.js';
import type { AttentionShape } from './reference.js';
import type { ProbeSpec } from './probe.js';

export const commonParams = {
  causal: z.boolean().default(true).describe('mask keys after the query position'),
  scale: z.number().positive().optional().describe('score scale; default 1/√D'),
};

export interface AttentionInputs {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  bias?: BiasValue;
  cache?: KvValue;
}

/** What `cost` knows beyond shapes: whether a bias is connected (some kernels lose their fast path). */
export interface CostContext {
  bias: boolean;
}

/** What every attention variant's params hold (a variant's own params add to these). */
export type AttentionParams = { variant: string; causal: boolean; scale?: number } & Record<string, unknown>;

/** One attention technique: its params (with the `variant` literal), docs, cost, kernel and oracle. */
export interface AttentionVariant<P = AttentionParams> {
  params: VariantSchema;
  doc: VariantDoc;
  cost(s: AttentionShape, p: P, c?: CostContext): Cost;
  run(ctx: RunContext, inputs: AttentionInputs, p: P, s: AttentionShape): Promise<Tensor>;
  /** Variants across simulated devices: the output and the devices' metrics (the node's `devices` output). */
  runOnDevices?(ctx: RunContext, inputs: AttentionInputs, p: P, s: AttentionShape): Promise<{ out: Tensor; devices: MetricsValue }>;
  reference(inputs: AttentionInputs, p: P, s: AttentionShape): Tensor;
  /**
   * The attention map the `probe` output shows. Absent: exact softmax attention's map (the right
   * one for exact kernels, and the stand-in for kernels whose map is implicit).
   */
  probe?(p: P, s: AttentionShape): ProbeSpec;
  /** The kernel never forms attention weights (linear, low-rank): its probe is exact attention's map. */
  implicitMap?: boolean;
}

/** Declares an attention variant: `p` in its functions is typed by its params schema. */
export const defineVariant: <S extends VariantSchema>(params: S, impl: Omit<AttentionVariant<z.output<S>>, 'params'>) => AttentionVariant<z.output<S>> =
  defineAnyVariant;

export function inferAttention(ins: { q: PortShape; k: PortShape; v: PortShape }): AttentionShape {
  const env: Record<string, number | null> = {};
  const [H, Tq, D] = bindDims(env, 'q', ins.q, ['H', 'Tq', 'D'], { dtype: 'float32' });
  const [Hkv, Tk] = bindDims(env, 'k', ins.k, ['Hkv', 'Tk', 'D'], { dtype: 'float32' });
  const [, , Dv] = bindDims(env, 'v', ins.v, ['Hkv', 'Tk', 'Dv'], { dtype: 'float32' });
  requireDivides('k', 'grouped-query attention: kv heads', Hkv!, H!);
  return { H: H ?? 0, Hkv: Hkv ?? 0, Tq: Tq ?? 0, Tk: Tk ?? 0, D: D ?? 0, Dv: Dv ?? 0 };
}

/**
 * FLOPs of exact attention: 2·Tq·Tk·D for QKᵀ plus 2·Tq·Tk·Dv for PV per head, halved when causal
 * and Tq = Tk (the convention FlashAttention papers report: 4·T²·D per head, halved when causal).
 */
export function exactFlops(s: AttentionShape, causal: boolean): number {
  const full = 2 * s.H * s.Tq * s.Tk * (s.D + s.Dv);
  return causal && s.Tq === s.Tk ? full / 2 : full;
}

export const scaleOf = (p: { scale?: number }, D: number) => p.scale ?? 1 / Math.sqrt(D);

/** Copies head `h` of a [H, T, D] tensor's data (no copy: a view). */
export function headView(t: Tensor, h: number): Float32Array {
  const [T, D] = t.shape.slice(-2) as [number, number];
  return (t.data as Float32Array).subarray(h * T * D, (h + 1) * T * D);
}

/** The K/V head that query head `h` reads (grouped-query attention). */
export const groupOf = (h: number, s: { H: number; Hkv: number }) => Math.floor(h / (s.H / s.Hkv));

/**
 * How a kernel with a fast path can treat the bias: 'none' (no terms), 'alibi' (only ALiBi terms:
 * a per-head decay e^(−m·(i−j)), which prefix-sum states can carry) or 'general' (masks: evaluated
 * tile by tile).
 */
export type BiasPlan = { kind: 'none' } | { kind: 'alibi'; slope: (h: number) => number } | { kind: 'general' };

export function biasPlan(bias: BiasValue | undefined): BiasPlan {
  const terms = biasTerms(bias);
  if (terms.length === 0) return { kind: 'none' };
  if (terms.every((t) => t.type === 'alibi')) {
    const lists = terms.map((t) => t.slopes);
    return { kind: 'alibi', slope: (h) => lists.reduce((m, l) => m + l[h % l.length]!, 0) };
  }
  return { kind: 'general' };
}

/**
 * Runs `perHead(h, kv)` for every query head h with `upload(g)`'s tensors for its K/V head group g
 * (grouped-query attention): each group is uploaded once, as a group's heads are consecutive; the
 * previous group's tensors are disposed, and the last ones at the end, on error or cancel too.
 */
export async function forEachHead<T extends tfc.TensorContainer>(
  tf: typeof tfc,
  s: { H: number; Hkv: number },
  upload: (g: number) => T,
  perHead: (h: number, kv: T) => Promise<void> | void,
): Promise<void> {
  let kv: T | undefined;
  let loaded = -1;
  try {
    for (let h = 0; h < s.H; h++) {
      const g = groupOf(h, s);
      if (g !== loaded || kv === undefined) {
        if (kv !== undefined) tf.dispose(kv);
        kv = undefined;
        kv = upload(g);
        loaded = g;
      }
      await perHead(h, kv);
    }
  } finally {
    if (kv !== undefined) tf.dispose(kv);
  }
}

/** Group g's keys [Tk, D] and values [Tk, Dv] on the backend. */
export function uploadGroup(tf: typeof tfc, k: Tensor, v: Tensor, g: number, s: AttentionShape): { k: tfc.Tensor2D; v: tfc.Tensor2D } {
  return { k: tf.tensor2d(headView(k, g), [s.Tk, s.D]), v: tf.tensor2d(headView(v, g), [s.Tk, s.Dv]) };
}

/** Uploads head h's queries (pre-scaled) and its group g's keys and values as [T, D] tensors. */
export function uploadHead(tf: typeof tfc, q: Tensor, k: Tensor, v: Tensor, h: number, g: number, scale: number, s: AttentionShape): [tfc.Tensor2D, tfc.Tensor2D, tfc.Tensor2D] {
  return tf.tidy(() => [
    tf.mul(tf.tensor2d(headView(q, h), [s.Tq, s.D]), scale) as tfc.Tensor2D,
    tf.tensor2d(headView(k, g), [s.Tk, s.D]),
    tf.tensor2d(headView(v, g), [s.Tk, s.Dv]),
  ]) as [tfc.Tensor2D, tfc.Tensor2D, tfc.Tensor2D];
}
