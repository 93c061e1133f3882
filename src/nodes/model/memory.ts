// Whole-model memory from a config: every weight tensor the config implies (HF names and shapes), the
// KV cache layer by layer (GQA, MLA, sliding windows, dtype, eviction policy), the prefill activation
// peak, and the longest context that fits a budget. Every figure is an exact integer for the
// assumptions stated in ASSUMPTIONS (shown by the CLI, the node's docs and its metrics).
import type { LayerKind, ModelArch } from './config.js';
import { kiviSplit } from '../kv-cache/kivi.js';

export const WEIGHT_DTYPES = ['bf16', 'fp16', 'fp8', 'int8', 'int4', 'nf4'] as const;
export type WeightDtype = (typeof WEIGHT_DTYPES)[number];
export const KV_DTYPES = ['bf16', 'fp16', 'fp8', 'int8', 'int4', 'kivi4', 'kivi2'] as const;
export type KvDtype = (typeof KV_DTYPES)[number];

export type KvPolicy = { kind: 'full' } | { kind: 'streaming'; sinks: number; recent: number } | { kind: 'h2o'; budget: number };

/** Group sizes and the KIVI residual, fixed so that every figure is reproducible. */
export const QUANT = {
  /** int4 weights: an fp16 scale and fp16 zero per group of 128 input channels (GPTQ/AWQ layout). */
  int4WeightGroup: 128,
  /** nf4 weights: one fp32 absmax per block of 64 weights (bitsandbytes, no double quantization). */
  nf4Block: 64,
  /** int8/int4 KV: an fp16 scale and fp16 zero per group of 64 channels of each cached vector (HF QuantizedCache q_group_size). */
  kvGroup: 64,
  /** KIVI: groups of 32 (tokens per key group, channels per value group), the newest 128 tokens kept in bf16. */
  kiviGroup: 32,
  kiviResidual: 128,
} as const;

export const ASSUMPTIONS = [
  'weights: bf16/fp16 2 bytes; fp8/int8 1 byte plus an fp32 scale per output row; int4 ½ byte plus an fp16 scale and fp16 zero per 128 input channels; nf4 ½ byte plus an fp32 absmax per 64 weights. Only the linear layers of the blocks are quantized; embeddings, the LM head, norms, biases, position tables and the MoE router stay bf16',
  'KV: bf16/fp16 2 bytes, fp8 1 byte (per-tensor scales not counted) per element; int8 1 byte and int4 ½ byte plus an fp16 scale and fp16 zero per 64 channels of each cached vector; MLA caches one latent of kv_lora_rank + qk_rope_head_dim per token and layer',
  'KIVI: keys per channel in groups of 32 tokens, values per token in groups of 32 channels, fp16 scale and zero per group; keys flushed 128 tokens at a time and the last 128 values kept in bf16 (KIVI Algorithm 1, residual 128)',
  'a sliding layer holds min(T, sliding_window) tokens; streaming:S+R holds min(T, S+R), h2o:B min(T, B), per layer',
  'kvBytesPerToken: what one token costs summed over every layer, windows and policies aside (KIVI at its quantized rate, the residual aside)',
  'prefill activation peak = batch · (C · max(attention stage, MLP stage) · 2 bytes + vocab · 4 bytes): prefill in chunks of C = min(T, prefillChunk) tokens, bf16 activations, a fused attention kernel (no C×T score matrix), logits (fp32) for the last token only; attention stage = 2·hidden + q + new k, v (MLA: the latent and decompressed k, v) + attention output; MLP stage = 2·hidden + 3·intermediate (gated) or 2·intermediate (GPT-2/NeoX), an MoE layer with (experts per token + shared experts)·moe_intermediate_size',
  'total = weights + KV cache + prefill activation peak (the last prefill chunk runs with the cache nearly full)',
];

export type Component = 'embedding' | 'position' | 'attention' | 'mlp' | 'norm' | 'head';

/** One weight tensor, `copies` times (per layer, per expert), as HF names and stores it. */
export interface TensorGroup {
  /** HF name with {i} for the layer and {j} for the expert. */
  name: string;
  shape: number[];
  copies: number;
  component: Component;
  /** For a linear layer's weight: output and input features (quantization groups follow them). */
  linear?: { out: number; in: number };
}

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Every weight tensor of the architecture. */
export function modelTensors(a: ModelArch): TensorGroup[] {
  const out: TensorGroup[] = [];
  const add = (name: string, shape: number[], copies: number, component: Component) => out.push({ name, shape, copies, component });
  // A linear layer: weight [out, in] (GPT-2's Conv1D stores [in, out]), and its bias when it has one.
  const lin = (name: string, o: number, i: number, copies: number, component: Component, bias: boolean, conv1d = false) => {
    out.push({ name: `${name}.weight`, shape: conv1d ? [i, o] : [o, i], copies, component, linear: { out: o, in: i } });
    if (bias) add(`${name}.bias`, [o], copies, component);
  };
  const norm = (name: string, width: number, copies: number) => {
    add(`${name}.weight`, [width], copies, 'norm');
    if (a.norm === 'layer') add(`${name}.bias`, [width], copies, 'norm');
  };
  const { hiddenSize: h, numLayers: L, numHeads: H, numKvHeads: Hkv, headDim: d, intermediateSize: I, vocabSize: V } = a;

  if (a.modelType === 'gpt2') {
    add('transformer.wte.weight', [V, h], 1, 'embedding');
    add('transformer.wpe.weight', [a.maxPositionEmbeddings, h], 1, 'position');
    const p = 'transformer.h.{i}';
    norm(`${p}.ln_1`, h, L);
    lin(`${p}.attn.c_attn`, 3 * h, h, L, 'attention', true, true);
    lin(`${p}.attn.c_proj`, h, h, L, 'attention', true, true);
    norm(`${p}.ln_2`, h, L);
    lin(`${p}.mlp.c_fc`, I, h, L, 'mlp', true, true);
    lin(`${p}.mlp.c_proj`, h, I, L, 'mlp', true, true);
    norm('transformer.ln_f', h, 1);
    if (!a.tieWordEmbeddings) add('lm_head.weight', [V, h], 1, 'head');
    return out;
  }

  if (a.modelType === 'gpt_neox') {
    add('gpt_neox.embed_in.weight', [V, h], 1, 'embedding');
    const p = 'gpt_neox.layers.{i}';
    norm(`${p}.input_layernorm`, h, L);
    norm(`${p}.post_attention_layernorm`, h, L);
    lin(`${p}.attention.query_key_value`, 3 * H * d, h, L, 'attention', a.bias.qkv);
    lin(`${p}.attention.dense`, h, H * d, L, 'attention', a.bias.o);
    lin(`${p}.mlp.dense_h_to_4h`, I, h, L, 'mlp', a.bias.mlp);
    lin(`${p}.mlp.dense_4h_to_h`, h, I, L, 'mlp', a.bias.mlp);
    norm('gpt_neox.final_layer_norm', h, 1);
    if (!a.tieWordEmbeddings) add('embed_out.weight', [V, h], 1, 'head');
    return out;
  }

  add('model.embed_tokens.weight', [V, h], 1, 'embedding');
  const p = 'model.layers.{i}';
  const attn = `${p}.self_attn`;
  if (a.mla) {
    const m = a.mla;
    const qk = m.qkNopeHeadDim + m.qkRopeHeadDim;
    if (m.qLoraRank === null) lin(`${attn}.q_proj`, H * qk, h, L, 'attention', false);
    else {
      lin(`${attn}.q_a_proj`, m.qLoraRank, h, L, 'attention', false);
      norm(`${attn}.q_a_layernorm`, m.qLoraRank, L);
      lin(`${attn}.q_b_proj`, H * qk, m.qLoraRank, L, 'attention', false);
    }
    lin(`${attn}.kv_a_proj_with_mqa`, m.kvLoraRank + m.qkRopeHeadDim, h, L, 'attention', false);
    norm(`${attn}.kv_a_layernorm`, m.kvLoraRank, L);
    lin(`${attn}.kv_b_proj`, H * (m.qkNopeHeadDim + m.vHeadDim), m.kvLoraRank, L, 'attention', false);
    lin(`${attn}.o_proj`, h, H * m.vHeadDim, L, 'attention', false);
  } else if (a.modelType === 'phi3') {
    // Phi-3 fuses q/k/v and gate/up; the counts equal the separate projections'.
    lin(`${attn}.qkv_proj`, (H + 2 * Hkv) * d, h, L, 'attention', a.bias.qkv);
    lin(`${attn}.o_proj`, h, H * d, L, 'attention', a.bias.o);
  } else {
    lin(`${attn}.q_proj`, H * d, h, L, 'attention', a.bias.qkv);
    lin(`${attn}.k_proj`, Hkv * d, h, L, 'attention', a.bias.qkv);
    lin(`${attn}.v_proj`, Hkv * d, h, L, 'attention', a.bias.qkv);
    lin(`${attn}.o_proj`, h, H * d, L, 'attention', a.bias.o);
  }
  if (a.qkNorm) {
    norm(`${attn}.q_norm`, d, L);
    norm(`${attn}.k_norm`, d, L);
  }
  norm(`${p}.input_layernorm`, h, L);
  norm(`${p}.post_attention_layernorm`, h, L);
  if (a.normsPerLayer === 4) {
    norm(`${p}.pre_feedforward_layernorm`, h, L);
    norm(`${p}.post_feedforward_layernorm`, h, L);
  }
  const moeLayers = moeLayerCount(a);
  const denseLayers = L - moeLayers;
  const mlp = `${p}.mlp`;
  if (a.modelType === 'phi3') {
    lin(`${mlp}.gate_up_proj`, 2 * I, h, denseLayers, 'mlp', a.bias.mlp);
    lin(`${mlp}.down_proj`, h, I, denseLayers, 'mlp', a.bias.mlp);
  } else if (denseLayers > 0) gatedMlp(lin, mlp, h, I, denseLayers, a.bias.mlp);
  if (a.moe && moeLayers > 0) {
    const e = a.moe;
    add(`${mlp}.gate.weight`, [e.nRoutedExperts, h], moeLayers, 'mlp');
    if (e.scoreCorrectionBias) add(`${mlp}.gate.e_score_correction_bias`, [e.nRoutedExperts], moeLayers, 'mlp');
    gatedMlp(lin, `${mlp}.experts.{j}`, h, e.moeIntermediateSize, moeLayers * e.nRoutedExperts, false);
    if (e.nSharedExperts > 0) gatedMlp(lin, `${mlp}.shared_experts`, h, e.moeIntermediateSize * e.nSharedExperts, moeLayers, false);
  }
  norm('model.norm', h, 1);
  if (!a.tieWordEmbeddings) add('lm_head.weight', [V, h], 1, 'head');
  return out;
}

type Lin = (name: string, o: number, i: number, copies: number, component: Component, bias: boolean) => void;
function gatedMlp(lin: Lin, prefix: string, h: number, I: number, copies: number, bias: boolean): void {
  lin(`${prefix}.gate_proj`, I, h, copies, 'mlp', bias);
  lin(`${prefix}.up_proj`, I, h, copies, 'mlp', bias);
  lin(`${prefix}.down_proj`, h, I, copies, 'mlp', bias);
}

/** DeepSeek: layer i is MoE when i ≥ first_k_dense_replace and i % moe_layer_freq = 0. */
export function isMoeLayer(a: ModelArch, i: number): boolean {
  return !!a.moe && i >= a.moe.firstKDenseReplace && i % a.moe.moeLayerFreq === 0;
}
const moeLayerCount = (a: ModelArch) => Array.from({ length: a.numLayers }, (_, i) => isMoeLayer(a, i)).filter(Boolean).length;

export function paramCount(a: ModelArch): number {
  return modelTensors(a).reduce((n, t) => n + numel(t.shape) * t.copies, 0);
}

/** Bytes of one copy of a tensor stored as `dtype` (only block linear layers are quantized). */
function tensorBytes(t: TensorGroup, dtype: WeightDtype): number {
  const n = numel(t.shape);
  const quantized = t.linear && t.component !== 'head' && t.component !== 'embedding';
  if (dtype === 'bf16' || dtype === 'fp16' || !quantized) return 2 * n;
  const { out, in: cols } = t.linear!;
  switch (dtype) {
    case 'fp8':
    case 'int8':
      return n + 4 * out;
    case 'int4':
      return Math.ceil(n / 2) + 4 * out * Math.ceil(cols / QUANT.int4WeightGroup);
    case 'nf4':
      return Math.ceil(n / 2) + 4 * Math.ceil(n / QUANT.nf4Block);
  }
}

export function weightsBytes(a: ModelArch, dtype: WeightDtype): number {
  return modelTensors(a).reduce((n, t) => n + tensorBytes(t, dtype) * t.copies, 0);
}

/** What one token adds to one layer's cache: `vectors` vectors of `width` channels (K and V per KV head; MLA one latent). */
export function kvVectors(a: ModelArch): { vectors: number; width: number } {
  return a.mla ? { vectors: 1, width: a.mla.kvLoraRank + a.mla.qkRopeHeadDim } : { vectors: 2 * a.numKvHeads, width: a.headDim };
}

const isKivi = (kv: KvDtype): kv is 'kivi2' | 'kivi4' => kv === 'kivi2' || kv === 'kivi4';
const kiviBits = (kv: 'kivi2' | 'kivi4') => (kv === 'kivi2' ? 2 : 4);

/** Bytes per token of one cached vector of `w` channels, for the non-KIVI dtypes. */
function vectorBytes(w: number, kv: Exclude<KvDtype, 'kivi2' | 'kivi4'>): number {
  const groups = 4 * Math.ceil(w / QUANT.kvGroup); // fp16 scale + fp16 zero per group
  switch (kv) {
    case 'bf16':
    case 'fp16':
      return 2 * w;
    case 'fp8':
      return w;
    case 'int8':
      return w + groups;
    case 'int4':
      return Math.ceil(w / 2) + groups;
  }
}

/**
 * KIVI bytes of one KV head after n tokens. mode 'lo'/'hi' are monotone bounds (every key quantized /
 * min(n, R − 1) keys in bf16) that the context search brackets the exact, saw-toothed figure with.
 */
function kiviHeadBytes(n: number, d: number, bits: number, mode: 'exact' | 'lo' | 'hi' = 'exact'): number {
  const { kiviGroup: G, kiviResidual: R } = QUANT;
  const s = kiviSplit(n, R);
  const keyRes = mode === 'exact' ? s.keyResidual : mode === 'lo' ? 0 : Math.min(n, R - 1);
  const kq = n - keyRes;
  const keys = (kq * d * bits) / 8 + (kq / G) * d * 4 + keyRes * d * 2;
  const values = (s.valueQuantized * d * bits) / 8 + s.valueQuantized * Math.ceil(d / G) * 4 + s.valueResidual * d * 2;
  return keys + values;
}

/** Bytes of one sequence's cache in one layer holding n tokens. */
export function layerKvBytes(a: ModelArch, n: number, kv: KvDtype, mode: 'exact' | 'lo' | 'hi' = 'exact'): number {
  const { vectors, width } = kvVectors(a);
  if (!isKivi(kv)) return n * vectors * vectorBytes(width, kv);
  if (a.mla) throw new Error(`${a.source}: KIVI quantizes keys per channel and values per token, but MLA (${a.modelType}) caches one latent shared by both; use --kv int4 or fp8`);
  return a.numKvHeads * kiviHeadBytes(n, width, kiviBits(kv), mode);
}

/** Bytes per token summed over the layers, in steady state (KIVI: quantized, residual not counted). */
export function kvBytesPerToken(a: ModelArch, kv: KvDtype): number {
  const { vectors, width } = kvVectors(a);
  if (!isKivi(kv)) return a.numLayers * vectors * vectorBytes(width, kv);
  if (a.mla) return layerKvBytes(a, 0, kv); // throws the MLA message
  const { kiviGroup: G } = QUANT;
  const bits = kiviBits(kv);
  const keys = (width * bits) / 8 + (width * 4) / G;
  const values = (width * bits) / 8 + Math.ceil(width / G) * 4;
  return a.numLayers * a.numKvHeads * (keys + values);
}

/** Tokens a layer of this kind holds after T tokens under the policy. */
export function layerTokens(a: ModelArch, kind: LayerKind, T: number, policy: KvPolicy): number {
  let n = T;
  if (kind === 'sliding' && a.slidingWindow !== null) n = Math.min(n, a.slidingWindow);
  if (policy.kind === 'streaming') n = Math.min(n, policy.sinks + policy.recent);
  if (policy.kind === 'h2o') n = Math.min(n, policy.budget);
  return n;
}

/** Activation elements per token at the widest point of a layer (see ASSUMPTIONS). */
export function activationWidth(a: ModelArch): number {
  const h = a.hiddenSize;
  const { numHeads: H, numKvHeads: Hkv, headDim: d } = a;
  const attention = a.mla
    ? 2 * h + H * (a.mla.qkNopeHeadDim + a.mla.qkRopeHeadDim) * 2 + a.mla.kvLoraRank + a.mla.qkRopeHeadDim + 2 * H * a.mla.vHeadDim
    : 2 * h + 2 * H * d + 2 * Hkv * d;
  const mlpOf = (I: number) => 2 * h + (a.mlp === 'gated' ? 3 : 2) * I;
  let mlp = a.moe && a.moe.firstKDenseReplace === 0 ? 0 : mlpOf(a.intermediateSize);
  if (a.moe) mlp = Math.max(mlp, mlpOf(a.moe.moeIntermediateSize * (a.moe.numExpertsPerTok + a.moe.nSharedExperts)));
  return Math.max(attention, mlp);
}

export interface PlanOptions {
  context: number;
  batch: number;
  weights: WeightDtype;
  kv: KvDtype;
  kvPolicy: KvPolicy;
  /** Prefill chunk (tokens per forward during prefill). */
  prefillChunk: number;
  /** Budget in bytes for maxContext. */
  fit?: number;
}

export interface LayerPlan {
  index: number;
  kind: LayerKind;
  kvTokens: number;
  kvBytes: number;
}

export interface MemoryPlan {
  params: number;
  weightsBytes: number;
  kvBytesPerToken: number;
  kvBytes: number;
  activationBytes: number;
  totalBytes: number;
  layers: LayerPlan[];
  maxContext?: number;
  /** Parameters and bytes per component (embedding, position, attention, mlp, norm, head). */
  components: Record<Component, { params: number; bytes: number }>;
}

export const DEFAULT_PREFILL_CHUNK = 2048;
/** The longest context the search considers (2^24 tokens, the lab's MAX_LEN). */
export const MAX_CONTEXT = 1 << 24;

function activationBytes(a: ModelArch, T: number, batch: number, chunk: number): number {
  return batch * (Math.min(T, chunk) * activationWidth(a) * 2 + a.vocabSize * 4);
}

function kvTotal(a: ModelArch, T: number, o: PlanOptions, mode: 'exact' | 'lo' | 'hi'): number {
  let sum = 0;
  for (const kind of a.layerKinds) sum += layerKvBytes(a, layerTokens(a, kind, T, o.kvPolicy), o.kv, mode);
  return o.batch * sum;
}

export function planMemory(a: ModelArch, o: PlanOptions): MemoryPlan {
  const tensors = modelTensors(a);
  const components = Object.fromEntries(
    (['embedding', 'position', 'attention', 'mlp', 'norm', 'head'] as Component[]).map((c) => [c, { params: 0, bytes: 0 }]),
  ) as MemoryPlan['components'];
  for (const t of tensors) {
    components[t.component].params += numel(t.shape) * t.copies;
    components[t.component].bytes += tensorBytes(t, o.weights) * t.copies;
  }
  const params = tensors.reduce((n, t) => n + numel(t.shape) * t.copies, 0);
  const wBytes = tensors.reduce((n, t) => n + tensorBytes(t, o.weights) * t.copies, 0);
  const layers = a.layerKinds.map((kind, index): LayerPlan => {
    const kvTokens = layerTokens(a, kind, o.context, o.kvPolicy);
    return { index, kind, kvTokens, kvBytes: o.batch * layerKvBytes(a, kvTokens, o.kv) };
  });
  const kvBytes = layers.reduce((n, l) => n + l.kvBytes, 0);
  const act = activationBytes(a, o.context, o.batch, o.prefillChunk);
  const plan: MemoryPlan = {
    params,
    weightsBytes: wBytes,
    kvBytesPerToken: kvBytesPerToken(a, o.kv),
    kvBytes,
    activationBytes: act,
    totalBytes: wBytes + kvBytes + act,
    layers,
    components,
  };
  if (o.fit !== undefined) plan.maxContext = maxContext(a, o, wBytes, o.fit);
  return plan;
}

/**
 * The longest context T such that every length up to T fits the budget (decoding passes through all
 * of them), 0 when not even one token fits, MAX_CONTEXT when the cache stops growing before the budget.
 * Exact: binary searches on monotone lower/upper bounds, then a scan of the few tokens between them
 * (the bounds coincide except for KIVI, whose bytes drop when keys are flushed).
 */
export function maxContext(a: ModelArch, o: PlanOptions, weights: number, budget: number): number {
  const total = (T: number, mode: 'exact' | 'lo' | 'hi') => weights + kvTotal(a, T, o, mode) + activationBytes(a, T, o.batch, o.prefillChunk);
  const largestFitting = (mode: 'lo' | 'hi') => {
    let lo = 0; // fits (T = 0 holds nothing)
    let hi = MAX_CONTEXT + 1; // treated as not fitting
    if (total(0, mode) > budget) return -1;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (total(mid, mode) <= budget) lo = mid;
      else hi = mid;
    }
    return lo;
  };
  const upper = largestFitting('lo'); // beyond it nothing fits
  const lower = largestFitting('hi'); // up to it everything fits
  if (lower < 0) return 0;
  // Past the largest cap every layer's cache is constant, so if it still fits there it always does.
  const caps = a.layerKinds.map((k) => layerTokens(a, k, MAX_CONTEXT, o.kvPolicy));
  const plateau = Math.max(...caps, o.prefillChunk);
  const end = Math.min(upper, plateau + 1);
  for (let T = lower + 1; T <= end; T++) if (total(T, 'exact') > budget) return T - 1;
  return upper;
}

/** Parses `full`, `streaming:SINKS+RECENT` or `h2o:BUDGET`. */
export function parseKvPolicy(text: string): KvPolicy {
  const t = text.trim();
  if (t === 'full') return { kind: 'full' };
  let m = /^streaming:(\d+)\+(\d+)$/.exec(t);
  if (m) {
    const sinks = Number(m[1]);
    const recent = Number(m[2]);
    if (sinks + recent < 1) throw new Error(`kv policy "${text}": sinks + recent must be at least 1`);
    return { kind: 'streaming', sinks, recent };
  }
  m = /^h2o:(\d+)$/.exec(t);
  if (m && Number(m[1]) >= 1) return { kind: 'h2o', budget: Number(m[1]) };
  throw new Error(`kv policy "${text}": expected full, streaming:SINKS+RECENT (e.g. streaming:4+2044) or h2o:BUDGET (e.g. h2o:2048)`);
}
