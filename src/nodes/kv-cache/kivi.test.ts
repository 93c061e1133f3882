// KIVI's code storage at long context: at T = 131072 with 8 KV heads of 128 dims the keys alone are
// 2^27 codes, past what a JS array holds ("Invalid array length"). The storage is typed and sized once.
import { describe, expect, it } from 'vitest';
import { PackedCodes } from './kivi.js';

describe('kivi code storage', () => {
  it('holds 2^28 2-bit codes (keys and values of T = 131072, 8 KV heads, head dim 128) and reads each back', () => {
    const n = 2 ** 28;
    const codes = new PackedCodes(n, 2);
    expect(codes.words.byteLength).toBe(n / 4);
    // A pattern that differs between neighbours and between words: (i + ⌊i/16⌋) mod 4.
    const code = (i: number) => (i + (i >>> 4)) & 3;
    for (let i = 0; i < n; i++) codes.set(i, code(i));
    // Word w holds codes (j + w) mod 4 for j = 0..15: one of four words, by w mod 4.
    const expected = [0, 1, 2, 3].map((w) => Array.from({ length: 16 }, (_, j) => ((j + w) & 3) * 4 ** j).reduce((a, b) => a + b, 0));
    let wrong = 0;
    for (let w = 0; w < codes.words.length; w++) if (codes.words[w] !== expected[w & 3]) wrong++;
    expect(wrong).toBe(0);
    for (let i = 0; i < n; i += 4099) if (codes.get(i) !== code(i)) wrong++;
    expect(wrong).toBe(0);
    // The top bits of a word (code 3 at shift 30 makes a negative int32) and the last code.
    expect([codes.get(15), codes.get(n - 1)]).toEqual([code(15), code(n - 1)]);
  });

  it('packs 4-bit codes 8 to a word, low bits first', () => {
    const codes = new PackedCodes(10, 4);
    [1, 2, 3, 4, 5, 6, 7, 15, 9, 10].forEach((c, i) => codes.set(i, c));
    expect([...codes.words]).toEqual([0xf7654321, 0xa9]);
  });
});
