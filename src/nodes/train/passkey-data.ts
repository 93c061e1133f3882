// train.passkey-data: training text with passkey prompts mixed in, so a small model can learn the
// retrieval that eval.passkey asks for (LongLoRA and Landmark Attention fine-tune on such data). The
// prompts are eval.passkey's own (same intro, filler, needle and question) with the answer after
// them; they alternate with consecutive slices of the corpus, so the corpus keeps its order.
import { z } from 'zod';
import { defineNode } from '../../engine/node.js';
import { requireKind } from '../../engine/shapes.js';
import { text, type TextValue } from '../../engine/values.js';
import { rng } from '../common/random.js';
import { loadTokenizer } from '../text/encodings.js';
import { passkeyPrompt } from '../model/eval-passkey.js';

const params = z
  .object({
    share: z.number().gt(0).lt(1).default(0.5).describe('fraction of the output characters that are passkey prompts (the rest is the corpus)'),
    minLength: z.number().int().min(16).default(256).describe('shortest prompt, in tokens of `encoding`'),
    maxLength: z.number().int().min(16).default(256).describe('longest prompt, in tokens of `encoding` (each prompt draws its length and depth uniformly)'),
    digits: z.number().int().min(1).max(12).default(5).describe('digits of the pass key (as eval.passkey)'),
    encoding: z.enum(['bytes', 'cl100k_base', 'o200k_base', 'r50k_base']).default('bytes').describe('how prompt lengths are counted'),
    seed: z.number().int().default(0).describe('seed of the keys, lengths and depths'),
  })
  .refine((p) => p.minLength <= p.maxLength, { message: 'minLength must be at most maxLength', path: ['minLength'] });

export interface PasskeyDataParams {
  share: number;
  minLength: number;
  maxLength: number;
  digits: number;
  encoding: 'bytes' | 'cl100k_base' | 'o200k_base' | 'r50k_base';
  seed: number;
}

/** The corpus cut into slices with a passkey prompt and its answer (" <key>.\n") after each. */
export async function passkeyData(corpus: string, p: PasskeyDataParams): Promise<{ text: string; prompts: number }> {
  const tok = await loadTokenizer(p.encoding);
  const draw = rng(p.seed, 0x7a55);
  const parts: string[] = [];
  let pos = 0;
  let prompts = 0;
  while (pos < corpus.length) {
    const length = p.minLength + Math.floor(draw() * (p.maxLength - p.minLength + 1));
    const key = String(Math.floor(draw() * 9 * 10 ** (p.digits - 1)) + 10 ** (p.digits - 1));
    const prompt = passkeyPrompt(tok, length, draw(), key).text + ` ${key}.\n`;
    // A corpus slice sized so prompts make up `share` of the output on average.
    const slice = Math.max(1, Math.round((prompt.length * (1 - p.share)) / p.share));
    parts.push(corpus.slice(pos, pos + slice), '\n', prompt);
    pos += slice;
    prompts++;
  }
  return { text: parts.join(''), prompts };
}

export const passkeyDataNode = defineNode({
  type: 'train.passkey-data',
  family: 'train',
  title: 'Passkey training data',
  summary:
    "Mixes eval.passkey's prompts, each followed by its answer, into a corpus (between consecutive slices of it), so a small model trained on the result learns passkey retrieval.",
  references: [
    { title: 'Landmark Attention: Random-Access Infinite Context Length for Transformers', year: 2023 },
    { title: 'LongLoRA: Efficient Fine-tuning of Long-Context Large Language Models', year: 2023 },
  ],
  params,
  inputs: { text: { kind: 'text', doc: 'the corpus' } },
  outputs: { text: { kind: 'text', doc: 'the corpus with passkey prompts and answers mixed in' } },
  infer(ins) {
    requireKind('text', ins.text, 'text');
    return { text: { kind: 'text' } };
  },
  cost: () => ({ flops: 0, workspaceBytes: 0, note: 'host-side string building' }),
  async run(_ctx, ins, p) {
    return { text: text((await passkeyData((ins.text as TextValue).text, p)).text) };
  },
});
