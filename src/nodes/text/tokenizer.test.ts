import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runNode } from '../testing.js';
import type { MetricsValue, TokensValue } from '../../engine/values.js';
import { byteToCharCeil, ENCODINGS, loadTokenizer } from './encodings.js';
import { tokenizer } from './tokenizer.js';

const SAMPLES = [
  'hello world',
  'Hello, world!',
  'naïve café — déjà vu, Ærøskøbing, Straße, ﬁ, e\u0301 (combining acute)',
  'emoji: 😀 👍🏽 👨‍👩‍👧‍👦 🇫🇮 ❤️ 🫠',
  'function f(x) {\n\treturn x ** 2; // square\n}\n\nif (a != b) { console.log("hi", `${a}`); }\n',
  '漢字かなカナ 한국어 中文分词测试。日本語の文章です！',
  'Ελληνικά, русский, עברית, العربية, हिन्दी',
  'math 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ∑∫√∞ ≠ ≤',
  'whitespace   runs\n\n\n\ttabs   ',
  '',
];

/** Second, independent implementation of the same vocabularies (js-tiktoken; the node uses gpt-tokenizer). */
async function otherEncode(name: string): Promise<(s: string) => number[]> {
  const { Tiktoken } = await import('js-tiktoken/lite');
  const ranks =
    name === 'o200k_base'
      ? (await import('js-tiktoken/ranks/o200k_base')).default
      : name === 'cl100k_base'
        ? (await import('js-tiktoken/ranks/cl100k_base')).default
        : (await import('js-tiktoken/ranks/r50k_base')).default;
  const enc = new Tiktoken(ranks);
  // allowedSpecial = [] and disallowedSpecial = []: special-token strings are plain text, as in the node.
  return (s) => enc.encode(s, [], []);
}

function checkOffsetsInvariants(text: string, offsets: Int32Array): void {
  let pos = 0;
  for (let t = 0; t < offsets.length / 2; t++) {
    const [s, e] = [offsets[2 * t]!, offsets[2 * t + 1]!];
    expect(s, `token ${t} starts where the previous ended`).toBe(pos);
    expect(e).toBeGreaterThanOrEqual(s);
    // Never between the two halves of a surrogate pair.
    const low = (i: number) => i < text.length && i > 0 && /[\uDC00-\uDFFF]/.test(text[i]!) && /[\uD800-\uDBFF]/.test(text[i - 1]!);
    expect(low(s) || low(e), `token ${t} [${s}, ${e}) splits a surrogate pair`).toBe(false);
    pos = e;
  }
  expect(pos).toBe(text.length);
}

describe('tokenizer encodings', () => {
  it('match published ids for "hello world"', async () => {
    // tiktoken's documented values: cl100k [15339, 1917]; GPT-2 (r50k) [31373, 995]; "Hello" in GPT-2 is 15496.
    expect([...(await loadTokenizer('cl100k_base')).encode('hello world').ids]).toEqual([15339, 1917]);
    expect([...(await loadTokenizer('r50k_base')).encode('hello world').ids]).toEqual([31373, 995]);
    expect([...(await loadTokenizer('r50k_base')).encode('Hello').ids]).toEqual([15496]);
  });

  for (const name of ['o200k_base', 'cl100k_base', 'r50k_base'] as const) {
    it(`${name}: ids agree with js-tiktoken on Unicode, emoji, code and CJK`, async () => {
      const tok = await loadTokenizer(name);
      const other = await otherEncode(name);
      for (const s of SAMPLES) expect([...tok.encode(s).ids], JSON.stringify(s)).toEqual(other(s));
    });
  }

  for (const name of ENCODINGS) {
    it(`${name}: decode(encode(s)) = s and offsets tile the text`, async () => {
      const tok = await loadTokenizer(name);
      for (const s of SAMPLES) {
        const { ids, offsets } = tok.encode(s);
        expect(tok.decode(ids)).toBe(s);
        expect(offsets.length).toBe(2 * ids.length);
        checkOffsetsInvariants(s, offsets);
        // A token that decodes alone to whole characters covers exactly those characters.
        for (let t = 0; t < ids.length; t++) {
          const alone = tok.decode([ids[t]!]);
          if (!alone.includes('\uFFFD')) expect(s.slice(offsets[2 * t], offsets[2 * t + 1])).toBe(alone);
        }
      }
    });
  }

  it('round-trips arbitrary well-formed Unicode (property)', async () => {
    const toks = await Promise.all(['cl100k_base', 'bytes'].map(loadTokenizer));
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        for (const tok of toks) {
          const { ids, offsets } = tok.encode(s);
          if (tok.decode(ids) !== s) return false;
          checkOffsetsInvariants(s, offsets);
        }
        return true;
      }),
      { numRuns: 100, seed: 7 },
    );
  });

  it('bytes: ids are the UTF-8 bytes; a character belongs to the token with its first byte', async () => {
    const tok = await loadTokenizer('bytes');
    // "aé😀": a = 61; é = C3 A9; 😀 = F0 9F 98 80 (UTF-16: a, é, then a surrogate pair at 2..4).
    const { ids, offsets } = tok.encode('aé😀');
    expect([...ids]).toEqual([0x61, 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80]);
    expect([...offsets]).toEqual([0, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4]);
  });

  it('a BPE token holding part of a character: the character goes with its first byte', async () => {
    // GPT-2 has no token for 🫠 (F0 9F AB A0); whatever the split, the first token holds F0 and
    // therefore the whole character, the others are empty.
    const tok = await loadTokenizer('r50k_base');
    const { ids, offsets } = tok.encode('🫠');
    expect(ids.length).toBeGreaterThan(1);
    expect([offsets[0], offsets[1]]).toEqual([0, 2]);
    for (let t = 1; t < ids.length; t++) expect([offsets[2 * t], offsets[2 * t + 1]]).toEqual([2, 2]);
  });

  it('byteToCharCeil rounds byte positions up to the next character start', () => {
    // "é" is 2 bytes, a lone surrogate is written as U+FFFD (3 bytes).
    expect([...byteToCharCeil('é')]).toEqual([0, 1, 1]);
    expect([...byteToCharCeil('a\uD800b')]).toEqual([0, 1, 2, 2, 2, 3]);
  });

  it('treats special-token strings as text', async () => {
    const tok = await loadTokenizer('cl100k_base');
    const { ids } = tok.encode('<|endoftext|>');
    expect(ids).not.toContain(100257);
    expect(tok.decode(ids)).toBe('<|endoftext|>');
  });

  it('loads each encoding once per process and rejects unknown names', async () => {
    expect(await loadTokenizer('cl100k_base')).toBe(await loadTokenizer('cl100k_base'));
    await expect(loadTokenizer('p99k')).rejects.toThrow(/unknown encoding "p99k"/);
  });
});

describe('tokenizer node', () => {
  it('outputs ids, offsets, the text and the encoding, with metrics', async () => {
    const out = await runNode(tokenizer, { text: { kind: 'text', text: 'hello world' } }, { encoding: 'cl100k_base' });
    const t = out.tokens as TokensValue;
    expect([...t.ids]).toEqual([15339, 1917]);
    expect([...t.offsets]).toEqual([0, 5, 5, 11]);
    expect(t.encoding).toBe('cl100k_base');
    expect((out.metrics as MetricsValue).values).toEqual({ tokens: 2, characters: 11, bytes: 11, charsPerToken: 5.5 });
  });

  it('infers [null] tokens and validates the encoding', () => {
    expect(tokenizer.infer({ text: { kind: 'text' } }, tokenizer.params.parse({})).tokens).toEqual({ kind: 'tokens', shape: [null] });
    expect(() => tokenizer.params.parse({ encoding: 'p50k_base' })).toThrow();
    expect(() => tokenizer.infer({ text: { kind: 'tensor' } }, tokenizer.params.parse({}))).toThrow(/text/);
  });
});
