// The safetensors reader against a file written by the reference implementation (Python's
// `safetensors`: testdata/mixed.safetensors, made by src/nodes/model/testdata/make_fixtures.py
// with the other model fixtures), the writer against the reader and that file's bytes, and every
// malformed file refused with the file and the tensor named.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRandomAccess } from '../node/ranged.js';
import {
  decodeFloats,
  encodeSafetensors,
  floatToBf16,
  floatToHalf,
  halfToFloat,
  memoryFile,
  readHeader,
  readTensor,
  type RandomAccessFile,
} from './safetensors.js';

const DATA = join(import.meta.dirname, 'testdata');
type Expected = Record<string, { dtype: string; shape: number[]; values: number[] }>;
const expected = async () => JSON.parse(await readFile(join(DATA, 'mixed.expected.json'), 'utf8')) as Expected;

/** A file that records every range asked for. */
function spied(bytes: Uint8Array): RandomAccessFile & { ends: number[] } {
  const inner = memoryFile(bytes);
  const ends: number[] = [];
  return { size: inner.size, ends, read: (o, n) => (ends.push(o + n), inner.read(o, n)) };
}

/** A file with a hand-written header and `data` bytes after it. */
function craft(header: unknown, data = new Uint8Array(0), declaredLength?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

async function refusal(bytes: Uint8Array, name = 'bad.safetensors', tensor?: string): Promise<string> {
  const f = spied(bytes);
  let message = '';
  try {
    const h = await readHeader(f, name);
    if (tensor) await readTensor(f, h, tensor);
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message, 'the file is refused').not.toBe('');
  expect(message).toContain(name);
  for (const end of f.ends) expect(end).toBeLessThanOrEqual(bytes.length);
  return message;
}

describe('safetensors reader on files written by the reference implementation', () => {
  it('reads F32, F16 and BF16 tensors and the metadata of a single file', async () => {
    const want = await expected();
    const f = await openRandomAccess(join(DATA, 'mixed.safetensors'));
    const h = await readHeader(f, 'mixed.safetensors');
    expect(h.metadata).toEqual({ format: 'pt', writer: 'make_fixtures.py' });
    expect([...h.entries.keys()].sort()).toEqual(['a.weight', 'b.bias', 'c', 'empty']);
    for (const name of h.entries.keys()) {
      const t = await readTensor(f, h, name);
      expect(h.entries.get(name)!.dtype).toBe(want[name]!.dtype);
      expect(t.shape).toEqual(want[name]!.shape);
      expect(Array.from(t.data)).toEqual(want[name]!.values);
    }
  });

  it('reads one tensor with one ranged read of its own bytes', async () => {
    const bytes = new Uint8Array(await readFile(join(DATA, 'mixed.safetensors')));
    const f = spied(bytes);
    const h = await readHeader(f, 'mixed.safetensors');
    const before = f.ends.length;
    await readTensor(f, h, 'c');
    const e = h.entries.get('c')!;
    expect(f.ends.slice(before)).toEqual([e.end]);
    expect(e.end - e.begin).toBe(8);
  });

  it('writes F16 and BF16 bytes identical to the reference writer, and reads its own files back', async () => {
    const bytes = new Uint8Array(await readFile(join(DATA, 'mixed.safetensors')));
    const f = memoryFile(bytes);
    const h = await readHeader(f, 'mixed.safetensors');
    const want = await expected();
    // Re-encode the values the reference wrote (as float32) and compare the stored bits.
    const raw = (name: string) => {
      const e = h.entries.get(name)!;
      return bytes.slice(e.begin, e.end);
    };
    const mine = encodeSafetensors({
      'b.bias': { shape: [4], data: Float32Array.from(want['b.bias']!.values), dtype: 'F16' },
      c: { shape: [2, 2], data: Float32Array.from([3.14159, -1e-3, 255.0, 1e30]), dtype: 'BF16' },
      'a.weight': { shape: [2, 3], data: Float32Array.from(want['a.weight']!.values) },
    }, { format: 'pt' });
    const g = memoryFile(mine);
    const hm = await readHeader(g, 'mine.safetensors');
    expect((8 + new DataView(mine.buffer).getUint32(0, true)) % 8).toBe(0);
    for (const name of ['a.weight', 'b.bias', 'c']) {
      const e = hm.entries.get(name)!;
      expect(Array.from(mine.slice(e.begin, e.end)), name).toEqual(Array.from(raw(name)));
      expect(Array.from((await readTensor(g, hm, name)).data)).toEqual(want[name]!.values);
    }
  });

  it('converts half and bfloat16 with round-to-nearest-even', () => {
    for (let h = 0; h < 65536; h += 7) {
      const x = halfToFloat(h);
      if (Number.isNaN(x)) continue;
      expect(floatToHalf(x)).toBe(h);
    }
    expect(floatToHalf(65520)).toBe(0x7c00); // rounds up past the largest half: infinity
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // a tie rounds to even
    expect(floatToBf16(1 + 2 ** -8)).toBe(0x3f80);
    expect(floatToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(Array.from(decodeFloats(new Uint8Array([0x80, 0x3f, 0x00, 0xc0]), 'BF16', 2))).toEqual([1, -2]);
  });
});

describe('safetensors reader refuses malformed files, naming the file and the tensor', () => {
  const ok = { w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } };
  const data16 = new Uint8Array(16);

  it('a file shorter than its header length', async () => {
    expect(await refusal(new Uint8Array(5))).toMatch(/truncated/);
    expect(await refusal(craft(ok, data16, 10_000))).toMatch(/header length 10000 overruns the file/);
    expect(await refusal(craft(ok, data16, 2 ** 40))).toMatch(/over the format's limit/);
  });

  it('a header that is not JSON, or not an object', async () => {
    expect(await refusal(craft('{"w": '))).toMatch(/not valid JSON/);
    expect(await refusal(craft('[1, 2]'))).toMatch(/not a JSON object/);
  });

  it('offsets that overrun the file (the data was truncated)', async () => {
    const msg = await refusal(craft(ok, data16.subarray(0, 12)));
    expect(msg).toMatch(/tensor "w": data_offsets \[0, 16\] overrun the file/);
  });

  it('dtype × shape that does not match the byte range', async () => {
    expect(await refusal(craft({ w: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 16] } }, data16))).toMatch(/tensor "w": F16 \[2, 2\] needs 8 bytes but data_offsets \[0, 16\] hold 16/);
  });

  it('ranges that end before they begin, or overlap', async () => {
    expect(await refusal(craft({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, data16))).toMatch(/tensor "w": data_offsets \[8, 4\] end before they begin/);
    const overlap = { a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } };
    expect(await refusal(craft(overlap, data16))).toMatch(/tensors "a" and "b" overlap/);
  });

  it('an unknown dtype at once, an unsupported one when read', async () => {
    expect(await refusal(craft({ w: { dtype: 'Q4', shape: [4], data_offsets: [0, 2] } }, data16))).toMatch(/tensor "w": unknown dtype "Q4"/);
    expect(await refusal(craft({ w: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data16), 'ints.safetensors', 'w')).toMatch(
      /ints\.safetensors: tensor "w" is I64; only F32, F16, BF16 can be read/,
    );
  });

  it('bad shapes and offsets', async () => {
    expect(await refusal(craft({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, data16))).toMatch(/tensor "w": shape \[-1\]/);
    expect(await refusal(craft({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, data16))).toMatch(/tensor "w": data_offsets \[0\] is not \[begin, end\]/);
  });
});
