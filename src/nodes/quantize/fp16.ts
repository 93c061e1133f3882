// IEEE half precision: 1 sign, 5 exponent, 10 mantissa bits, round to nearest even. Bit manipulation
// on the host (tfjs has no float16 dtype), so run() and the reference share the conversion.
import { z } from 'zod';
import { tensor, type Tensor } from '../../engine/tensor.js';
import { tensorShape } from '../../engine/values.js';
import { numel, packCodes, type Quantized, defineVariant } from './common.js';
import { fromHalfBits, toHalfBits } from './half.js';

const params = z.object({ variant: z.literal('fp16') });

/** Rounds through a 16-bit format; codes pack 2 per uint32, low half first. */
export function via16(x: Tensor, to: (v: number) => number, from: (h: number) => number): Quantized {
  const n = x.data.length;
  const bits = new Uint16Array(n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    bits[i] = to(x.data[i]!);
    out[i] = from(bits[i]!);
  }
  return { out, codes: tensor('uint32', [Math.ceil(n / 2)], packCodes(bits, 16)) };
}

export const codes16 = (shape: (number | null)[]) => {
  const n = numel(shape);
  return { codes: tensorShape('uint32', [n === null ? null : Math.ceil(n / 2)], ['words']) };
};

export const fp16 = defineVariant(params, {
  doc: {
    title: 'float16 (IEEE half)',
    summary: 'Rounds each value to IEEE binary16, nearest even: 10 mantissa bits, range ±65504 (larger values become ±Inf), subnormals down to 2^−24.',
    formula: 'x̂ = RNE(x) in binary16; codes are the 16-bit patterns, 2 per uint32 (low half first)',
    references: [{ title: 'IEEE Standard for Floating-Point Arithmetic (IEEE 754-2008)', year: 2008 }],
  },
  infer: (shape) => codes16(shape),
  cost: (n) => ({ flops: 4 * n, workspaceBytes: 2 * n, note: '16-bit patterns before packing' }),
  run: (_ctx, x) => via16(x, toHalfBits, fromHalfBits),
  reference: (x) => via16(x, toHalfBits, fromHalfBits),
});
