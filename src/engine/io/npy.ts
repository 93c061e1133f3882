// NumPy .npy (format 1.0/2.0/3.0) reading and writing: little-endian, C order. Written files load in
// numpy. A .npy file is untrusted input: the header is parsed strictly (it is a Python dict literal,
// never evaluated), and the file's size must be exactly what the header's shape and dtype say.
import { tensor, type DType, type Tensor } from '../tensor.js';

const DESCR: Record<DType, string> = { float32: '<f4', int32: '<i4', uint8: '|u1', uint32: '<u4' };
/** What each supported descr loads as, and its bytes per element in the file. */
const LOADS: Record<string, { dtype: DType; itemSize: number }> = {
  '<f4': { dtype: 'float32', itemSize: 4 },
  '<f8': { dtype: 'float32', itemSize: 8 },
  '<i4': { dtype: 'int32', itemSize: 4 },
  '<i8': { dtype: 'int32', itemSize: 8 },
  '|u1': { dtype: 'uint8', itemSize: 1 },
  '<u1': { dtype: 'uint8', itemSize: 1 },
  '<u4': { dtype: 'uint32', itemSize: 4 },
};
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
/** Longest header read (numpy itself refuses headers over 10000 bytes by default). */
export const NPY_MAX_HEADER = 65_536;

export function encodeNpy(t: Tensor): Uint8Array {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${DESCR[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Magic (6) + version (2) + header length (2) + header + '\n', padded to a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + t.data.byteLength);
  out.set([...MAGIC, 1, 0], 0);
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), total);
  return out;
}

export interface NpyHeader {
  descr: string;
  /** What the array loads as (float64 → float32, int64 → int32). */
  dtype: DType;
  /** Bytes per element in the file. */
  itemSize: number;
  shape: number[];
  /** Offset of the first data byte. */
  dataStart: number;
  /** Bytes of data the shape and dtype call for. */
  dataBytes: number;
}

/**
 * Parses and checks a .npy header from the file's first bytes (the whole file, or at least
 * NPY_MAX_HEADER + 12 bytes of it). Every error names the file.
 */
export function readNpyHeader(bytes: Uint8Array, name = 'file'): NpyHeader {
  const fail = (why: string): never => {
    throw new Error(`${name}: ${why}`);
  };
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) fail('not a .npy file (it does not start with \\x93NUMPY)');
  const [major, minor] = [bytes[6]!, bytes[7]!];
  if (major < 1 || major > 3 || minor !== 0) fail(`.npy format version ${major}.${minor} is not supported (1.0, 2.0 or 3.0)`);
  const start = major === 1 ? 10 : 12;
  if (bytes.length < start) fail('the .npy header is cut short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLen > NPY_MAX_HEADER) fail(`the .npy header claims ${headerLen} bytes (at most ${NPY_MAX_HEADER} are read)`);
  if (start + headerLen > bytes.length) fail(`the .npy header claims ${headerLen} bytes, the file has ${bytes.length - start} after the preamble`);
  const raw = bytes.subarray(start, start + headerLen);
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(raw);
  } catch {
    return fail('the .npy header is not valid UTF-8');
  }
  const fields = parseHeaderDict(text, fail);
  const keys = [...fields.keys()].sort().map(shown).join(', ');
  if (keys !== 'descr, fortran_order, shape') fail(`the .npy header must have exactly the keys descr, fortran_order and shape; it has ${keys || 'none'}`);
  const descr = fields.get('descr');
  const fortran = fields.get('fortran_order');
  const shape = fields.get('shape');
  if (typeof descr !== 'string') fail(`the .npy header's descr is not a string`);
  if (typeof fortran !== 'boolean') fail(`the .npy header's fortran_order is not True or False`);
  if (!Array.isArray(shape)) fail(`the .npy header's shape is not a tuple`);
  const loads = Object.hasOwn(LOADS, descr as string) ? LOADS[descr as string]! : undefined;
  if (!loads) return fail(`dtype '${shown(descr as string)}' is not supported (little-endian float32, float64, int32, int64, uint8 or uint32)`);
  if (fortran) fail('Fortran-order arrays are not supported; save with np.ascontiguousarray');
  const dims = shape as number[];
  const count = dims.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count * loads.itemSize)) fail(`shape (${dims.join(', ')}) is too large`);
  return { descr: descr as string, dtype: loads.dtype, itemSize: loads.itemSize, shape: dims, dataStart: start + headerLen, dataBytes: count * loads.itemSize };
}

/** Text from the file as it may appear in a message: plain when it is a plain word, else JSON-escaped (one line). */
const shown = (s: string) => (/^[\w<>|=.-]*$/.test(s) ? s : JSON.stringify(s));

/** The file's size must be the header plus exactly the data its shape and dtype call for. */
export function checkNpySize(h: NpyHeader, fileBytes: number, name = 'file'): void {
  const have = fileBytes - h.dataStart;
  if (have === h.dataBytes) return;
  const what = `shape (${h.shape.join(', ')}) of '${h.descr}' needs ${h.dataBytes} bytes of data`;
  throw new Error(`${name}: ${have < h.dataBytes ? 'truncated' : 'has trailing bytes'}: ${what}, the file has ${have}`);
}

/**
 * The header is a Python dict literal of string keys and string, bool and int-tuple values, as
 * numpy writes it: `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` and padding.
 */
function parseHeaderDict(text: string, fail: (why: string) => never): Map<string, unknown> {
  let i = 0;
  const bad = (what: string): never => fail(`cannot parse the .npy header (${what} at character ${i}): ${JSON.stringify(text.slice(0, 200))}`);
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const expect = (c: string) => {
    ws();
    if (text[i] !== c) bad(`expected "${c}"`);
    i++;
  };
  const str = (): string => {
    ws();
    const q = text[i];
    if (q !== "'" && q !== '"') return bad('expected a string');
    const end = text.indexOf(q, i + 1);
    if (end < 0) return bad('unterminated string');
    const s = text.slice(i + 1, end);
    if (s.includes('\\')) bad('escapes in strings are not supported');
    i = end + 1;
    return s;
  };
  const int = (): number => {
    const m = /^(\d+)L?/.exec(text.slice(i, i + 24));
    if (!m) return bad('expected a non-negative integer');
    const n = Number(m[1]);
    if (!Number.isSafeInteger(n)) bad(`dimension ${m[1]} is too large`);
    i += m[0].length;
    return n;
  };
  const value = (): unknown => {
    ws();
    if (text[i] === "'" || text[i] === '"') return str();
    for (const [word, v] of [['True', true], ['False', false]] as const)
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    if (text[i] !== '(') return bad('expected a string, True, False or a tuple');
    i++;
    const dims: number[] = [];
    for (;;) {
      ws();
      if (text[i] === ')') break;
      dims.push(int());
      ws();
      if (text[i] === ',') i++;
      else if (text[i] !== ')') bad('expected "," or ")" in the shape');
    }
    i++;
    return dims;
  };
  const fields = new Map<string, unknown>();
  expect('{');
  for (;;) {
    ws();
    if (text[i] === '}') break;
    const key = str();
    if (fields.has(key)) bad(`duplicate key '${shown(key)}'`);
    expect(':');
    fields.set(key, value());
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') bad('expected "," or "}"');
  }
  i++;
  ws();
  if (i !== text.length) bad('text after the dict');
  return fields;
}

/** Decodes a whole .npy file. Values that would change on loading (int64 outside int32, float64 past float32) are refused. */
export function decodeNpy(bytes: Uint8Array, name = 'file'): Tensor {
  const h = readNpyHeader(bytes, name);
  checkNpySize(h, bytes.length, name);
  // A copy that owns its (aligned) buffer: Node Buffers are views into a shared pool, and .slice() does not copy them.
  const raw = Uint8Array.prototype.slice.call(bytes, h.dataStart).buffer;
  const n = h.dataBytes / h.itemSize;
  if (h.descr === '<f8') {
    const src = new Float64Array(raw, 0, n);
    const out = Float32Array.from(src);
    // Finite float64 values past float32's range would load as ±Infinity.
    const lost = countWhere(n, (i) => Number.isFinite(src[i]!) && !Number.isFinite(out[i]!));
    if (lost.count)
      throw new Error(`${name}: ${lost.count} float64 value(s) are beyond the float32 range (first: ${src[lost.first]} at flat index ${lost.first}); float64 loads as float32`);
    return tensor('float32', h.shape, out);
  }
  if (h.descr === '<i8') {
    const src = new BigInt64Array(raw, 0, n);
    const [lo, hi] = [-(2n ** 31n), 2n ** 31n - 1n];
    const lost = countWhere(n, (i) => src[i]! < lo || src[i]! > hi);
    if (lost.count)
      throw new Error(`${name}: ${lost.count} int64 value(s) are outside the int32 range (first: ${src[lost.first]} at flat index ${lost.first}); int64 loads as int32`);
    return tensor('int32', h.shape, Int32Array.from(src, (b) => Number(b)));
  }
  const data = h.dtype === 'float32' ? new Float32Array(raw, 0, n) : h.dtype === 'int32' ? new Int32Array(raw, 0, n) : h.dtype === 'uint32' ? new Uint32Array(raw, 0, n) : new Uint8Array(raw, 0, n);
  return tensor(h.dtype, h.shape, data);
}

function countWhere(n: number, bad: (i: number) => boolean): { count: number; first: number } {
  let count = 0;
  let first = -1;
  for (let i = 0; i < n; i++)
    if (bad(i)) {
      if (count++ === 0) first = i;
    }
  return { count, first };
}
