import { describe, expect, it } from 'vitest';
import { f32, i32, tensor } from '../tensor.js';
import { checkNpySize, decodeNpy, encodeNpy, readNpyHeader } from './npy.js';

/** A .npy file from a header text and data bytes (version 1.0 unless told). */
function npy(header: string, data: ArrayBufferView | number[] = [], version = 1): Uint8Array {
  const h = new TextEncoder().encode(header);
  const pre = version === 1 ? 10 : 12;
  const body = data instanceof Uint8Array ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : Uint8Array.from(data);
  const out = new Uint8Array(pre + h.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, h.length, true);
  else view.setUint32(8, h.length, true);
  out.set(h, pre);
  out.set(body, pre + h.length);
  return out;
}
const head = (descr: string, shape: string, extra = '') => `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, ${extra}}\n`;

describe('.npy', () => {
  it('round-trips every dtype it writes, and reads what numpy writes (v1/v2/v3, tuples, Python 2 longs)', () => {
    for (const t of [f32([2, 3], [1, 2, 3, 4, 5, 6.5]), i32([3], [-1, 0, 2 ** 31 - 1]), tensor('uint8', [2], [0, 255]), tensor('uint32', [1], [2 ** 32 - 1])]) {
      const back = decodeNpy(encodeNpy(t), 'x.npy');
      expect([back.dtype, back.shape, [...back.data]]).toEqual([t.dtype, t.shape, [...t.data]]);
    }
    const four = new Float32Array([1, 2, 3, 4]);
    for (const [header, version] of [
      [head('<f4', '(2, 2)'), 1],
      [head('<f4', '(2L, 2L)'), 1],
      [`{"descr": "<f4", "shape": (4,), "fortran_order": False}   \n`, 2],
      [head('<f4', '(4,)'), 3],
    ] as const)
      expect([...decodeNpy(npy(header, four, version), 'x.npy').data], header).toEqual([1, 2, 3, 4]);
    expect(decodeNpy(npy(head('<f4', '()'), new Float32Array([7])), 's.npy').shape).toEqual([]);
    expect(decodeNpy(npy(head('<f4', '(0, 3)')), 'e.npy').data.length).toBe(0);
  });

  it('loads float64 as float32 and int64 as int32 when the values fit', () => {
    expect([...decodeNpy(npy(head('<f8', '(2,)'), new Float64Array([0.5, -1e30])), 'd.npy').data]).toEqual([0.5, Math.fround(-1e30)]);
    const ints = new BigInt64Array([-(2n ** 31n), 2n ** 31n - 1n, 0n]);
    expect([...decodeNpy(npy(head('<i8', '(3,)'), ints), 'i.npy').data]).toEqual([-(2 ** 31), 2 ** 31 - 1, 0]);
  });

  it('refuses int64 values outside int32 and float64 values past float32, naming the file and the count', () => {
    // 2^53 + 1 used to load as 1 (and 2^53 as 0): wrapped, silently.
    const big = new BigInt64Array([1n, 2n ** 53n + 1n, 2n ** 31n, -(2n ** 31n) - 1n, 2n ** 53n]);
    expect(() => decodeNpy(npy(head('<i8', '(5,)'), big), 'ids.npy')).toThrow(
      'ids.npy: 4 int64 value(s) are outside the int32 range (first: 9007199254740993 at flat index 1); int64 loads as int32',
    );
    expect(() => decodeNpy(npy(head('<f8', '(3,)'), new Float64Array([1, 1e39, -Infinity])), 'w.npy')).toThrow(
      'w.npy: 1 float64 value(s) are beyond the float32 range (first: 1e+39 at flat index 1)',
    );
    // NaN and ±Infinity in the file are values, not overflow.
    expect(decodeNpy(npy(head('<f8', '(2,)'), new Float64Array([NaN, Infinity])), 'n.npy').data[1]).toBe(Infinity);
  });

  const four = new Float32Array([1, 2, 3, 4]);
  /** Malformed files: [what, bytes, part of the message]. Every message starts with the file's name. */
  const malformed: [string, Uint8Array, string][] = [
    ['empty', new Uint8Array(0), 'not a .npy file'],
    ['bad magic', Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x58, 1, 0, 0, 0]), 'not a .npy file'],
    ['version 4', npy(head('<f4', '(4,)'), four, 4), 'format version 4.0 is not supported'],
    ['version 0', (() => { const b = npy(head('<f4', '(4,)'), four); b[6] = 0; return b; })(), 'format version 0.0'],
    ['minor version', (() => { const b = npy(head('<f4', '(4,)'), four); b[7] = 1; return b; })(), 'format version 1.1'],
    ['header longer than the file', (() => { const b = npy(head('<f4', '(4,)')); b[8] = 0xff; b[9] = 0x7f; return b; })(), 'the .npy header claims 32767 bytes'],
    ['v2 header of 4 GiB', (() => { const b = npy(head('<f4', '(4,)'), four, 2); new DataView(b.buffer).setUint32(8, 0xffffffff, true); return b; })(), 'at most 65536 are read'],
    ['v2 preamble cut', Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 5, 0]), 'cut short'],
    ['not a dict', npy("['descr', '<f4']\n", four), 'expected "{"'],
    ['missing shape', npy("{'descr': '<f4', 'fortran_order': False}\n", four), 'exactly the keys descr, fortran_order and shape; it has descr, fortran_order'],
    ['extra key', npy(head('<f4', '(4,)', "'evil': True, "), four), 'it has descr, evil, fortran_order, shape'],
    ['duplicate key', npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (4,)}\n", four), "duplicate key 'descr'"],
    ['unterminated string', npy("{'descr: '<f4', 'fortran_order': False, 'shape': (4,)}\n", four), 'expected ":"'],
    ['escape in a string', npy("{'descr': '<f4\\\\', 'fortran_order': False, 'shape': (4,)}\n", four), 'escapes in strings'],
    ['Python code', npy("{'descr': __import__('os').system('x'), 'fortran_order': False, 'shape': (4,)}\n", four), 'expected a string, True, False or a tuple'],
    ['text after the dict', npy(head('<f4', '(4,)') + 'x', four), 'text after the dict'],
    ['negative dim', npy(head('<f4', '(-4,)'), four), 'expected a non-negative integer'],
    ['float dim', npy(head('<f4', '(2.5,)'), four), 'expected "," or ")" in the shape'],
    ['string dim', npy(head('<f4', "('4',)"), four), 'expected a non-negative integer'],
    ['huge dim', npy(head('<f4', '(99999999999999999999,)'), four), 'dimension 99999999999999999999 is too large'],
    ['huge product', npy(head('<f4', '(4294967296, 4294967296)'), four), 'is too large'],
    ['unclosed tuple', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4, \n", four), 'expected a non-negative integer'],
    ['shape not a tuple', npy(head('<f4', "'4'"), four), "shape is not a tuple"],
    ['descr not a string', npy("{'descr': True, 'fortran_order': False, 'shape': (4,)}\n", four), 'descr is not a string'],
    ['fortran_order not a bool', npy("{'descr': '<f4', 'fortran_order': 'no', 'shape': (4,)}\n", four), 'fortran_order is not True or False'],
    ['big-endian', npy(head('>f4', '(4,)'), four), "dtype '>f4' is not supported"],
    ['float16', npy(head('<f2', '(4,)'), four), "dtype '<f2' is not supported"],
    ['object array', npy(head('|O', '(4,)'), four), "dtype '|O' is not supported"],
    ['structured', npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,)}\n", four), 'expected a string, True, False or a tuple'],
    ['Fortran order', npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2)}\n", four), 'Fortran-order arrays are not supported'],
    ['truncated data', npy(head('<f4', '(4,)'), four.subarray(0, 3)), "truncated: shape (4) of '<f4' needs 16 bytes of data, the file has 12"],
    ['trailing data', npy(head('<f4', '(3,)'), four), 'has trailing bytes: shape (3) of \'<f4\' needs 12 bytes of data, the file has 16'],
    ['truncated float64', npy(head('<f8', '(4,)'), four), "truncated: shape (4) of '<f8' needs 32 bytes"],
    ['truncated int64', npy(head('<i8', '(3,)'), four), "truncated: shape (3) of '<i8' needs 24 bytes"],
    ['shape says more than any file holds', npy(head('<f4', '(1000000000, 1000)'), four), 'truncated'],
    ['invalid UTF-8 in a v3 header', npy("{'descr': '\u00ff<f4', 'fortran_order': False, 'shape': (4,)}\n", four, 3).map((b, i) => (i === 23 ? 0xff : b)), 'not valid UTF-8'],
  ];

  it.each(malformed)('refuses a malformed file (%s) with a message naming it', (_what, bytes, message) => {
    let error: Error | undefined;
    try {
      decodeNpy(bytes, 'data/in.npy');
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).toMatch(/^data\/in\.npy: /);
    expect(error?.message).toContain(message);
    expect(error?.message.split('\n')).toHaveLength(1);
  });

  it('refuses each of them from the header and the file size alone (what validate reads), with the same message', () => {
    const message = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    };
    for (const [what, bytes] of malformed)
      expect(message(() => checkNpySize(readNpyHeader(bytes.subarray(0, 65_552), 'f'), bytes.length, 'f')), what).toBe(message(() => decodeNpy(bytes, 'f')));
  });
});
