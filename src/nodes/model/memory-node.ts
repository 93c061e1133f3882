// model.memory: the whole-model memory plan of a config (memory.ts) as metrics, with the same
// options as `ctxlab plan`.
import { z } from 'zod';
import { defineNode } from '../../engine/node.js';
import { metrics, type MetricValue } from '../../engine/values.js';
import { parseModelConfig } from './config.js';
import { ASSUMPTIONS, DEFAULT_PREFILL_CHUNK, KV_DTYPES, MAX_CONTEXT, parseKvPolicy, planMemory, WEIGHT_DTYPES } from './memory.js';
import { modelMemoryMetrics } from './metrics.js';

/** A size as --memory-budget reads it: 24GiB, 512MiB (powers of 1024), 80GB (powers of 1000), or bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d*)?(?:e\d+)?)\s*(?:([kmgt])(i?)b|b)?\s*$/i.exec(text);
  if (!m) throw new Error(`cannot read "${text}" as a size; use e.g. 24GiB, 512MiB (powers of 1024), 80GB (powers of 1000) or bytes`);
  const pow = m[2] ? 'kmgt'.indexOf(m[2].toLowerCase()) + 1 : 0;
  return Math.round(Number(m[1]) * (m[3] ? 1024 : 1000) ** pow);
}

const validPolicy = (s: string) => {
  try {
    parseKvPolicy(s);
    return true;
  } catch {
    return false;
  }
};
const validSize = (s: string | number) => {
  try {
    return typeof s === 'number' || parseSize(s) > 0;
  } catch {
    return false;
  }
};

export const memoryParams = z.object({
  context: z.number().int().min(1).max(MAX_CONTEXT).default(4096).describe('tokens per sequence (T)'),
  batch: z.number().int().min(1).max(65536).default(1).describe('sequences held at once'),
  weights: z.enum(WEIGHT_DTYPES).default('bf16').describe('weight storage: bf16, fp16, fp8, int8, int4 (group 128), nf4 (block 64)'),
  kv: z.enum(KV_DTYPES).default('bf16').describe('KV-cache storage: bf16, fp16, fp8, int8, int4 (group 64), kivi4, kivi2 (group 32, residual 128)'),
  kvPolicy: z
    .string()
    .default('full')
    .refine(validPolicy, { message: 'kvPolicy: expected full, streaming:SINKS+RECENT (e.g. streaming:4+2044) or h2o:BUDGET' })
    .describe('full | streaming:SINKS+RECENT | h2o:BUDGET: tokens each layer keeps'),
  prefillChunk: z.number().int().min(1).max(MAX_CONTEXT).default(DEFAULT_PREFILL_CHUNK).describe('tokens per forward pass during prefill (chunked prefill)'),
  fit: z
    .union([z.number().positive(), z.string()])
    .optional()
    .refine((v) => v === undefined || validSize(v), { message: 'fit: a size such as 24GiB, 80GB or a number of bytes' })
    .describe('a memory budget (24GiB, 80GB, bytes): reports maxContext, the longest context that fits'),
});

export const modelMemory = defineNode({
  type: 'model.memory',
  family: 'model',
  title: 'Model memory plan',
  summary:
    'Whole-model memory from a config: parameters and weight bytes per dtype, KV cache per layer (GQA, MLA, sliding windows, KV dtype, eviction policy), the prefill activation peak, the total, and the longest context that fits a budget. The same figures as `ctxlab plan`.',
  formula: [
    'params = Σ weight tensors the config implies (embeddings, tied or untied head, q/k/v/o with GQA or MLA, gated or 2-matrix MLP, MoE experts, norms, biases, learned positions)',
    'KV per layer = kvTokens · vectors · bytes(vector): vectors = 2·num_key_value_heads of head_dim (MLA: one latent of kv_lora_rank + qk_rope_head_dim); kvTokens = min(T, sliding_window on sliding layers, S+R for streaming, BUDGET for h2o)',
    'activation = batch · (min(T, prefillChunk) · max(attention stage, MLP stage) · 2 + vocab · 4)',
    'total = weights + batch · Σ KV + activation; maxContext = largest T with total(t) ≤ budget for every t ≤ T',
    ...ASSUMPTIONS,
  ].join('. '),
  references: [
    { title: 'Efficient Memory Management for Large Language Model Serving with PagedAttention', year: 2023 },
    { title: 'KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache', year: 2024 },
    { title: 'DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language Model', year: 2024 },
  ],
  params: memoryParams,
  inputs: { model: { kind: 'model', doc: 'a model (model.config or model.load); only its config is read' } },
  outputs: {
    metrics: {
      kind: 'metrics',
      metrics: modelMemoryMetrics,
      doc: 'params, weightsBytes, kvBytesPerToken, kvBytes, activationBytes, totalBytes, layers [{index, kind, kvTokens, kvBytes}], components, slidingLayers, globalLayers, maxContext (with fit)',
    },
  },
  infer: () => ({ metrics: { kind: 'metrics' } }),
  cost: (_ins, p) => ({ flops: 0, workspaceBytes: 0, note: `plans T = ${p.context}, batch ${p.batch}` }),
  run(_ctx, ins, p) {
    const arch = parseModelConfig(ins.model.config, ins.model.source ?? 'model');
    const plan = planMemory(arch, {
      context: p.context,
      batch: p.batch,
      weights: p.weights,
      kv: p.kv,
      kvPolicy: parseKvPolicy(p.kvPolicy),
      prefillChunk: p.prefillChunk,
      fit: p.fit === undefined ? undefined : typeof p.fit === 'number' ? p.fit : parseSize(p.fit),
    });
    const sliding = plan.layers.filter((l) => l.kind === 'sliding').length;
    const values: Record<string, MetricValue> = {
      ...(plan as unknown as Record<string, MetricValue>),
      layers: plan.layers as unknown as MetricValue,
      slidingLayers: sliding,
      globalLayers: plan.layers.length - sliding,
      context: p.context,
      batch: p.batch,
      weights: p.weights,
      kv: p.kv,
      kvPolicy: p.kvPolicy,
      ...(p.fit !== undefined ? { budgetBytes: typeof p.fit === 'number' ? p.fit : parseSize(p.fit) } : {}),
    };
    return { metrics: metrics(values) };
  },
});
