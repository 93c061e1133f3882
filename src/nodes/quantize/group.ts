// Group-wise integer quantization: groups of `groupSize` consecutive elements along `axis`, each with
// its own scale (and zero point when asymmetric). The last group of a row may be shorter.
//   asymmetric: s = (max − min)/(2^b − 1), q = clamp(round((x − min)/s), 0, 2^b − 1), x̂ = q·s + min
//   symmetric:  s = absmax/(2^(b−1) − 1), q = clamp(round(x/s), −(2^(b−1) − 1), 2^(b−1) − 1), x̂ = q·s,
//               stored as q + 2^(b−1) (offset binary)
// round is half-to-even (torch.round). Codes are packed 32/b per uint32 word, low bits first, in the
// input's element order (3-bit codes: 10 per word, 2 bits unused). Scales (and mins) are float32.
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { tensor, type Tensor } from '../../engine/tensor.js';
import { tensorShape } from '../../engine/values.js';
import type { RunContext } from '../../engine/node.js';
import { KernelUnsupported, webgpuBackendOf } from '../../kernels/webgpu/attention.js';
import { axisLayout } from '../../kernels/quantize-layout.js';
import { groupQuantizeWasm, wasmQuantizeUnavailable } from '../../kernels/wasm/quantize.js';
import { groupQuantizeWebGPU } from '../../kernels/webgpu/quantize.js';
import { checkAxis, codesPerWord, fr, known, numel, packCodes, roundHalfEven, splitAxis, take, type Quantized, defineVariant } from './common.js';

const params = z.object({
  variant: z.literal('group'),
  bits: z.union([z.literal(2), z.literal(3), z.literal(4), z.literal(8)]).default(4).describe('bits per code'),
  groupSize: z.union([z.literal(32), z.literal(64), z.literal(128)]).default(64).describe('consecutive elements along `axis` sharing a scale'),
  axis: z.number().int().default(-1).describe('the axis groups run along (−1: the last)'),
  symmetric: z.boolean().default(false).describe('absmax with a signed range and no zero point, instead of min-max'),
});
type P = z.infer<typeof params>;

/** Group layout: F = outer·inner rows of `len` elements, nG groups per row. */
function layout(shape: readonly number[], p: P) {
  const s = splitAxis(shape, p.axis);
  const nFull = Math.floor(s.len / p.groupSize);
  const rem = s.len - nFull * p.groupSize;
  return { ...s, F: s.outer * s.inner, nFull, rem, nG: nFull + (rem > 0 ? 1 : 0) };
}

const scalesShape = (F: number | null, nG: number | null, sym: boolean) => (sym ? [F, nG] : [F, nG, 2]);
const levels = (p: P) => (p.symmetric ? 2 ** (p.bits - 1) - 1 : 2 ** p.bits - 1);

/** Element index in the input of (row f, position j along the axis). */
const elementIndex = (f: number, j: number, l: ReturnType<typeof layout>) => {
  const o = Math.floor(f / l.inner);
  const i = f % l.inner;
  return (o * l.len + j) * l.inner + i;
};

export function groupReference(x: Tensor, p: P): Quantized {
  const l = layout(x.shape, p);
  const L = levels(p);
  const out = new Float32Array(x.data.length);
  const codes = new Uint32Array(x.data.length);
  const scales = new Float32Array(l.F * l.nG * (p.symmetric ? 1 : 2));
  for (let f = 0; f < l.F; f++)
    for (let g = 0; g < l.nG; g++) {
      const j0 = g * p.groupSize;
      const j1 = Math.min(l.len, j0 + p.groupSize);
      let mn = Infinity;
      let mx = -Infinity;
      for (let j = j0; j < j1; j++) {
        const v = x.data[elementIndex(f, j, l)]!;
        if (p.symmetric) mx = Math.max(mx, Math.abs(v));
        else {
          mn = Math.min(mn, v);
          mx = Math.max(mx, v);
        }
      }
      // float32 at every step, in the order the backend computes it.
      const s = p.symmetric ? fr(mx / L) : fr(fr(mx - mn) / L);
      const safe = s > 0 ? s : 1;
      const gi = f * l.nG + g;
      if (p.symmetric) scales[gi] = s;
      else {
        scales[2 * gi] = s;
        scales[2 * gi + 1] = mn;
      }
      for (let j = j0; j < j1; j++) {
        const e = elementIndex(f, j, l);
        const v = x.data[e]!;
        if (p.symmetric) {
          const q = Math.min(L, Math.max(-L, roundHalfEven(fr(v / safe))));
          out[e] = fr(q * s);
          codes[e] = q + L + 1;
        } else {
          const q = Math.min(L, Math.max(0, roundHalfEven(fr(fr(v - mn) / safe))));
          out[e] = fr(fr(q * s) + mn);
          codes[e] = q;
        }
      }
    }
  return {
    out,
    codes: tensor('uint32', [Math.ceil(x.data.length / codesPerWord(p.bits))], packCodes(codes, p.bits)),
    scales: tensor('float32', scalesShape(l.F, l.nG, p.symmetric) as number[], scales),
  };
}

/** Quantizes rows of equal-size groups [rows, size] on the backend. */
function quantizeGroups(tf: typeof tfc, g: tfc.Tensor2D, p: P) {
  return tf.tidy(() => {
    const L = levels(p);
    if (p.symmetric) {
      const s = tf.div(tf.max(tf.abs(g), 1, true), L);
      const q = tf.clipByValue(tf.round(tf.div(g, tf.where(tf.greater(s, 0), s, tf.onesLike(s)))), -L, L);
      return { q: tf.add(q, L + 1), xhat: tf.mul(q, s), scale: s };
    }
    const mn = tf.min(g, 1, true);
    const s = tf.div(tf.sub(tf.max(g, 1, true), mn), L);
    const q = tf.clipByValue(tf.round(tf.div(tf.sub(g, mn), tf.where(tf.greater(s, 0), s, tf.onesLike(s)))), 0, L);
    return { q, xhat: tf.add(tf.mul(q, s), mn), scale: tf.concat([s, mn], 1) };
  });
}

async function groupRun(tf: typeof tfc, x: Tensor, p: P): Promise<Quantized> {
  const l = layout(x.shape, p);
  const r = tf.tidy(() => {
    // [outer, len, inner] → rows [F, len] with the grouping axis last.
    let rows = tf.tensor3d(x.data as Float32Array, [l.outer, l.len, l.inner]);
    if (l.inner > 1) rows = tf.transpose(rows, [0, 2, 1]);
    const X = tf.reshape(rows, [l.F, l.len]) as tfc.Tensor2D;
    const parts: { q: tfc.Tensor; xhat: tfc.Tensor; scale: tfc.Tensor }[] = [];
    if (l.nFull > 0) {
      const full = quantizeGroups(tf, tf.reshape(tf.slice(X, [0, 0], [l.F, l.nFull * p.groupSize]), [l.F * l.nFull, p.groupSize]), p);
      parts.push({ q: tf.reshape(full.q, [l.F, -1]), xhat: tf.reshape(full.xhat, [l.F, -1]), scale: tf.reshape(full.scale, [l.F, l.nFull, -1]) });
    }
    if (l.rem > 0) {
      const tail = quantizeGroups(tf, tf.slice(X, [0, l.nFull * p.groupSize], [l.F, l.rem]), p);
      parts.push({ q: tail.q, xhat: tail.xhat, scale: tf.reshape(tail.scale, [l.F, 1, -1]) });
    }
    const cat = (k: 'q' | 'xhat', axis: number) => (parts.length === 1 ? parts[0]![k] : tf.concat(parts.map((x) => x[k]), axis));
    // Back to the input's layout.
    const back = (t: tfc.Tensor) => {
      const r3 = tf.reshape(t, l.inner > 1 ? [l.outer, l.inner, l.len] : [l.outer, l.len, 1]);
      return tf.reshape(l.inner > 1 ? tf.transpose(r3, [0, 2, 1]) : r3, [-1]);
    };
    const scale = parts.length === 1 ? parts[0]!.scale : tf.concat(parts.map((x) => x.scale), 1);
    return { q: tf.cast(back(cat('q', 1)), 'int32'), xhat: back(cat('xhat', 1)), scale: tf.reshape(scale, [-1]) };
  });
  const [q, out, scales] = await Promise.all([r.q.data(), r.xhat.data(), r.scale.data()]);
  tf.dispose([r.q, r.xhat, r.scale]);
  return {
    out: out as Float32Array,
    codes: tensor('uint32', [Math.ceil(x.data.length / codesPerWord(p.bits))], packCodes(q as Int32Array, p.bits)),
    scales: tensor('float32', scalesShape(l.F, l.nG, p.symmetric) as number[], scales as Float32Array),
  };
}

/**
 * webgpu: the WGSL kernel (quantize, pack and dequantize in one pass per group, one read at the end).
 * When it cannot run here the tfjs composition runs and the reason goes to ctx.fallback.
 */
async function groupRunWebGPU(ctx: RunContext, x: Tensor, p: P): Promise<Quantized> {
  const { tf } = ctx;
  const l = layout(x.shape, p);
  let reason: string;
  if (webgpuBackendOf(tf) === undefined) reason = `tfjs's webgpu backend is not active (${tf.getBackend()})`;
  else {
    const xt = tf.tensor1d(x.data as Float32Array);
    try {
      const r = await groupQuantizeWebGPU(tf, xt, axisLayout(l.outer, l.len, l.inner, p.groupSize), {
        bits: p.bits,
        symmetric: p.symmetric,
        tick: (f) => (ctx.checkCancelled(), ctx.progress(f)),
      });
      ctx.gpuTime?.(r.gpu);
      const [out, words, scales] = await Promise.all([take<Float32Array>(r.out), take<Int32Array>(r.codes), take<Float32Array>(r.scales)]);
      const nWords = Math.ceil(x.data.length / codesPerWord(p.bits));
      return {
        out,
        codes: tensor('uint32', [nWords], new Uint32Array(words.buffer, words.byteOffset, nWords)),
        scales: tensor('float32', scalesShape(l.F, l.nG, p.symmetric) as number[], scales.subarray(0, l.F * l.nG * (p.symmetric ? 1 : 2))),
      };
    } catch (err) {
      if (!(err instanceof KernelUnsupported)) throw err;
      reason = err.message;
    } finally {
      xt.dispose();
    }
  }
  ctx.fallback?.(`WGSL group quantize → tfjs group quantize: ${reason}`);
  return groupRun(tf, x, p);
}

/** wasm: the C kernel (quantize.c), bit-identical to the reference; the tfjs composition when it cannot start, with the reason. */
async function groupRunWasm(ctx: RunContext, x: Tensor, p: P): Promise<Quantized> {
  const why = wasmQuantizeUnavailable();
  if (why) {
    ctx.fallback?.(`wasm group quantize → tfjs group quantize: ${why}`);
    return groupRun(ctx.tf, x, p);
  }
  const l = layout(x.shape, p);
  const r = await groupQuantizeWasm(x.data as Float32Array, axisLayout(l.outer, l.len, l.inner, p.groupSize), {
    bits: p.bits,
    symmetric: p.symmetric,
    tick: (f) => (ctx.checkCancelled(), ctx.progress(f)),
    fallback: (why) => ctx.fallback?.(why),
  });
  ctx.track(r.bytes);
  ctx.release(r.bytes);
  return {
    out: r.out,
    codes: tensor('uint32', [r.codes.length], r.codes),
    scales: tensor('float32', scalesShape(l.F, l.nG, p.symmetric) as number[], r.scales),
  };
}

export const group = defineVariant(params, {
  doc: {
    title: 'Group-wise intN (2/3/4/8-bit)',
    summary:
      'Groups of groupSize consecutive values along an axis, each with a float32 scale (and min, when asymmetric); codes packed 32/b per uint32, low bits first (3-bit: 10 per word).',
    formula: 's = (max − min)/(2^b − 1), q = clamp(round((x − min)/s), 0, 2^b − 1), x̂ = q·s + min; symmetric: s = absmax/(2^(b−1) − 1), x̂ = q·s',
    references: [
      { title: 'KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache', year: 2024 },
      { title: 'GPTQ: Accurate Post-Training Quantization for Generative Pre-trained Transformers', year: 2022 },
    ],
  },
  infer(shape, p) {
    const a = checkAxis(shape, p.axis);
    const len = shape[a] ?? null;
    const rest = shape.filter((_, i) => i !== a);
    const F = known(rest) ? rest.reduce((x, y) => x * y, 1) : null;
    const nG = len === null ? null : Math.ceil(len / p.groupSize);
    const n = numel(shape);
    return {
      codes: tensorShape('uint32', [n === null ? null : Math.ceil(n / codesPerWord(p.bits))], ['words']),
      scales: tensorShape('float32', scalesShape(F, nG, p.symmetric), p.symmetric ? ['rows', 'groups'] : ['rows', 'groups', 'scaleMin']),
    };
  },
  cost: (n, p) => ({
    flops: 8 * n,
    // Backend temporaries of the input's size (rows, shifted, quotient, rounded, clipped codes,
    // dequantized values, errors: about 14 live at the peak, measured) and the per-group scales.
    workspaceBytes: 14 * n * 4 + (n / p.groupSize) * 8,
    note: `${n} values in groups of ${p.groupSize}`,
  }),
  // The kernels on webgpu and wasm; the tfjs composition on cpu (the reference backend).
  run: (ctx, x, p) => (ctx.backend === 'webgpu' ? groupRunWebGPU(ctx, x, p) : ctx.backend === 'wasm' ? groupRunWasm(ctx, x, p) : groupRun(ctx.tf, x, p)),
  reference: groupReference,
});
