// The tokenizer node's `hf` encoding on a tiny byte-level BPE tokenizer.json written here (GPT-2
// layout: ByteLevel pre-tokenizer and decoder, four merges, a BOS template): ids checked against
// merges applied by hand, offsets against the text, decode against the input.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokensValue } from '../../engine/values.js';
import { runNode } from '../testing.js';
import { HfTokenizer } from './hf-tokenizer.js';
import { tokenizer } from './tokenizer.js';

/** GPT-2's byte → character table (bytes_to_unicode). */
function byteChars(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const out = new Array<string>(256);
  for (const b of bs) out[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (out[b] === undefined) out[b] = String.fromCharCode(256 + n++);
  return out;
}

const chars = byteChars();
const vocab: Record<string, number> = Object.fromEntries(chars.map((c, b) => [c, b]));
Object.assign(vocab, { he: 256, 'Ġt': 257, 'Ġthe': 258, ll: 259 });
const BOS = 260;
const tokenizerJson = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [{ id: BOS, content: '<|bos|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
  normalizer: null,
  pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<|bos|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '<|bos|>': { id: '<|bos|>', ids: [BOS], tokens: ['<|bos|>'] } },
  },
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: {
    type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false,
    vocab, merges: ['h e', 'Ġ t', 'Ġt he', 'l l'],
  },
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ctxlab-hf-'));
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const b = (s: string) => [...new TextEncoder().encode(s)];

describe('tokenizer, encoding "hf"', () => {
  it('applies the merges by rank, adds BOS, and gives offsets into the text', async () => {
    const text = 'hello the world';
    const out = await runNode(tokenizer, { text: { kind: 'text', text } }, { encoding: 'hf', path: join(dir, 'tokenizer.json') });
    const t = out.tokens as TokensValue;
    // hello → he ll o; " the" → Ġ t h e → Ġ t he → Ġt he → Ġthe; " world" has no merges.
    expect(Array.from(t.ids)).toEqual([BOS, 256, 259, ...b('o'), 258, vocab['Ġ']!, ...b('world')]);
    const spans = Array.from({ length: t.ids.length }, (_, i) => text.slice(t.offsets[2 * i]!, t.offsets[2 * i + 1]!));
    expect(spans).toEqual(['', 'he', 'll', 'o', ' the', ' ', 'w', 'o', 'r', 'l', 'd']);
    expect(t.encoding).toMatch(/^hf:.*tokenizer\.json$/);
  });

  it('keeps multi-byte characters on the token holding their first byte, and decodes back', async () => {
    const tok = HfTokenizer.fromJson(new TextEncoder().encode(JSON.stringify(tokenizerJson)), 'tokenizer.json', { addSpecialTokens: false });
    const text = 'café 😀 the';
    const e = tok.encode(text);
    expect(tok.decode(e.ids)).toBe(text);
    expect(e.offsets[e.offsets.length - 1]).toBe(text.length);
    for (let i = 1; i < e.ids.length; i++) expect(e.offsets[2 * i]).toBe(e.offsets[2 * i - 1]);
    expect(tok.vocabSize).toBe(261);
  });

  it('needs a path, and names a file that is not a tokenizer.json', async () => {
    const r = tokenizer.params.safeParse({ encoding: 'hf' });
    expect(r.success ? '' : r.error.issues[0]!.message).toMatch(/encoding "hf" needs `path`/);
    await writeFile(join(dir, 'bad.json'), '{"vocab": {}}');
    await expect(runNode(tokenizer, { text: { kind: 'text', text: 'x' } }, { encoding: 'hf', path: join(dir, 'bad.json') })).rejects.toThrow(/bad\.json: no "model" object/);
  });
});
