// Tokenizer: text → token ids and character offsets (see encodings.ts for the offsets rule).
// Host-side string processing: run() is the plain-TypeScript implementation; the tests use a second,
// independent package (js-tiktoken) as the oracle for the ids.
import { z } from 'zod';
import { defineNode } from '../../engine/node.js';
import { requireKind } from '../../engine/shapes.js';
import { metrics, type TokensValue } from '../../engine/values.js';
import { ENCODINGS, loadTokenizer } from './encodings.js';
import { loadHfTokenizer } from './hf-tokenizer.js';

const params = z
  .object({
    encoding: z
      .enum([...ENCODINGS, 'hf'])
      .default('cl100k_base')
      .describe('o200k_base (GPT-4o), cl100k_base (GPT-4), r50k_base (GPT-2/GPT-3), bytes (UTF-8 bytes as ids 0..255), or hf: a Hugging Face tokenizer.json named by `path`'),
    path: z.string().min(1).optional().describe('hf: the tokenizer.json (e.g. in a model folder), relative to the pipeline file'),
    addSpecialTokens: z.boolean().default(true).describe("hf: add the tokenizer's special tokens (e.g. Llama's BOS), as transformers does by default"),
  })
  .refine((p) => p.encoding !== 'hf' || p.path !== undefined, { message: 'encoding "hf" needs `path` (a tokenizer.json)', path: ['path'] });

export async function tokenize(text: string, encoding: string): Promise<TokensValue> {
  const tok = await loadTokenizer(encoding);
  const { ids, offsets } = tok.encode(text);
  return { kind: 'tokens', ids, offsets, text, encoding: tok.name };
}

/** Tokens of a Hugging Face tokenizer.json; `read` is the run's confined file read. */
export async function tokenizeHf(text: string, read: (path: string) => Promise<Uint8Array>, path: string, addSpecialTokens = true): Promise<TokensValue> {
  const tok = await loadHfTokenizer(read, path, addSpecialTokens);
  const { ids, offsets } = tok.encode(text);
  return { kind: 'tokens', ids, offsets, text, encoding: tok.name };
}

export const tokenizer = defineNode({
  type: 'tokenizer',
  family: 'text',
  title: 'Tokenizer',
  summary:
    "Byte-level BPE with the vocabularies that gpt-tokenizer ships (nothing downloaded), raw UTF-8 bytes, or a model's own Hugging Face tokenizer.json (@huggingface/tokenizers); ids plus UTF-16 character offsets, a character belonging to the token that holds its first byte (hf: exact for byte-level BPE, aligned by decoded text otherwise).",
  formula: 'text → UTF-8 bytes → pre-tokenizer regex → byte-pair merges by rank → ids',
  references: [
    { title: 'Neural Machine Translation of Rare Words with Subword Units', year: 2016 },
    { title: 'Language Models are Unsupervised Multitask Learners (byte-level BPE)', year: 2019 },
  ],
  params,
  inputs: { text: { kind: 'text' } },
  outputs: {
    tokens: { kind: 'tokens', dims: ['T'] },
    metrics: { kind: 'metrics', optional: true, doc: 'tokens, characters, bytes, charsPerToken' },
  },
  infer(ins) {
    requireKind('text', ins.text, 'text');
    // The number of tokens is known only once the text is.
    return { tokens: { kind: 'tokens', shape: [null] }, metrics: { kind: 'metrics' } };
  },
  cost: () => ({ flops: 0, workspaceBytes: 0, note: 'O(bytes) pre-tokenization plus BPE merges per word; the rank file loads once per encoding' }),
  async run(ctx, ins, p) {
    const tokens =
      p.encoding === 'hf'
        ? await tokenizeHf(ins.text.text, (f) => ctx.readFile(f), p.path!, p.addSpecialTokens)
        : await tokenize(ins.text.text, p.encoding);
    ctx.checkCancelled();
    const T = tokens.ids.length;
    const chars = tokens.text.length;
    return {
      tokens,
      metrics: ctx.isConnected('metrics')
        ? metrics({ tokens: T, characters: chars, bytes: new TextEncoder().encode(tokens.text).length, charsPerToken: T ? chars / T : 0 })
        : undefined,
    };
  },
});
