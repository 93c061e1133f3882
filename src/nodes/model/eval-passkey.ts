// eval.passkey: passkey retrieval (Mohtashami & Jaggi's landmark-attention test, as LongLoRA runs
// it): a random number hidden at a depth in repeated filler text, asked for at the end; the model
// decodes greedily and is right when the first digits it writes are the key. Over a grid of
// lengths × depths, the "needle in a haystack" picture, with any technique plugged in.
import { z } from 'zod';
import { defineNode } from '../../engine/node.js';
import { metrics } from '../../engine/values.js';
import { rng } from '../common/random.js';
import { loadTokenizer } from '../text/encodings.js';
import { loadHfTokenizer } from '../text/hf-tokenizer.js';
import { argmaxRow, forwardTokens, LlamaModel, LlamaSession } from './llama.js';
import { exactTechniqueSibling, resolveTechnique, techniqueParams } from './technique.js';
import { passkeyMetrics } from './metrics.js';

export const PASSKEY_INTRO =
  'There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. I will quiz you about the important information there.\n';
export const PASSKEY_FILLER = 'The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. ';
export const passkeyNeedle = (key: string) => `The pass key is ${key}. Remember it. ${key} is the pass key. `;
export const PASSKEY_QUESTION = '\nWhat is the pass key? The pass key is';

interface Encoder {
  encode(text: string): { ids: Int32Array };
  decode(ids: ArrayLike<number>): string;
}

/**
 * The longest prompt of at most `length` tokens: intro, n fillers with the needle after
 * round(depth·n) of them, the question. Returns its ids and where the needle starts (in fillers).
 */
export function passkeyPrompt(tok: Encoder, length: number, depth: number, key: string): { ids: Int32Array; fillers: number; at: number; text: string } {
  const build = (n: number) => {
    const at = Math.round(depth * n);
    const text = PASSKEY_INTRO + PASSKEY_FILLER.repeat(at) + passkeyNeedle(key) + PASSKEY_FILLER.repeat(n - at) + PASSKEY_QUESTION;
    return { ids: tok.encode(text).ids, fillers: n, at, text };
  };
  if (build(0).ids.length > length) throw new Error(`passkey: a prompt with no filler is already ${build(0).ids.length} tokens, over length ${length}`);
  // Largest n whose prompt fits (token counts grow with n).
  let lo = 0;
  let hi = 1;
  while (build(hi).ids.length <= length) hi *= 2;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (build(mid).ids.length <= length) lo = mid;
    else hi = mid;
  }
  return build(lo);
}

const params = z.object({
  lengths: z.array(z.number().int().min(16).max(1 << 20)).min(1).default([256, 512]).describe('prompt lengths in tokens (each prompt is the longest that fits)'),
  depths: z.array(z.number().min(0).max(1)).min(1).default([0, 0.5, 1]).describe('where the needle sits in the filler: 0 = start, 1 = end'),
  trials: z.number().int().min(1).max(1000).default(2).describe('random keys per cell'),
  digits: z.number().int().min(1).max(12).default(5).describe('digits of the pass key'),
  seed: z.number().int().default(0).describe('seed of the keys'),
  encoding: z
    .enum(['bytes', 'hf', 'cl100k_base', 'o200k_base', 'r50k_base'])
    .default('hf')
    .describe("how prompts become tokens: the model's own tokenizer.json (hf), UTF-8 bytes (byte-level models), or a gpt-tokenizer encoding (tiktoken's vocabularies)"),
  tokenizer: z.string().min(1).optional().describe("hf: the tokenizer.json, relative to the pipeline file (default: tokenizer.json in the model's folder)"),
  ...techniqueParams,
});

export const evalPasskey = defineNode({
  type: 'eval.passkey',
  family: 'model',
  title: 'Passkey retrieval',
  summary:
    'Hides a random pass key at a depth in filler text and asks for it at the end (the landmark-attention / LongLoRA prompt), over lengths × depths; greedy decoding, right when the first digits written are the key. Accuracy per cell, for a heat map. Takes the same technique params as model.forward.',
  formula: 'accuracy[length][depth] = mean over trials of [first `digits` digits of the greedy continuation = key]',
  references: [
    { title: 'Landmark Attention: Random-Access Infinite Context Length for Transformers', year: 2023 },
    { title: 'LongLoRA: Efficient Fine-tuning of Long-Context Large Language Models', year: 2023 },
  ],
  params,
  inputs: { model: { kind: 'model', doc: 'a Llama-family model with weights (model.load)' } },
  outputs: {
    metrics: { kind: 'metrics', metrics: passkeyMetrics, doc: 'lengths, depths, accuracy[length][depth], promptTokens[length][depth] (the prompt actually used), trials, answers (first cell\'s decoded continuations)' },
  },
  // Compared with the same evaluation using exact attention and a full cache, cell by cell.
  exact: (p) => exactTechniqueSibling(p, [{ port: 'metrics', field: 'accuracy' }]),
  infer: () => ({ metrics: { kind: 'metrics', keys: ['lengths', 'depths', 'accuracy', 'promptTokens', 'trials', 'answers', 'attention', 'rope'] } }),
  cost: (ins, p) => ({ flops: 0, workspaceBytes: ins.model.bytes ?? 0, note: `${p.lengths.length}×${p.depths.length} cells × ${p.trials} trials, a prefill and ${p.digits + 2} decode steps each` }),
  async run(ctx, ins, p) {
    const technique = resolveTechnique(ins.model, p);
    let tok: Encoder;
    if (p.encoding === 'hf') {
      const path = p.tokenizer ?? (ins.model.source ? `${ins.model.source}/tokenizer.json` : undefined);
      if (!path) throw new Error('passkey: encoding "hf" needs `tokenizer` (a tokenizer.json) for a model without a folder');
      tok = await loadHfTokenizer((f) => ctx.readFile(f), path, true);
    } else tok = await loadTokenizer(p.encoding);
    const model = await LlamaModel.load(ctx, ins.model);
    try {
      const draw = rng(p.seed, 0x9a55);
      const accuracy: number[][] = [];
      const promptTokens: number[][] = [];
      const answers: string[] = [];
      const cells = p.lengths.length * p.depths.length * p.trials;
      let done = 0;
      for (const L of p.lengths) {
        const row: number[] = [];
        const sizes: number[] = [];
        for (const depth of p.depths) {
          let right = 0;
          let size = 0;
          for (let trial = 0; trial < p.trials; trial++) {
            const key = String(Math.floor(draw() * 9 * 10 ** (p.digits - 1)) + 10 ** (p.digits - 1));
            const prompt = passkeyPrompt(tok, L, depth, key);
            size = prompt.ids.length;
            const V = model.arch.vocabSize;
            // With prefillTokens the rest of the prompt goes one token per step, so an evicting
            // cache (StreamingLLM, H2O) applies to the prompt as it would in a stream.
            let session: LlamaSession;
            let r: { logits: Float32Array };
            if (p.prefillTokens === undefined) {
              session = new LlamaSession(model, technique);
              r = await session.append(prompt.ids, { rows: 'last' });
            } else {
              const f = await forwardTokens(model, technique, prompt.ids, { prefillTokens: p.prefillTokens });
              session = f.session;
              r = { logits: f.logits.subarray((prompt.ids.length - 1) * V) };
            }
            const out: number[] = [];
            // Enough tokens for the digits, with room for a leading space or punctuation.
            for (let step = 0; step < p.digits + 2; step++) {
              const next = argmaxRow(r.logits, 0, V);
              out.push(next);
              if (step < p.digits + 1) r = await session.append(Int32Array.of(next), { rows: 'last' });
            }
            const text = tok.decode(out);
            if (answers.length < p.trials) answers.push(text);
            if ((/\d+/.exec(text)?.[0] ?? '').startsWith(key)) right++;
            ctx.progress(0.05 + (0.95 * ++done) / cells);
            ctx.checkCancelled();
          }
          row.push(right / p.trials);
          sizes.push(size);
        }
        accuracy.push(row);
        promptTokens.push(sizes);
      }
      return {
        metrics: metrics({
          lengths: p.lengths, depths: p.depths, accuracy, promptTokens, trials: p.trials, answers,
          attention: technique.attention.variant, rope: technique.position.variant,
        }),
      };
    } finally {
      model.dispose();
    }
  },
});
