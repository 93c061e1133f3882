// NumPy .npy (format 1.0/2.0) reading and writing: little-endian, C order. Written files load in numpy.
import { tensor, type DType, type Tensor } from '../tensor.js';

const DESCR: Record<DType, string> = { float32: '<f4', int32: '<i4', uint8: '|u1', uint32: '<u4' };
const FROM_DESCR: Record<string, DType> = { '<f4': 'float32', '<i4': 'int32', '|u1': 'uint8', '<u1': 'uint8', '<u4': 'uint32' };

export function encodeNpy(t: Tensor): Uint8Array {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${DESCR[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Magic (6) + version (2) + header length (2) + header + '\n', padded to a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + t.data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), total);
  return out;
}

/** What a .npy header says: the dtype it loads as (float64 → float32, int64 → int32) and the shape. */
export function readNpyHeader(bytes: Uint8Array, name = 'file'): { descr: string; dtype: DType | undefined; shape: number[]; dataStart: number } {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw new Error(`${name} is not a .npy file (bad magic)`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`${name}: cannot parse the .npy header "${header.trim()}"`);
  if (fortran === 'True') throw new Error(`${name}: Fortran-order arrays are not supported; save with np.ascontiguousarray`);
  const dtype = descr === '<f8' ? 'float32' : descr === '<i8' ? 'int32' : FROM_DESCR[descr];
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  return { descr, dtype, shape, dataStart: start + headerLen };
}

export function decodeNpy(bytes: Uint8Array, name = 'file'): Tensor {
  const { descr, dtype, shape, dataStart } = readNpyHeader(bytes, name);
  const n = shape.reduce((a, b) => a * b, 1);
  // A copy that owns its buffer (Node Buffers are views into a shared pool, and .slice() does not copy them).
  const raw = Uint8Array.prototype.slice.call(bytes, dataStart);
  if (descr === '<f8') {
    // float64 arrives as float32: attention tensors here are f32.
    const src = new Float64Array(raw.buffer, 0, n);
    return tensor('float32', shape, Float32Array.from(src));
  }
  if (descr === '<i8') {
    const src = new BigInt64Array(raw.buffer, 0, n);
    return tensor('int32', shape, Int32Array.from(src, (b) => Number(b)));
  }
  if (!dtype) throw new Error(`${name}: dtype ${descr} is not supported (use float32, float64, int32, int64, uint8 or uint32)`);
  const bpe = dtype === 'uint8' ? 1 : 4;
  if (raw.byteLength < n * bpe) throw new Error(`${name}: truncated: shape (${shape.join(', ')}) needs ${n * bpe} bytes, file has ${raw.byteLength}`);
  const buf = raw.buffer.slice(0, n * bpe);
  const data = dtype === 'float32' ? new Float32Array(buf) : dtype === 'int32' ? new Int32Array(buf) : dtype === 'uint32' ? new Uint32Array(buf) : new Uint8Array(buf);
  return tensor(dtype, shape, data);
}
