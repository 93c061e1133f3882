// The technique params model.forward, eval.perplexity and eval.passkey share: an attention variant
// with its params (the `attention` node's own schema), an HF rope_scaling override, and a KV-cache
// policy for incremental decoding. Resolved against a model's config into a llama.ts Technique.
import { z } from 'zod';
import { ShapeError, type ExactCounterpart, type ExactPort } from '../../engine/node.js';
import type { ModelValue, PortShape, TokensValue } from '../../engine/values.js';
import type { Tensor } from '../../engine/tensor.js';
import { attention, type AttentionParams } from '../attention/index.js';
import { position, type PositionNodeParams } from '../position/index.js';
import { forwardArch, ModelError, nativePosition, type CachePolicy, type Technique } from './llama.js';

const kvCache = z.discriminatedUnion('policy', [
  z.object({ policy: z.literal('full') }),
  z.object({
    policy: z.literal('streaming'),
    sinkTokens: z.number().int().min(0).default(4).describe('leading tokens always kept (attention sinks)'),
    recentTokens: z.number().int().min(1).default(1020).describe('most recent tokens kept'),
    positions: z
      .enum(['cache', 'original'])
      .default('cache')
      .describe('"cache": RoPE at positions inside the cache, 0..kept−1 (StreamingLLM); "original": the tokens\' own positions'),
  }),
  z.object({
    policy: z.literal('h2o'),
    heavyTokens: z.number().int().min(0).default(128).describe('heavy hitters kept by accumulated attention (summed over heads and layers)'),
    recentTokens: z.number().int().min(1).default(128).describe('most recent tokens always kept'),
  }),
  z
    .object({
      policy: z.literal('kivi'),
      bits: z.literal([2, 4]).default(2).describe('bits per quantized element'),
      groupSize: z.number().int().min(1).max(4096).default(32).describe('tokens per key group, channels per value group'),
      residualTokens: z.number().int().min(1).default(128).describe('newest tokens kept in full precision; a multiple of groupSize'),
    })
    .refine((p) => p.residualTokens % p.groupSize === 0, { message: 'residualTokens must be a multiple of groupSize', path: ['residualTokens'] }),
  z.object({
    policy: z.literal('paged'),
    blockSize: z.number().int().min(1).max(128).default(16).describe('tokens per block (vLLM block_size; 16 is typical)'),
  }),
]);

export const techniqueParams = {
  attention: (attention.params as z.ZodType<AttentionParams>)
    .prefault({ variant: 'naive' } as AttentionParams)
    .describe('the attention kernel and its params, as on the `attention` node (e.g. {"variant": "sliding-window", "window": 256}); must be causal'),
  ropeScaling: z
    .record(z.string(), z.unknown())
    .nullable()
    .optional()
    .describe('HF rope_scaling replacing the config\'s (rope_type linear, dynamic, yarn, longrope or llama3, HF key names; null: plain RoPE); left out: the config\'s'),
  kvCache: kvCache
    .prefault({ policy: 'full' })
    .describe('KV-cache policy of incremental decoding: full; streaming (StreamingLLM sinks + recent window); h2o (heavy hitters + recent); kivi (2/4-bit keys per channel, values per token, full-precision residual); paged (vLLM blocks of blockSize tokens read through a block table: the same logits as full, bytes counted by allocated block). Applies from the prefill on; eviction from the first decode step'),
  prefillTokens: z
    .number().int().min(0).optional()
    .describe('tokens processed in the first step; the rest go one per decode step through the cache (left out: all in one step)'),
};

export interface TechniqueParams {
  attention: AttentionParams;
  ropeScaling?: Record<string, unknown> | null;
  kvCache: CachePolicy;
  prefillTokens?: number;
}

/** The Technique for a model: the config's RoPE (or the override) as position params, parsed with the position node's schema. */
export function resolveTechnique(model: ModelValue, p: TechniqueParams): Technique {
  const arch = forwardArch(model);
  if (!p.attention.causal) throw new ModelError('attention: a causal language model needs "causal": true');
  const native = nativePosition(arch, model.config, p.ropeScaling);
  const parsed = position.params.safeParse(native.position);
  if (!parsed.success) throw new ModelError(`rope_scaling: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { attention: p.attention, position: parsed.data as PositionNodeParams, cache: p.kvCache, interpolation: native.interpolation };
}

/**
 * Exact causal attention and a full cache, with the config's RoPE (or `ropeScaling`; null: plain
 * RoPE): the technique a search or a calibration scores the model with.
 */
export function exactTechnique(model: ModelValue, ropeScaling?: Record<string, unknown> | null): Technique {
  return resolveTechnique(model, { attention: { variant: 'naive', causal: true }, kvCache: { policy: 'full' }, ...(ropeScaling === undefined ? {} : { ropeScaling }) });
}

/** Token ids from the `tokens` port or the `ids` port (int32 [T]), exactly one connected. */
export function idsOf(ins: { tokens?: TokensValue; ids?: Tensor }): Int32Array {
  if (ins.tokens && ins.ids) throw new ShapeError('ids', 'connect either "tokens" or "ids", not both');
  if (ins.tokens) return ins.tokens.ids;
  if (!ins.ids) throw new ShapeError('tokens', 'connect "tokens" (from a tokenizer) or "ids" (an int32 tensor [T])');
  const t = ins.ids;
  const shape = t.shape.length === 2 && t.shape[0] === 1 ? t.shape.slice(1) : t.shape;
  if (t.dtype !== 'int32' || shape.length !== 1) throw new ShapeError('ids', `"ids" expects an int32 tensor [T], got ${t.dtype} [${t.shape.join(', ')}]`);
  return t.data as Int32Array;
}

/** Compile-time twin of idsOf: T when known. */
export function tokensLength(ins: { tokens?: PortShape; ids?: PortShape }): number | null {
  if (ins.tokens && ins.ids) throw new ShapeError('ids', 'connect either "tokens" or "ids", not both');
  const s = ins.tokens ?? ins.ids;
  if (!s) throw new ShapeError('tokens', 'connect "tokens" (from a tokenizer) or "ids" (an int32 tensor [T])');
  if (ins.ids && ins.ids.dtype && ins.ids.dtype !== 'int32') throw new ShapeError('ids', `"ids" expects int32, got ${ins.ids.dtype}`);
  const shape = s.shape ?? [null];
  const T = shape[shape.length - 1];
  return T ?? null;
}

export const tokenInputs = {
  model: { kind: 'model' as const, doc: 'a Llama-family model with weights (model.load)' },
  tokens: { kind: 'tokens' as const, optional: true as const, dims: ['T'], doc: 'token ids from a tokenizer (or connect `ids`)' },
  ids: { kind: 'tensor' as const, optional: true as const, dims: ['T'], doc: 'token ids as an int32 tensor [T] (or connect `tokens`)' },
};

/**
 * The exact counterpart of a forward pass with these technique params, for the accuracy overlay: the
 * same model, prompt and rope_scaling with exact attention (same scale) and a full cache; undefined
 * when the attention is exact (by the attention node's own declaration) and the cache keeps every token.
 */
export function exactTechniqueParams<P extends TechniqueParams>(p: P): P | undefined {
  const approxAttention = attention.exact?.(p.attention) !== undefined;
  const approxCache = p.kvCache.policy !== 'full' && p.kvCache.policy !== 'paged';
  if (!approxAttention && !approxCache) return undefined;
  const scale = p.attention.scale === undefined ? {} : { scale: p.attention.scale };
  return { ...p, attention: { variant: 'naive', causal: true, ...scale } as AttentionParams, kvCache: { policy: 'full' } };
}

/** The accuracy overlay's counterpart of a node taking technique params: itself with exactTechniqueParams, on `ports`. */
export function exactTechniqueSibling(p: TechniqueParams, ports: ExactPort[]): ExactCounterpart | undefined {
  const exact = exactTechniqueParams(p);
  return exact && { kind: 'sibling', params: exact as unknown as Record<string, unknown>, ports };
}
