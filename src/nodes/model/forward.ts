// model.forward: logits of a Llama-family model over a token sequence, with the techniques plugged
// in (attention variant, rope_scaling, KV-cache policy). See llama.ts for the architecture.
import { z } from 'zod';
import { defineNode } from '../../engine/node.js';
import { f32 } from '../../engine/tensor.js';
import { metrics, tensorShape } from '../../engine/values.js';
import { forwardTokens, LlamaModel } from './llama.js';
import { exactTechniqueSibling, idsOf, resolveTechnique, techniqueParams, tokenInputs, tokensLength } from './technique.js';
import { PROBE_MAX } from '../attention/probe.js';

const params = z.object(techniqueParams);

export const modelForward = defineNode({
  type: 'model.forward',
  family: 'model',
  title: 'Model forward',
  summary:
    'Runs a Llama-family model (Llama 2/3, Mistral, Qwen2, SmolLM, TinyLlama) over the tokens: RMSNorm, q/k/v/o projections, RoPE from the config (or a rope_scaling override; checkpoints of this lab may record position_embedding_type none, alibi, xpos, sinusoidal or learned, and sliding_window), grouped-query attention through any `attention` variant, SwiGLU MLP, tied or untied head. A prefill, then optionally one token per decode step through a KV-cache policy.',
  formula:
    'h₀ = E[ids]; per layer: h += W_o·attn(RoPE(W_q·n), RoPE(W_k·n), W_v·n) with n = RMSNorm(h); h += W_down·(silu(W_gate·m) ⊙ W_up·m) with m = RMSNorm(h); logits = RMSNorm(h)·W_headᵀ',
  references: [
    { title: 'LLaMA: Open and Efficient Foundation Language Models', year: 2023 },
    { title: 'GQA: Training Generalized Multi-Query Transformer Models from Multi-Head Checkpoints', year: 2023 },
    { title: 'GLU Variants Improve Transformer', year: 2020 },
    { title: 'Efficient Streaming Language Models with Attention Sinks', year: 2023 },
  ],
  params,
  inputs: tokenInputs,
  outputs: {
    logits: { kind: 'tensor', dims: ['T', 'V'], doc: 'float32 [T, vocab]: row t scores the token after t' },
    probes: {
      kind: 'tensor',
      optional: true,
      dims: ['L', 'H', 'P', 'P'],
      doc: `per-layer attention maps of the prefill, average-pooled to at most ${PROBE_MAX}×${PROBE_MAX} per head (computed only when connected)`,
    },
    metrics: { kind: 'metrics', doc: 'tokens, layers, prefillTokens, decodeSteps, kvTokens and kvBytes held at the end, peakKvTokens, kvBlocks and fragmentation (paged policy), attention and rope variants, weightsBytes' },
  },
  infer(ins) {
    const T = tokensLength(ins);
    return {
      logits: tensorShape('float32', [T, null], ['T', 'V']),
      probes: tensorShape('float32', [null, null, T === null ? null : Math.min(PROBE_MAX, T), T === null ? null : Math.min(PROBE_MAX, T)], ['L', 'H', 'P', 'P']),
      metrics: { kind: 'metrics', keys: ['tokens', 'layers', 'prefillTokens', 'decodeSteps', 'kvTokens', 'kvBytes', 'peakKvTokens', 'attention', 'rope', 'weightsBytes'] },
    };
  },
  // The weights go up to the backend once per run, transposed: a second copy beside the host's.
  // FLOPs: a multiply-add per parameter per token (the embedding's count stands in for the head's).
  cost: (ins) => {
    const T = tokensLength(ins);
    const bytes = ins.model.bytes ?? 0;
    return { flops: T === null ? 0 : 2 * (bytes / 4) * T, workspaceBytes: bytes, note: `${T ?? '?'} tokens through every layer; the weights' backend copy` };
  },
  // Compared with the same pass using exact attention and a full cache, logit by logit.
  exact: (p) => exactTechniqueSibling(p, ['logits']),
  async run(ctx, ins, p) {
    const ids = idsOf(ins);
    const technique = resolveTechnique(ins.model, p);
    const model = await LlamaModel.load(ctx, ins.model);
    try {
      const T = ids.length;
      const r = await forwardTokens(model, technique, ids, {
        prefillTokens: p.prefillTokens,
        probes: ctx.isConnected('probes'),
        onStep: (done) => {
          ctx.checkCancelled();
          ctx.progress(0.05 + (0.95 * done) / T);
        },
      });
      const P = Math.min(p.prefillTokens ?? T, T);
      return {
        logits: f32([T, model.arch.vocabSize], r.logits, ['T', 'V']),
        probes: r.probes,
        metrics: metrics({
          tokens: T,
          layers: model.arch.numLayers,
          prefillTokens: P,
          decodeSteps: T - P,
          kvTokens: r.session.kvTokens,
          kvBytes: r.session.kvBytes,
          peakKvTokens: r.session.peakKvTokens,
          ...r.session.paging,
          attention: technique.attention.variant,
          rope: technique.position.variant,
          weightsBytes: model.bytes,
        }),
      };
    } finally {
      model.dispose();
    }
  },
});
