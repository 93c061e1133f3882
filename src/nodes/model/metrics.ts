// What the evaluation and memory-plan nodes report, as schemas on their `metrics` ports: the editor's
// perplexity, passkey and model-memory views pick the nodes that declare these very schemas and
// read the values through them (src/renderer/model/declared.ts).
import { z } from 'zod';

const technique = {
  attention: z.string().describe('the attention variant the model ran with'),
  rope: z.string().describe('the position variant the model ran with'),
};

export const perplexityMetrics = z
  .looseObject({
    lengths: z.array(z.number()).describe('window lengths scored, tokens'),
    perplexity: z.array(z.number()).describe('perplexity at each length'),
    meanNll: z.array(z.number()).describe('mean NLL at each length, nats'),
    windows: z.array(z.number()).describe('windows scored at each length'),
    tokensScored: z.array(z.number()).describe('tokens scored at each length'),
    curves: z.array(z.object({ position: z.array(z.number()), nll: z.array(z.number()) })).describe('per length, the mean NLL at each position in the window (binned)'),
    ...technique,
  })
  .refine((m) => m.perplexity.length === m.lengths.length, 'one perplexity per length');
export type PerplexityMetrics = z.infer<typeof perplexityMetrics>;

export const passkeyMetrics = z
  .looseObject({
    lengths: z.array(z.number()).describe('prompt lengths asked for, tokens (rows)'),
    depths: z.array(z.number()).describe('where the key is hidden, 0 (start) to 1 (end) (columns)'),
    accuracy: z.array(z.array(z.number())).describe('share of trials that found the key, [length][depth]'),
    promptTokens: z.array(z.array(z.number())).describe('the prompt actually used, tokens, [length][depth]'),
    trials: z.number().describe('trials per cell'),
    answers: z.array(z.string()).describe("the first cell's decoded continuations"),
    ...technique,
  })
  .refine((m) => m.accuracy.length === m.lengths.length && m.accuracy.every((row) => row.length === m.depths.length), 'accuracy holds one row per length, one cell per depth');
export type PasskeyMetrics = z.infer<typeof passkeyMetrics>;

const bytes = z.number();
export const modelMemoryMetrics = z.looseObject({
  params: z.number().describe('parameters'),
  weightsBytes: bytes.describe('weights, bytes'),
  kvBytesPerToken: bytes.describe('KV cache per token across layers, bytes'),
  kvBytes: bytes.describe('KV cache at the planned context and batch, bytes'),
  activationBytes: bytes.describe('prefill activations, bytes'),
  totalBytes: bytes.describe('weights + KV cache + activations, bytes'),
  components: z.record(z.string(), z.object({ params: z.number(), bytes })).describe('parameters and bytes per component (embedding, position, attention, mlp, norm, head)'),
  maxContext: z.number().optional().describe('the longest context that fits budgetBytes'),
  context: z.number().describe('the planned context, tokens'),
  batch: z.number(),
  weights: z.string().describe('weight format'),
  kv: z.string().describe('KV cache format'),
  kvPolicy: z.string().describe('KV cache policy'),
  budgetBytes: bytes.optional().describe('the budget maxContext was searched against'),
});
export type ModelMemoryMetrics = z.infer<typeof modelMemoryMetrics>;
