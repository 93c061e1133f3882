// Absmax int8 (LLM.int8()'s vector-wise quantization without the outlier decomposition):
//   s = absmax/127, q = round(x/s) ∈ [−127, 127], x̂ = q·s,
// with one scale for the whole tensor or one per channel (per index along `channelAxis`, the max taken
// over every other axis). Codes are int8 stored as uint8 (two's complement: read them as Int8Array).
import { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import { tensor, type Tensor } from '../../engine/tensor.js';
import { tensorShape } from '../../engine/values.js';
import { checkAxis, fr, roundHalfEven, splitAxis, type Quantized, defineVariant } from './common.js';

const params = z.object({
  variant: z.literal('absmax-int8'),
  granularity: z.enum(['tensor', 'channel']).default('tensor').describe('one scale for the tensor, or one per channel'),
  channelAxis: z.number().int().default(-1).describe('channel granularity: one scale per index along this axis'),
});
type P = z.infer<typeof params>;

/** [outer, C, inner] around the channel axis; the whole tensor is one channel at tensor granularity. */
function channels(shape: readonly number[], p: P) {
  if (p.granularity === 'tensor') return { outer: 1, C: 1, inner: shape.reduce((a, b) => a * b, 1) };
  const s = splitAxis(shape, p.channelAxis, 'channelAxis');
  return { outer: s.outer, C: s.len, inner: s.inner };
}

export function absmaxReference(x: Tensor, p: P): Quantized {
  const { outer, C, inner } = channels(x.shape, p);
  const at = (o: number, c: number, i: number) => (o * C + c) * inner + i;
  const scales = new Float32Array(C);
  const out = new Float32Array(x.data.length);
  const q8 = new Int8Array(x.data.length);
  for (let c = 0; c < C; c++) {
    let m = 0;
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) m = Math.max(m, Math.abs(x.data[at(o, c, i)]!));
    const s = fr(m / 127);
    const safe = s > 0 ? s : 1;
    scales[c] = s;
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const e = at(o, c, i);
        const q = Math.min(127, Math.max(-127, roundHalfEven(fr(x.data[e]! / safe))));
        q8[e] = q;
        out[e] = fr(q * s);
      }
  }
  return { out, codes: tensor('uint8', [...x.shape], new Uint8Array(q8.buffer)), scales: tensor('float32', [C], scales) };
}

async function absmaxRun(tf: typeof tfc, x: Tensor, p: P): Promise<Quantized> {
  const { outer, C, inner } = channels(x.shape, p);
  const r = tf.tidy(() => {
    const X = tf.tensor3d(x.data as Float32Array, [outer, C, inner]);
    const s = tf.div(tf.max(tf.abs(X), [0, 2], true), 127);
    const q = tf.clipByValue(tf.round(tf.div(X, tf.where(tf.greater(s, 0), s, tf.onesLike(s)))), -127, 127);
    return { q: tf.cast(tf.reshape(q, [-1]), 'int32'), xhat: tf.reshape(tf.mul(q, s), [-1]), s: tf.reshape(s, [-1]) };
  });
  const [q, out, s] = await Promise.all([r.q.data(), r.xhat.data(), r.s.data()]);
  tf.dispose([r.q, r.xhat, r.s]);
  return {
    out: out as Float32Array,
    codes: tensor('uint8', [...x.shape], new Uint8Array(Int8Array.from(q as Int32Array).buffer)),
    scales: tensor('float32', [C], s as Float32Array),
  };
}

export const absmaxInt8 = defineVariant(params, {
  doc: {
    title: 'Absmax int8',
    summary: 'Symmetric int8 with scale absmax/127, per tensor or per channel (LLM.int8()\'s vector-wise quantization, without its fp16 outlier path).',
    formula: 's = max|x|/127, q = round(x/s) ∈ [−127, 127], x̂ = q·s',
    references: [{ title: 'LLM.int8(): 8-bit Matrix Multiplication for Transformers at Scale', year: 2022 }],
  },
  infer(shape, p) {
    const C = p.granularity === 'channel' ? (shape[checkAxis(shape, p.channelAxis, 'channelAxis')] ?? null) : 1;
    return { codes: tensorShape('uint8', [...shape]), scales: tensorShape('float32', [C], ['channels']) };
  },
  cost: (n) => ({ flops: 5 * n, workspaceBytes: 10 * n * 4, note: 'input, scaled, rounded, clipped codes and dequantized values on the backend' }),
  run: (ctx, x, p) => absmaxRun(ctx.tf, x, p),
  reference: absmaxReference,
});
