// Host-side tensors: the values that flow along `tensor` edges. Plain typed arrays in C order,
// so they cross worker boundaries as transferables and write straight to .npy.

export type DType = 'float32' | 'int32' | 'uint8' | 'uint32';

export type TypedArray = Float32Array | Int32Array | Uint8Array | Uint32Array;

export interface Tensor {
  kind: 'tensor';
  dtype: DType;
  shape: number[];
  /** Names of the dimensions, e.g. ['H', 'T', 'D'], when the producer knows them. */
  dims?: string[];
  data: TypedArray;
}

const ctors = { float32: Float32Array, int32: Int32Array, uint8: Uint8Array, uint32: Uint32Array } as const;

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function allocArray(dtype: DType, length: number): TypedArray {
  return new ctors[dtype](length);
}

export function tensor(dtype: DType, shape: number[], data?: TypedArray | ArrayLike<number>, dims?: string[]): Tensor {
  const n = sizeOf(shape);
  let arr: TypedArray;
  if (data === undefined) arr = allocArray(dtype, n);
  else if (data instanceof ctors[dtype]) arr = data as TypedArray;
  else arr = ctors[dtype].from(data as ArrayLike<number>);
  if (arr.length !== n) throw new Error(`tensor data has ${arr.length} elements but shape [${shape.join(', ')}] needs ${n}`);
  return dims ? { kind: 'tensor', dtype, shape, dims, data: arr } : { kind: 'tensor', dtype, shape, data: arr };
}

export const f32 = (shape: number[], data?: Float32Array | ArrayLike<number>, dims?: string[]) =>
  tensor('float32', shape, data, dims);
export const i32 = (shape: number[], data?: Int32Array | ArrayLike<number>, dims?: string[]) => tensor('int32', shape, data, dims);

/** Drops a leading batch dimension of 1: attention tensors are [H, T, D], [1, H, T, D] is accepted. */
export function squeezeBatch(t: Tensor, rank: number): Tensor {
  if (t.shape.length === rank + 1 && t.shape[0] === 1) {
    return { ...t, shape: t.shape.slice(1), dims: t.dims?.slice(1) };
  }
  return t;
}

export function formatShape(shape: readonly (number | null)[], dtype?: DType): string {
  const s = shape.map((d) => (d === null ? '?' : String(d))).join('×');
  return dtype ? `${s} ${dtypeShort(dtype)}` : s;
}

export function dtypeShort(dtype: DType): string {
  return { float32: 'f32', int32: 'i32', uint8: 'u8', uint32: 'u32' }[dtype];
}
