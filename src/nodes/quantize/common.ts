// What every quantizer shares: the variant contract, bit packing, rounding, axis handling, metrics.
import type { z } from 'zod';
import type { Cost, RunContext, VariantDoc } from '../../engine/node.js';
import { defineVariant as defineAnyVariant, type VariantSchema } from '../../engine/variants.js';
import { ShapeError } from '../../engine/node.js';
import type { Tensor } from '../../engine/tensor.js';
import type { PortShape } from '../../engine/values.js';

/** A quantizer's result: the dequantized values, the stored codes and, where it has them, scales. */
export interface Quantized {
  out: Float32Array;
  codes: Tensor;
  scales?: Tensor;
}

export interface QuantVariant<P = { variant: string } & Record<string, unknown>> {
  params: VariantSchema;
  doc: VariantDoc;
  /** Shapes of `codes` and `scales` for an input of this shape (dims may be unknown). */
  infer(shape: (number | null)[], p: P): { codes: PortShape; scales?: PortShape };
  cost(n: number, p: P): Cost;
  run(ctx: RunContext, x: Tensor, p: P): Promise<Quantized> | Quantized;
  reference(x: Tensor, p: P): Quantized;
}

/** Declares a quantize variant: `p` in its functions is typed by its params schema. */
export const defineVariant: <S extends VariantSchema>(params: S, impl: Omit<QuantVariant<z.output<S>>, 'params'>) => QuantVariant<z.output<S>> = defineAnyVariant;

/** Codes per uint32 word at `bits` bits each: 32/b, so 3-bit codes pack 10 per word (2 bits unused). */
export const codesPerWord = (bits: number) => Math.floor(32 / bits);

/** Packs unsigned codes into uint32 words, low bits first: code j of a word sits at bits [j·b, (j+1)·b). */
export function packCodes(codes: ArrayLike<number>, bits: number): Uint32Array {
  const per = codesPerWord(bits);
  const words = new Uint32Array(Math.ceil(codes.length / per));
  for (let i = 0; i < codes.length; i++) words[Math.floor(i / per)]! |= codes[i]! << ((i % per) * bits);
  return words;
}

export function unpackCodes(words: Uint32Array, bits: number, n: number): Uint32Array {
  const per = codesPerWord(bits);
  const mask = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = (words[Math.floor(i / per)]! >>> ((i % per) * bits)) & mask;
  return out;
}

/** Round half to even, as torch.round and tf.round do. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export const fr = Math.fround;

/** Splits a shape around `axis`: [outer, len, inner] with axis normalised (−1 is the last). */
export function splitAxis(shape: readonly number[], axis: number, param = 'axis') {
  const rank = shape.length;
  if (axis < -rank || axis >= rank) throw new ShapeError('in', `${param} ${axis} is out of range for a rank-${rank} input`);
  const a = axis < 0 ? rank + axis : axis;
  const prod = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);
  return { axis: a, outer: prod(shape.slice(0, a)), len: shape[a]!, inner: prod(shape.slice(a + 1)) };
}

export function checkAxis(shape: readonly (number | null)[], axis: number, param = 'axis'): number {
  const rank = shape.length;
  if (axis < -rank || axis >= rank) throw new ShapeError('in', `${param} ${axis} is out of range for a rank-${rank} input`);
  return axis < 0 ? rank + axis : axis;
}

export const known = (shape: readonly (number | null)[]): shape is number[] => shape.every((d) => d !== null);
export const numel = (shape: readonly (number | null)[]) => (known(shape) ? shape.reduce((a, b) => a * b, 1) : null);

/**
 * bytesBefore: the float32 input; bytesAfter: the codes and scales/zeros exactly as stored (whole
 * uint32 words for packed codes). sqnrDb = 10·log10(Σx² / Σ(x − x̂)²) (Infinity when exact).
 */
/** The metrics every quantize variant reports (declared on its output, so checks on them are validated before a run). */
export const QUANT_METRICS = ['bytesBefore', 'bytesAfter', 'ratio', 'bitsPerValue', 'mse', 'maxAbs', 'sqnrDb'] as const;

export function quantMetrics(x: Tensor, q: Quantized): Record<(typeof QUANT_METRICS)[number], number> {
  let se = 0;
  let sx = 0;
  let maxAbs = 0;
  const n = x.data.length;
  for (let i = 0; i < n; i++) {
    const v = x.data[i]!;
    const e = Math.abs(v - q.out[i]!);
    se += e * e;
    sx += v * v;
    if (e > maxAbs || Number.isNaN(e)) maxAbs = e;
  }
  const bytesBefore = n * 4;
  const bytesAfter = q.codes.data.byteLength + (q.scales?.data.byteLength ?? 0);
  return {
    bytesBefore,
    bytesAfter,
    ratio: bytesBefore / bytesAfter,
    bitsPerValue: n ? (8 * bytesAfter) / n : 0,
    mse: n ? se / n : 0,
    maxAbs,
    sqnrDb: se === 0 ? Infinity : 10 * Math.log10(sx / se),
  };
}

/** Reads a backend tensor into a host array and disposes it. */
export async function take<T extends Float32Array | Int32Array>(t: { data(): Promise<unknown>; dispose(): void }): Promise<T> {
  const d = (await t.data()) as T;
  t.dispose();
  return d;
}
