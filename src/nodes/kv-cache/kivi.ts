// KIVI: a tuning-free asymmetric 2/4-bit KV cache. Keys are quantized per channel — each channel's
// min-max taken over a group of groupSize tokens — because key outliers sit in fixed channels;
// values per token, in groups of groupSize channels. Following the paper's Algorithm 1, the newest
// tokens stay in full precision: keys are flushed residualTokens at a time (so the last len mod R
// keys are full precision), values one token at a time (the last R values are full precision).
// Asymmetric min-max: s = (max − min)/(2^b − 1), c = clamp(round((x − min)/s), 0, 2^b − 1),
// x̂ = c·s + min. Codes are packed 32/b per uint32, low bits first; each group stores its scale and
// min as float32 (the cache's full precision here). The byte counts are those of these arrays.
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { f32, type Tensor } from '../../engine/tensor.js';
import { KernelUnsupported, webgpuBackendOf } from '../../kernels/webgpu/attention.js';
import { kiviKeyLayout, kiviValueLayout, type GroupLayout } from '../../kernels/quantize-layout.js';
import { groupQuantizeWasm, wasmQuantizeUnavailable } from '../../kernels/wasm/quantize.js';
import { groupQuantizeWebGPU } from '../../kernels/webgpu/quantize.js';
import type { GpuTime } from '../../kernels/webgpu/attention-timer.js';
import { take } from '../quantize/common.js';
import { bytesPerToken, commonParams, range, schedule, StepRecorder, type CacheShape, defineVariant } from './common.js';

const params = z
  .object({
    variant: z.literal('kivi'),
    ...commonParams,
    bits: z.literal([2, 4]).default(2).describe('bits per quantized element (k_bits = v_bits)'),
    groupSize: z.number().int().min(1).max(4096).default(32).describe('tokens per key group, channels per value group (group_size)'),
    residualTokens: z.number().int().min(1).default(128).describe('newest tokens kept in full precision (residual_length); a multiple of groupSize'),
  })
  .refine((p) => p.residualTokens % p.groupSize === 0, {
    message: 'residualTokens must be a multiple of groupSize (keys are flushed residualTokens at a time, in whole groups)',
    path: ['residualTokens'],
  });
type P = z.infer<typeof params>;

/** Tokens quantized and kept in full precision after `len` tokens (KIVI Algorithm 1). */
export function kiviSplit(len: number, R: number) {
  const keyQuantized = len - (len % R);
  const valueQuantized = Math.max(0, len - R);
  return { keyQuantized, keyResidual: len - keyQuantized, valueQuantized, valueResidual: len - valueQuantized };
}

const codeBytes = (n: number, bits: number) => Math.ceil((n * bits) / 32) * 4;

/** Bytes of the cache after `len` tokens: packed codes, a float32 scale and min per group, full-precision residual. */
export function kiviBytes(len: number, s: Pick<CacheShape, 'Hkv' | 'D' | 'Dv'>, p: Pick<P, 'bits' | 'groupSize' | 'residualTokens'>): number {
  const { keyQuantized: kq, keyResidual: kr, valueQuantized: vq, valueResidual: vr } = kiviSplit(len, p.residualTokens);
  const keys = codeBytes(s.Hkv * kq * s.D, p.bits) + s.Hkv * (kq / p.groupSize) * s.D * 8;
  const values = codeBytes(s.Hkv * vq * s.Dv, p.bits) + s.Hkv * vq * Math.ceil(s.Dv / p.groupSize) * 8;
  return keys + values + s.Hkv * (kr * s.D + vr * s.Dv) * 4;
}

export const kivi = defineVariant(params, {
  doc: {
    title: 'KIVI (2/4-bit KV)',
    summary:
      'KIVI semantics: asymmetric min-max; keys per channel (groups of groupSize tokens), values per token (groups of groupSize channels); the newest tokens stay in full precision (keys flushed residualTokens at a time, values one at a time: Algorithm 1). Outputs the dequantized K/V and the true bytes of packed codes, float32 scales and minimums, and the residual.',
    formula: 's = (max − min)/(2^b − 1); c = clamp(round((x − min)/s), 0, 2^b − 1); x̂ = c·s + min',
    references: [{ title: 'KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache', year: 2024 }],
  },
  kept: (T) => T,
  cost: (s, p) => ({
    // min/max, subtract, divide, round, clamp, then dequantize: about 8 operations per element.
    flops: 8 * s.Hkv * s.T * (s.D + s.Dv),
    workspaceBytes: kiviBytes(s.T, s, p) + s.Hkv * s.T * Math.max(s.D, s.Dv),
    bytesMoved: 2 * s.T * bytesPerToken(s),
    note: `${p.bits}-bit codes, groups of ${p.groupSize}, ${p.residualTokens} residual tokens`,
  }),
  simulate({ k, v }, p, s) {
    const split = kiviSplit(s.T, p.residualTokens);
    const G = p.groupSize;
    // Keys: for each head, token group and channel, the group's G tokens (stride D) share one scale.
    const kq = quantizeGroups(k, p.bits, (emit) => {
      for (let h = 0; h < s.Hkv; h++)
        for (let t0 = 0; t0 < split.keyQuantized; t0 += G)
          for (let d = 0; d < s.D; d++) emit((h * s.T + t0) * s.D + d, s.D, G);
    });
    // Values: for each head, token and channel group, up to G consecutive channels share one scale.
    const vq = quantizeGroups(v, p.bits, (emit) => {
      for (let h = 0; h < s.Hkv; h++)
        for (let t = 0; t < split.valueQuantized; t++)
          for (let c0 = 0; c0 < s.Dv; c0 += G) emit((h * s.T + t) * s.Dv + c0, 1, Math.min(G, s.Dv - c0));
    });
    return kiviResult(k, v, p, s, kq, vq);
  },
  // webgpu: the WGSL group-quantize kernel in KIVI's layouts (the K/V stay on the device until the
  // one read); wasm: the C kernel in the same layouts.
  async onBackend(ctx, { k, v }, p, s) {
    if (ctx.backend === 'wasm') {
      const why = wasmQuantizeUnavailable();
      if (why) {
        ctx.fallback?.(`wasm KIVI quantize → host KIVI quantize: ${why}`);
        return undefined;
      }
      const { kq, vq } = await kiviQuantizeWasm(k, v, p, s, (f) => (ctx.checkCancelled(), ctx.progress(f)), (why) => ctx.fallback?.(why));
      return kiviResult(k, v, p, s, kq, vq);
    }
    if (ctx.backend !== 'webgpu') return undefined;
    let reason: string;
    if (!webgpuBackendOf(ctx.tf)) reason = `tfjs's webgpu backend is not active (${ctx.tf.getBackend()})`;
    else
      try {
        const { kq, vq, gpu } = await kiviQuantizeWebGPU(ctx.tf, k, v, p, s, (f) => (ctx.checkCancelled(), ctx.progress(f)));
        ctx.gpuTime?.(gpu);
        return kiviResult(k, v, p, s, kq, vq);
      } catch (err) {
        if (!(err instanceof KernelUnsupported)) throw err;
        reason = err.message;
      }
    ctx.fallback?.(`WGSL KIVI quantize → host KIVI quantize: ${reason}`);
    return undefined;
  },
});

type Q = { out: Tensor; bytes: number };

/** Two kernel calls' GPU time: the sum, or the reason there is none. */
const addGpu = (a: GpuTime | undefined, b: GpuTime): GpuTime => (a && 'ms' in a && 'ms' in b ? { ms: a.ms + b.ms } : a && 'unavailable' in a ? a : b);

/** The cache's outputs and metrics from its quantized keys and values. */
function kiviResult(k: Tensor, v: Tensor, p: P, s: CacheShape, kq: Q, vq: Q) {
  const steps = schedule(s.T, p.prefillTokens);
  const rec = new StepRecorder(steps.length);
  for (const [, to] of steps) rec.record(to, kiviBytes(to, s, p), () => [0, to]);
  const split = kiviSplit(s.T, p.residualTokens);
  const residualBytes = s.Hkv * (split.keyResidual * s.D + split.valueResidual * s.Dv) * 4;
  const finalBytes = kq.bytes + vq.bytes + residualBytes;
  const metrics = rec.metrics({ s, tokensKept: s.T });
  return {
    positions: range(0, s.T),
    k: kq.out,
    v: vq.out,
    metrics: {
      ...metrics,
      finalBytes,
      bits: p.bits,
      groupSize: p.groupSize,
      residualTokens: p.residualTokens,
      quantizedKeyTokens: split.keyQuantized,
      residualKeyTokens: split.keyResidual,
      quantizedValueTokens: split.valueQuantized,
      residualValueTokens: split.valueResidual,
      compression: (metrics.fullBytes as number) / finalBytes,
      ...errors('key', k, kq.out),
      ...errors('value', v, vq.out),
    },
  };
}

/** KIVI's quantize + dequantize of K and V on the wasm kernel (as kiviQuantizeWebGPU), in the reference's float64 arithmetic: equal bit for bit. */
export async function kiviQuantizeWasm(k: Tensor, v: Tensor, p: { bits: number; groupSize: number; residualTokens: number }, s: CacheShape, tick?: (fraction: number) => void,
  fallback?: (reason: string) => void) {
  const split = kiviSplit(s.T, p.residualTokens);
  const one = async (x: Tensor, layout: GroupLayout, span: [number, number]) => {
    const r = await groupQuantizeWasm(x.data as Float32Array, layout, {
      bits: p.bits, symmetric: false, roundHalfUp: true, float64: true,
      tick: tick && ((f) => tick(span[0] + f * (span[1] - span[0]))),
      fallback,
    });
    const groups = layout.rows * Math.ceil(layout.len / layout.groupSize);
    return { out: f32(x.shape, r.out, x.dims), packed: r.codes, scales: r.scales, bytes: r.codes.byteLength + groups * 8 };
  };
  const kq = await one(k, kiviKeyLayout(s.Hkv, s.T, s.D, split.keyQuantized, p.groupSize), [0, 0.5]);
  const vq = await one(v, kiviValueLayout(s.Hkv, s.T, s.Dv, split.valueQuantized, p.groupSize), [0.5, 1]);
  return { kq, vq };
}

/**
 * KIVI's quantize + dequantize of K and V [Hkv, T, D(v)] on the WGSL kernel: the same groups, codes
 * (in the same order: `packed`) and scales/mins as the host quantizer, with the residual copied. WGSL
 * has no float64: a scale may differ from the host's by 1 ulp (and a code on a rounding boundary by one).
 */
export async function kiviQuantizeWebGPU(tf: typeof tfc, k: Tensor, v: Tensor, p: { bits: number; groupSize: number; residualTokens: number }, s: CacheShape,
  tick?: (fraction: number) => void) {
  const split = kiviSplit(s.T, p.residualTokens);
  let gpu: GpuTime | undefined;
  const one = async (x: Tensor, layout: GroupLayout, span: [number, number]) => {
    const xt = tf.tensor1d(x.data as Float32Array);
    try {
      const r = await groupQuantizeWebGPU(tf, xt, layout, {
        bits: p.bits, symmetric: false, roundHalfUp: true,
        tick: tick && ((f) => tick(span[0] + f * (span[1] - span[0]))),
      });
      gpu = addGpu(gpu, r.gpu);
      const [out, words, scales] = await Promise.all([take<Float32Array>(r.out), take<Int32Array>(r.codes), take<Float32Array>(r.scales)]);
      const nWords = Math.ceil(layout.codes / (32 / p.bits));
      const groups = layout.rows * Math.ceil(layout.len / layout.groupSize);
      return {
        out: f32(x.shape, out, x.dims),
        packed: new Uint32Array(words.buffer, words.byteOffset, nWords),
        scales: scales.subarray(0, 2 * groups),
        bytes: nWords * 4 + groups * 8,
      };
    } finally {
      xt.dispose();
    }
  };
  const kq = await one(k, kiviKeyLayout(s.Hkv, s.T, s.D, split.keyQuantized, p.groupSize), [0, 0.5]);
  const vq = await one(v, kiviValueLayout(s.Hkv, s.T, s.Dv, split.valueQuantized, p.groupSize), [0.5, 1]);
  return { kq, vq, gpu: gpu! };
}

/**
 * `count` codes of `bits` bits, packed 32/bits per uint32 word, low bits first, in storage sized once
 * up front: a long context holds more codes than a JS array can (2^27 elements; KIVI at T = 131072
 * with 8 KV heads of 128 dims quantizes 2^27 keys alone).
 */
export class PackedCodes {
  readonly words: Uint32Array;
  /** log2 of codes per word, and the index of a code within its word. */
  private readonly wordShift: number;
  private readonly inWord: number;
  private readonly mask: number;

  constructor(
    readonly count: number,
    readonly bits: number,
  ) {
    // Indices are split with 32-bit integer operations.
    if (!(count < 2 ** 32)) throw new Error(`${count} codes: at most 2^32 - 1`);
    this.wordShift = Math.log2(32 / bits);
    this.inWord = 32 / bits - 1;
    this.mask = (1 << bits) - 1;
    this.words = new Uint32Array(Math.ceil(count / (32 / bits)));
  }

  /** Stores code `c` (0 ≤ c < 2^bits) at index `i`, which must not have been set before. */
  set(i: number, c: number): void {
    this.words[i >>> this.wordShift]! |= c << ((i & this.inWord) * this.bits);
  }

  get(i: number): number {
    return (this.words[i >>> this.wordShift]! >>> ((i & this.inWord) * this.bits)) & this.mask;
  }
}

/**
 * Quantizes the groups that `groups` emits (offset of the first element, stride, count) and returns
 * the dequantized tensor (elements outside every group are copied: the full-precision residual), the
 * packed codes and the bytes of codes, scales and mins. Codes are numbered in emission order. A first
 * pass counts groups and codes so that every array is allocated once, at its final size.
 */
export function quantizeGroups(src: Tensor, bits: number, groups: (emit: (offset: number, stride: number, count: number) => void) => void) {
  const x = src.data as Float32Array;
  const out = Float32Array.from(x);
  const levels = (1 << bits) - 1;
  let groupCount = 0;
  let codeCount = 0;
  groups((_offset, _stride, count) => {
    groupCount++;
    codeCount += count;
  });
  const codes = new PackedCodes(codeCount, bits);
  const scales = new Float32Array(groupCount);
  const mins = new Float32Array(groupCount);
  let n = 0;
  let g = 0;
  groups((offset, stride, count) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < count; i++) {
      const e = x[offset + i * stride]!;
      lo = Math.min(lo, e);
      hi = Math.max(hi, e);
    }
    const scale = Math.fround((hi - lo) / levels);
    const min = Math.fround(lo);
    scales[g] = scale;
    mins[g++] = min;
    for (let i = 0; i < count; i++) {
      const e = x[offset + i * stride]!;
      codes.set(n++, scale > 0 ? Math.min(levels, Math.max(0, Math.round((e - min) / scale))) : 0);
    }
  });
  // Dequantize from the packed words, in the same emission order.
  n = 0;
  g = 0;
  groups((offset, stride, count) => {
    for (let i = 0; i < count; i++) out[offset + i * stride] = codes.get(n++) * scales[g]! + mins[g]!;
    g++;
  });
  return { out: f32(src.shape, out, src.dims), packed: codes.words, scales, mins, bytes: codes.words.byteLength + scales.byteLength + mins.byteLength };
}

/** How far the dequantized cache is from the input: max |x̂ − x| and mean (x̂ − x)². */
function errors(name: string, a: Tensor, b: Tensor) {
  let maxAbs = 0;
  let sq = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!);
    maxAbs = Math.max(maxAbs, d);
    sq += d * d;
  }
  return { [`${name}MaxAbs`]: maxAbs, [`${name}Mse`]: a.data.length ? sq / a.data.length : 0 };
}
