// bfloat16: float32's sign and 8-bit exponent with 7 mantissa bits, round to nearest even. Host-side
// bit manipulation (tfjs has no bfloat16 dtype), shared by run() and the reference.
import { z } from 'zod';
import { defineVariant } from './common.js';
import { codes16, via16 } from './fp16.js';
import { fromBf16Bits, toBf16Bits } from './half.js';

const params = z.object({ variant: z.literal('bf16') });

export const bf16 = defineVariant(params, {
  doc: {
    title: 'bfloat16',
    summary: 'Keeps the top 16 bits of float32, rounded to nearest even: float32\'s range with 7 mantissa bits (about 3 significant digits).',
    formula: 'x̂ = RNE(x) in bfloat16 = (bits + 0x7FFF + bit16) >> 16; codes 2 per uint32 (low half first)',
    references: [{ title: 'A Study of BFLOAT16 for Deep Learning Training', year: 2019 }],
  },
  infer: (shape) => codes16(shape),
  cost: (n) => ({ flops: 4 * n, workspaceBytes: 2 * n, note: '16-bit patterns before packing' }),
  run: (_ctx, x) => via16(x, toBf16Bits, fromBf16Bits),
  reference: (x) => via16(x, toBf16Bits, fromBf16Bits),
});
