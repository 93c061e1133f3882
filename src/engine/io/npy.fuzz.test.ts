// Malformed .npy files, generated: every one either loads as a tensor whose data matches its shape, or
// is refused with a one-line Error naming the file; and what `validate` reads (header and size) agrees
// with what the run reads (the whole file) on every refusal that does not need the data.
import { describe, expect, it } from 'vitest';
import { f32, i32, tensor, type Tensor } from '../tensor.js';
import { checkNpySize, decodeNpy, encodeNpy, readNpyHeader } from './npy.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

const seeds: Tensor[] = [f32([3, 4], Array.from({ length: 12 }, (_, i) => i / 3)), i32([5], [1, -2, 3, -4, 5]), tensor('uint8', [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]), f32([1], [42])];
const HEADER_TEXT = ["'descr'", "'<f8'", "'<i8'", "'>f4'", "'|O'", 'True', '(', ')', ',', '-1', '99999999999', "'x': 1, ", '\\', '"', '}', '{', '\n', '\u00ff'];

/** A variant of a valid file: a byte changed, text spliced into the header, a cut, a length changed, bytes appended. */
function mutate(bytes: Uint8Array, pick: (n: number) => number): Uint8Array {
  const b = Uint8Array.from(bytes);
  if (b.length <= 12) return b.subarray(0, pick(b.length + 1));
  const headerEnd = Math.min(b.length, 10 + (b[8]! | (b[9]! << 8)));
  switch (pick(7)) {
    case 6: // a data byte: still a valid file
      if (b.length > 128) b[128 + pick(b.length - 128)] = pick(256);
      return b;
    case 0: // a random byte anywhere
      b[pick(b.length)] = pick(256);
      return b;
    case 1: { // text spliced into the header, header length kept (the file shifts)
      const at = 10 + pick(headerEnd - 10 + 1);
      const text = new TextEncoder().encode(HEADER_TEXT[pick(HEADER_TEXT.length)]!);
      const out = new Uint8Array(b.length + text.length);
      out.set(b.subarray(0, at));
      out.set(text, at);
      out.set(b.subarray(at), at + text.length);
      return out;
    }
    case 2: // cut anywhere
      return b.subarray(0, pick(b.length));
    case 3: // header length changed
      b[8] = pick(256);
      b[9] = pick(3);
      return b;
    case 4: { // a header byte replaced by header text
      const text = new TextEncoder().encode(HEADER_TEXT[pick(HEADER_TEXT.length)]!).subarray(0, headerEnd - 10);
      b.set(text, 10 + pick(headerEnd - 10 - text.length + 1));
      return b;
    }
    default: { // bytes appended
      const out = new Uint8Array(b.length + 1 + pick(9));
      out.set(b);
      return out;
    }
  }
}

const outcome = (fn: () => unknown): { ok: true; value: unknown } | { ok: false; error: unknown } => {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
};

describe('.npy fuzz', () => {
  it('400 malformed files: a consistent tensor or a one-line error naming the file, never another kind of failure', () => {
    const pick = rng(20261203);
    let refused = 0;
    for (let n = 0; n < 400; n++) {
      const seed = seeds[pick(seeds.length)]!;
      let bytes = encodeNpy(seed);
      for (let m = 1 + pick(3); m > 0; m--) bytes = mutate(bytes, pick);
      const run = outcome(() => decodeNpy(bytes, 'fuzz/in.npy'));
      const check = outcome(() => checkNpySize(readNpyHeader(bytes.subarray(0, 65_552), 'fuzz/in.npy'), bytes.length, 'fuzz/in.npy'));
      if (run.ok) {
        const t = run.value as Tensor;
        expect(t.data.length, `case ${n}`).toBe(t.shape.reduce((a, d) => a * d, 1));
        expect(check.ok, `case ${n}: validate refused a file the run loads`).toBe(true);
        continue;
      }
      refused++;
      expect(run.error, `case ${n}`).toBeInstanceOf(Error);
      expect((run.error as Error).constructor, `case ${n}: ${(run.error as Error).message}`).toBe(Error);
      const message = (run.error as Error).message;
      expect(message, `case ${n}`).toMatch(/^fuzz\/in\.npy[: ]/);
      expect(message.includes('\n'), `case ${n}: ${message}`).toBe(false);
      // The run may also refuse values (int64 past int32); everything else validate refuses the same way.
      if (!/value\(s\) are (outside|beyond)/.test(message)) expect(check.ok ? 'passed' : (check.error as Error).message, `case ${n}`).toBe(message);
    }
    // The generator makes mostly broken files, and some that still load.
    expect(refused).toBeGreaterThan(200);
    expect(refused).toBeLessThan(400);
  });
});
