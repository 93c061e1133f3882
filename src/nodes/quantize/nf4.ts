// QLoRA's NormalFloat4: blocks of `blockSize` consecutive values (flattened order) scaled by their
// absmax into [−1, 1], each mapped to the nearest of 16 levels — quantiles of N(0, 1) normalised to
// [−1, 1], with an exact zero. Codes pack 8 per uint32, low bits first (bitsandbytes packs 2 per byte,
// first value in the high nibble; the levels and the nearest-level rule are the same). Absmax is float32.
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { tensor, type Tensor } from '../../engine/tensor.js';
import { tensorShape } from '../../engine/values.js';
import { fr, numel, packCodes, type Quantized, defineVariant } from './common.js';

/** The NF4 levels of QLoRA (Dettmers et al. 2023, appendix E), as in bitsandbytes. */
export const NF4_LEVELS = [
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
];
const LEVELS32 = Float32Array.from(NF4_LEVELS);
/** Decision thresholds: a normalised value above midpoint k maps to level k + 1 or higher. */
const MIDS32 = Float32Array.from({ length: 15 }, (_, k) => (NF4_LEVELS[k]! + NF4_LEVELS[k + 1]!) / 2);

const params = z.object({
  variant: z.literal('nf4'),
  blockSize: z.number().int().min(16).max(4096).default(64).describe('consecutive values sharing one absmax'),
});
type P = z.infer<typeof params>;

const blocks = (n: number, p: P) => Math.ceil(n / p.blockSize);

function levelIndex(xn: number): number {
  let q = 0;
  for (let k = 0; k < 15; k++) if (xn > MIDS32[k]!) q = k + 1;
  return q;
}

export function nf4Reference(x: Tensor, p: P): Quantized {
  const n = x.data.length;
  const nb = blocks(n, p);
  const out = new Float32Array(n);
  const codes = new Uint8Array(n);
  const absmax = new Float32Array(nb);
  for (let b = 0; b < nb; b++) {
    const i0 = b * p.blockSize;
    const i1 = Math.min(n, i0 + p.blockSize);
    let m = 0;
    for (let i = i0; i < i1; i++) m = Math.max(m, Math.abs(x.data[i]!));
    absmax[b] = m;
    const safe = m > 0 ? m : 1;
    for (let i = i0; i < i1; i++) {
      const q = levelIndex(fr(x.data[i]! / safe));
      codes[i] = q;
      out[i] = fr(LEVELS32[q]! * m);
    }
  }
  return { out, codes: tensor('uint32', [Math.ceil(n / 8)], packCodes(codes, 4)), scales: tensor('float32', [nb], absmax) };
}

async function nf4Run(tf: typeof tfc, x: Tensor, p: P): Promise<Quantized> {
  const n = x.data.length;
  const nb = blocks(n, p);
  const r = tf.tidy(() => {
    // Zero padding leaves every block's absmax unchanged; the padded tail is dropped below.
    const flat = tf.pad(tf.tensor1d(x.data as Float32Array), [[0, nb * p.blockSize - n]]);
    const X = tf.reshape(flat, [nb, p.blockSize]);
    const absmax = tf.max(tf.abs(X), 1, true);
    const xn = tf.div(X, tf.where(tf.greater(absmax, 0), absmax, tf.onesLike(absmax)));
    // Index of the nearest level = how many thresholds lie below the value.
    const q = tf.sum(tf.cast(tf.greater(tf.expandDims(xn, 2), tf.tensor1d(MIDS32)), 'int32'), 2);
    const xhat = tf.mul(tf.gather(tf.tensor1d(LEVELS32), q), absmax);
    const first = (t: tfc.Tensor) => tf.slice(tf.reshape(t, [-1]), [0], [n]);
    return { q: first(q), xhat: first(xhat), absmax: tf.reshape(absmax, [-1]) };
  });
  const [q, out, absmax] = await Promise.all([r.q.data(), r.xhat.data(), r.absmax.data()]);
  tf.dispose([r.q, r.xhat, r.absmax]);
  return {
    out: out as Float32Array,
    codes: tensor('uint32', [Math.ceil(n / 8)], packCodes(q as Int32Array, 4)),
    scales: tensor('float32', [nb], absmax as Float32Array),
  };
}

export const nf4 = defineVariant(params, {
  doc: {
    title: 'NF4 (QLoRA NormalFloat)',
    summary:
      '4-bit NormalFloat: per block of blockSize values, divide by the absmax and round to the nearest of 16 levels that are quantiles of a standard normal (information-theoretically optimal for normally distributed weights).',
    formula: 'c = absmax(block); q = argmin_k |x/c − NF4[k]|; x̂ = NF4[q]·c',
    references: [{ title: 'QLoRA: Efficient Finetuning of Quantized LLMs', year: 2023 }],
  },
  infer(shape, p) {
    const n = numel(shape);
    return {
      codes: tensorShape('uint32', [n === null ? null : Math.ceil(n / 8)], ['words']),
      scales: tensorShape('float32', [n === null ? null : blocks(n, p)], ['blocks']),
    };
  },
  // Per value: abs, max, divide, 15 comparisons and their sum, gather, multiply.
  cost: (n, p) => ({ flops: 36 * n, workspaceBytes: 33 * n * 4, note: `15 threshold comparisons per value (each a tensor the size of the input), blocks of ${p.blockSize}` }),
  run: (ctx, x, p) => nf4Run(ctx.tf, x, p),
  reference: nf4Reference,
});
