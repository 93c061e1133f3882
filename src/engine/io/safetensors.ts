// safetensors (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then the tensor bytes,
// offsets relative to the end of the header. Reads are lazy: the header first, then only the byte
// range of each tensor asked for, so one layer of a 1 GB file costs one layer's bytes. Every offset
// is checked against the file's size before anything is read. Sharded checkpoints add
// `model.safetensors.index.json` (`weight_map`: tensor name → shard file).
import type { RandomAccessFile } from '../node.js';
import { tensor, type Tensor } from '../tensor.js';

export type { RandomAccessFile };

/** Bytes per element of every dtype the format defines; only F32, F16 and BF16 can be read as float32. */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
  F8_E4M3: 1, F8_E5M2: 1,
};
export const READABLE_DTYPES = ['F32', 'F16', 'BF16'] as const;
export type FloatDType = (typeof READABLE_DTYPES)[number];

/** The format's own limit on the header (100 MB): a larger length is a corrupt or hostile file. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte range in the file, end exclusive. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  file: string;
  /** Where the tensor bytes start: 8 + N. */
  dataStart: number;
  entries: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** The header length N from the first 8 bytes, checked against the file size when known. */
export function headerLength(first8: Uint8Array, file: string, fileSize?: number): number {
  if (first8.length < 8) throw new SafetensorsError(`${file}: truncated: ${first8.length} bytes, a safetensors file starts with an 8-byte header length`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`${file}: header length ${n} is over the format's limit of ${MAX_HEADER_BYTES} bytes (not a safetensors file?)`);
  const len = Number(n);
  if (fileSize !== undefined && 8 + len > fileSize)
    throw new SafetensorsError(`${file}: header length ${len} overruns the file (${fileSize} bytes): truncated or corrupt`);
  return len;
}

/**
 * Parses and validates a header: `headerBytes` are the N JSON bytes. Checks each tensor's dtype,
 * shape and offsets (dtype size × elements = byte length, inside the file, no two ranges
 * overlapping); errors name the file and the tensor.
 */
export function parseHeader(headerBytes: Uint8Array, file: string, fileSize: number): SafetensorsHeader {
  const dataStart = 8 + headerBytes.length;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (err) {
    throw new SafetensorsError(`${file}: the header is not valid JSON: ${(err as Error).message}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new SafetensorsError(`${file}: the header is not a JSON object`);
  const entries = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw && typeof raw === 'object' && !Array.isArray(raw)) metadata = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]));
      continue;
    }
    const at = `${file}: tensor "${name}"`;
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e !== 'object') throw new SafetensorsError(`${at}: entry is not an object`);
    if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_BYTES))
      throw new SafetensorsError(`${at}: unknown dtype ${JSON.stringify(e.dtype)} (the format defines ${Object.keys(DTYPE_BYTES).join(', ')})`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new SafetensorsError(`${at}: shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new SafetensorsError(`${at}: data_offsets ${JSON.stringify(off)} is not [begin, end]`);
    const [b, en] = off as [number, number];
    if (en < b) throw new SafetensorsError(`${at}: data_offsets [${b}, ${en}] end before they begin`);
    const elements = (e.shape as number[]).reduce((a, d) => a * d, 1);
    const need = elements * DTYPE_BYTES[e.dtype]!;
    if (need !== en - b)
      throw new SafetensorsError(`${at}: ${e.dtype} [${(e.shape as number[]).join(', ')}] needs ${need} bytes but data_offsets [${b}, ${en}] hold ${en - b}`);
    if (dataStart + en > fileSize)
      throw new SafetensorsError(`${at}: data_offsets [${b}, ${en}] overrun the file: the data section has ${fileSize - dataStart} bytes`);
    entries.set(name, { name, dtype: e.dtype, shape: e.shape as number[], begin: dataStart + b, end: dataStart + en });
  }
  // No two tensors may share bytes (an overlap is a corrupt or crafted file).
  const sorted = [...entries.values()].filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]!.begin < sorted[i - 1]!.end)
      throw new SafetensorsError(`${file}: tensors "${sorted[i - 1]!.name}" and "${sorted[i]!.name}" overlap (byte ranges [${sorted[i - 1]!.begin}, ${sorted[i - 1]!.end}) and [${sorted[i]!.begin}, ${sorted[i]!.end}))`);
  return { file, dataStart, entries, metadata };
}

/** Reads and validates the header of a file: two small reads, never past its size. */
export async function readHeader(f: RandomAccessFile, file: string): Promise<SafetensorsHeader> {
  if (f.size < 8) throw new SafetensorsError(`${file}: truncated: ${f.size} bytes, a safetensors file starts with an 8-byte header length`);
  const n = headerLength(await f.read(0, 8), file, f.size);
  return parseHeader(await f.read(8, n), file, f.size);
}

/** A header from a file's first bytes (e.g. a 64 KiB head read before compiling), or undefined when they do not hold it all. */
export function headerFromHead(head: Uint8Array, file: string, fileSize = Infinity): SafetensorsHeader | undefined {
  const n = headerLength(head, file, Number.isFinite(fileSize) ? fileSize : undefined);
  if (8 + n > head.length) return undefined;
  return parseHeader(head.subarray(8, 8 + n), file, fileSize);
}

/** float32 from IEEE half (F16) bits. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Decodes raw little-endian bytes of a float dtype into float32. */
export function decodeFloats(bytes: Uint8Array, dtype: FloatDType, n: number): Float32Array {
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F32') for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  else if (dtype === 'BF16') {
    // bf16 is the top half of a float32.
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = view.getUint16(2 * i, true) << 16;
  } else {
    const table = halfTable();
    for (let i = 0; i < n; i++) out[i] = table[view.getUint16(2 * i, true)]!;
  }
  return out;
}

let half: Float32Array | undefined;
const halfTable = () => (half ??= Float32Array.from({ length: 65536 }, (_, h) => halfToFloat(h)));

/** float32 → bf16 bits, rounding to nearest even (as torch does); NaN stays NaN. */
export function floatToBf16(x: number): number {
  const u = new Uint32Array(new Float32Array([x]).buffer)[0]!;
  if ((u & 0x7fffffff) > 0x7f800000) return (u >>> 16) | 0x40;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 → IEEE half bits, rounding to nearest even; overflow to ±Infinity. */
export function floatToHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: shift the implicit bit in, round to nearest even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rem > mid || (rem === mid && half & 1) ? 1 : 0));
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** Reads one tensor as float32: only its byte range. */
export async function readTensor(f: RandomAccessFile, header: SafetensorsHeader, name: string): Promise<Tensor> {
  const e = header.entries.get(name);
  if (!e) throw new SafetensorsError(`${header.file}: no tensor "${name}"`);
  if (!(READABLE_DTYPES as readonly string[]).includes(e.dtype))
    throw new SafetensorsError(`${header.file}: tensor "${name}" is ${e.dtype}; only ${READABLE_DTYPES.join(', ')} can be read`);
  if (e.end > f.size) throw new SafetensorsError(`${header.file}: tensor "${name}" ends at byte ${e.end}, past the end of the file (${f.size})`);
  const n = e.shape.reduce((a, d) => a * d, 1);
  const bytes = await f.read(e.begin, e.end - e.begin);
  return tensor('float32', e.shape, decodeFloats(bytes, e.dtype as FloatDType, n));
}

/** A tensor to write: float32 data stored as `dtype` (default F32). */
export interface TensorToWrite {
  shape: number[];
  data: Float32Array;
  dtype?: FloatDType;
}

/** Encodes tensors as one safetensors file (names sorted, header padded to 8 bytes). */
export function encodeSafetensors(tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    const n = t.shape.reduce((a, d) => a * d, 1);
    if (n !== t.data.length) throw new Error(`tensor "${name}": shape [${t.shape.join(', ')}] needs ${n} values, got ${t.data.length}`);
    const dtype = t.dtype ?? 'F32';
    const bytes = n * DTYPE_BYTES[dtype]!;
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  const pad = (8 - ((8 + enc.encode(json).length) % 8)) % 8;
  json += ' '.repeat(pad);
  const hb = enc.encode(json);
  const out = new Uint8Array(8 + hb.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let at = 8 + hb.length;
  for (const name of names) {
    const t = tensors[name]!;
    const dtype = t.dtype ?? 'F32';
    for (let i = 0; i < t.data.length; i++) {
      if (dtype === 'F32') view.setFloat32(at + 4 * i, t.data[i]!, true);
      else view.setUint16(at + 2 * i, dtype === 'BF16' ? floatToBf16(t.data[i]!) : floatToHalf(t.data[i]!), true);
    }
    at += t.data.length * DTYPE_BYTES[dtype]!;
  }
  return out;
}

/** A RandomAccessFile over bytes already in memory. */
export function memoryFile(bytes: Uint8Array): RandomAccessFile {
  return {
    size: bytes.length,
    read: async (offset, length) => {
      if (offset < 0 || offset + length > bytes.length) throw new SafetensorsError(`read of [${offset}, ${offset + length}) past the end (${bytes.length} bytes)`);
      return bytes.subarray(offset, offset + length);
    },
  };
}

/** `model.safetensors.index.json`: tensor name → shard file name. */
export function parseShardIndex(text: string, file: string): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  const map = (json as { weight_map?: unknown })?.weight_map;
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new SafetensorsError(`${file}: no "weight_map" object`);
  const out = new Map<string, string>();
  for (const [name, shard] of Object.entries(map)) {
    // Shards sit beside the index: a name with a path separator could read elsewhere.
    if (typeof shard !== 'string' || !/^[\w.-]+$/.test(shard) || shard.startsWith('.'))
      throw new SafetensorsError(`${file}: weight_map["${name}"] = ${JSON.stringify(shard)} is not a file name beside the index`);
    out.set(name, shard);
  }
  return out;
}
