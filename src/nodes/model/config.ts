// A Hugging Face config.json read into one typed architecture (ModelArch), with HF's key names and
// defaults per model_type, so memory planning, positions and the forward pass agree on what a
// config means. The raw config stays available (ModelValue.config); this is its checked reading.

export const SUPPORTED_MODEL_TYPES = [
  'llama',
  'mistral',
  'qwen2',
  'phi3',
  'gemma2',
  'gemma3',
  'gemma3_text',
  'gpt_neox',
  'gpt2',
  'deepseek_v2',
  'deepseek_v3',
] as const;
export type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

/** HF's names for a layer's attention ("layer_types"): full, or a sliding window of `sliding_window` tokens. */
export type LayerKind = 'global' | 'sliding';

/** Rotary embedding as the config states it (HF names inside `scaling`). */
export interface RopeArch {
  /** rope_theta (GPT-NeoX: rotary_emb_base). */
  theta: number;
  /** rope_scaling as written (rope_type / legacy type, factor, …), or null. */
  scaling: Record<string, unknown> | null;
  /** Fraction of each head's dims that rotate: partial_rotary_factor (GPT-NeoX: rotary_pct). */
  partialRotaryFactor: number;
  /** Dims that rotate: int(headDim · partialRotaryFactor); DeepSeek MLA: qk_rope_head_dim. */
  rotaryDim: number;
  /** HF pairs (d, d + D/2) (rotate_half), except DeepSeek's interleaved pairs (2i, 2i+1). */
  layout: 'half' | 'interleaved';
  /** Gemma 3: rope_local_base_freq, the base of its sliding layers (which take no scaling). */
  localTheta?: number;
}

/** DeepSeek's Multi-head Latent Attention. */
export interface MlaArch {
  kvLoraRank: number;
  qLoraRank: number | null;
  qkRopeHeadDim: number;
  qkNopeHeadDim: number;
  vHeadDim: number;
}

/** DeepSeek's mixture of experts: which layers, how many experts, their width. */
export interface MoeArch {
  nRoutedExperts: number;
  nSharedExperts: number;
  moeIntermediateSize: number;
  numExpertsPerTok: number;
  firstKDenseReplace: number;
  moeLayerFreq: number;
  /** DeepSeek-V3's noaux_tc router keeps a bias per expert (e_score_correction_bias). */
  scoreCorrectionBias: boolean;
}

export interface ModelArch {
  modelType: ModelType;
  /** Where the config came from, for messages. */
  source: string;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  /** head_dim when the config states it (Gemma), else hidden_size / num_attention_heads. */
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  tieWordEmbeddings: boolean;
  maxPositionEmbeddings: number;
  /** original_max_position_embeddings as a top-level key (Phi-3's trained length, for LongRoPE), or null. */
  originalMaxPositionEmbeddings: number | null;
  /** RMSNorm (one weight vector) or LayerNorm (weight and bias). */
  norm: 'rms' | 'layer';
  /** Norms per decoder layer: 2, Gemma 2/3 4 (pre/post attention and feed-forward). */
  normsPerLayer: number;
  /** Gemma 3 normalises q and k per head (q_norm, k_norm of head_dim). */
  qkNorm: boolean;
  /** gated: gate/up/down (SwiGLU, GeGLU); plain: up/down (GPT-2, GPT-NeoX). */
  mlp: 'gated' | 'plain';
  /** Which projections carry a bias. */
  bias: { qkv: boolean; o: boolean; mlp: boolean };
  /** Rotary, or GPT-2's learned absolute position table (wpe). */
  positions: 'rope' | 'learned';
  rope?: RopeArch;
  /** sliding_window, when any layer uses one. */
  slidingWindow: number | null;
  /** One entry per layer. */
  layerKinds: LayerKind[];
  /** Gemma: scores are scaled by query_pre_attn_scalar^−½ instead of head_dim^−½. */
  queryPreAttnScalar: number | null;
  mla?: MlaArch;
  moe?: MoeArch;
}

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigError';
  }
}

type Raw = Record<string, unknown>;

/** Reads keys of one config with the file named in every message. */
class Reader {
  constructor(
    readonly raw: Raw,
    private readonly where: string,
  ) {}
  fail(msg: string): never {
    throw new ModelConfigError(`${this.where}: ${msg}`);
  }
  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }
  /** A positive integer, required unless a default is given. */
  int(key: string, def?: number): number {
    const v = this.raw[key] ?? def;
    if (v === undefined || v === null) this.fail(`missing required key "${key}"`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) this.fail(`"${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  }
  /** A non-negative integer (expert counts, first_k_dense_replace may be 0). */
  count(key: string, def: number): number {
    const v = this.raw[key] ?? def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(`"${key}" must be an integer ≥ 0, got ${JSON.stringify(v)}`);
    return v;
  }
  optInt(key: string): number | null {
    return this.has(key) ? this.int(key) : null;
  }
  num(key: string, def: number): number {
    const v = this.raw[key] ?? def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.fail(`"${key}" must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  }
  bool(key: string, def: boolean): boolean {
    const v = this.raw[key] ?? def;
    if (typeof v !== 'boolean') this.fail(`"${key}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }
  obj(key: string): Raw | null {
    const v = this.raw[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(`"${key}" must be an object, got ${JSON.stringify(v)}`);
    return v as Raw;
  }
}

/** HF's tie_word_embeddings default per model class (PretrainedConfig's True, overridden by most decoders). */
const TIED_BY_DEFAULT: Partial<Record<ModelType, boolean>> = { gemma2: true, gemma3: true, gemma3_text: true, gpt2: true };

/**
 * Parses a config.json (already JSON-decoded) into a ModelArch. `source` names the file in errors.
 * Throws ModelConfigError naming the file and the key.
 */
export function parseModelConfig(config: unknown, source = 'config.json'): ModelArch {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ModelConfigError(`${source}: a config must be a JSON object`);
  let raw = config as Raw;
  const type = raw.model_type;
  if (typeof type !== 'string' || !(SUPPORTED_MODEL_TYPES as readonly string[]).includes(type))
    throw new ModelConfigError(
      `${source}: ${type === undefined ? 'missing required key "model_type"' : `unsupported model_type ${JSON.stringify(type)}`}; supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
    );
  let modelType = type as ModelType;
  // Gemma 3 (4B and up) is multimodal: its language model is text_config (the vision tower is not counted).
  if (modelType === 'gemma3') {
    const text = new Reader(raw, source).obj('text_config');
    if (!text) throw new ModelConfigError(`${source}: model_type "gemma3" needs "text_config" (the language model's config)`);
    raw = { tie_word_embeddings: raw.tie_word_embeddings, ...text, model_type: 'gemma3_text' };
    modelType = 'gemma3_text';
  }
  const r = new Reader(raw, source);
  if (modelType === 'gpt2') return parseGpt2(r, source);

  const hiddenSize = r.int('hidden_size');
  const numHeads = r.int('num_attention_heads');
  const isMla = modelType === 'deepseek_v2' || modelType === 'deepseek_v3';
  const isGemma = modelType === 'gemma2' || modelType === 'gemma3_text';
  if (!r.has('head_dim') && hiddenSize % numHeads !== 0 && !isMla)
    r.fail(`hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}, and no "head_dim" is given`);
  const headDim = isMla ? r.int('qk_nope_head_dim') + r.int('qk_rope_head_dim') : r.int('head_dim', hiddenSize / numHeads);
  const numKvHeads = r.int('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) r.fail(`num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`);
  const numLayers = r.int('num_hidden_layers');
  const neox = modelType === 'gpt_neox';

  const partialRotaryFactor = neox ? r.num('rotary_pct', 0.25) : r.num('partial_rotary_factor', 1);
  if (partialRotaryFactor > 1) r.fail(`"${neox ? 'rotary_pct' : 'partial_rotary_factor'}" must be at most 1, got ${partialRotaryFactor}`);
  const rope: RopeArch = {
    theta: neox && !r.has('rope_theta') ? r.num('rotary_emb_base', 10000) : r.num('rope_theta', modelType === 'gemma3_text' ? 1_000_000 : 10000),
    scaling: r.obj('rope_scaling'),
    partialRotaryFactor,
    rotaryDim: isMla ? r.int('qk_rope_head_dim') : Math.floor(headDim * partialRotaryFactor),
    layout: isMla && r.bool('rope_interleave', true) ? 'interleaved' : 'half',
  };
  if (modelType === 'gemma3_text') rope.localTheta = r.num('rope_local_base_freq', 10000);
  if (rope.rotaryDim % 2 !== 0) r.fail(`the rotary dims (${rope.rotaryDim}) must be even`);

  const { slidingWindow, layerKinds } = layerPattern(r, modelType, numLayers);
  const arch: ModelArch = {
    modelType,
    source,
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: r.int('intermediate_size'),
    vocabSize: r.int('vocab_size'),
    tieWordEmbeddings: r.bool('tie_word_embeddings', TIED_BY_DEFAULT[modelType] ?? false),
    maxPositionEmbeddings: r.int('max_position_embeddings'),
    originalMaxPositionEmbeddings: r.optInt('original_max_position_embeddings'),
    norm: neox ? 'layer' : 'rms',
    normsPerLayer: isGemma ? 4 : 2,
    qkNorm: modelType === 'gemma3_text',
    mlp: neox ? 'plain' : 'gated',
    bias: neox
      ? { qkv: r.bool('attention_bias', true), o: r.bool('attention_bias', true), mlp: true }
      : modelType === 'qwen2'
        ? { qkv: true, o: false, mlp: false } // Qwen2 hard-codes bias on q/k/v only
        : { qkv: r.bool('attention_bias', false), o: r.bool('attention_bias', false), mlp: r.bool('mlp_bias', false) },
    positions: 'rope',
    rope,
    slidingWindow,
    layerKinds,
    queryPreAttnScalar: isGemma ? r.num('query_pre_attn_scalar', headDim) : null,
  };
  if (isMla) {
    arch.mla = {
      kvLoraRank: r.int('kv_lora_rank'),
      qLoraRank: r.optInt('q_lora_rank'),
      qkRopeHeadDim: r.int('qk_rope_head_dim'),
      qkNopeHeadDim: r.int('qk_nope_head_dim'),
      vHeadDim: r.int('v_head_dim'),
    };
    const experts = r.count('n_routed_experts', 0);
    if (experts > 0)
      arch.moe = {
        nRoutedExperts: experts,
        nSharedExperts: r.count('n_shared_experts', 0),
        moeIntermediateSize: r.int('moe_intermediate_size'),
        numExpertsPerTok: r.int('num_experts_per_tok'),
        firstKDenseReplace: r.count('first_k_dense_replace', 0),
        moeLayerFreq: r.int('moe_layer_freq', 1),
        scoreCorrectionBias: raw.topk_method === 'noaux_tc',
      };
  }
  return arch;
}

/** GPT-2: its own key names, learned positions, LayerNorm, biases everywhere, a tied head. */
function parseGpt2(r: Reader, source: string): ModelArch {
  const hiddenSize = r.int('n_embd');
  const numHeads = r.int('n_head');
  if (hiddenSize % numHeads !== 0) r.fail(`n_embd ${hiddenSize} is not a multiple of n_head ${numHeads}`);
  const numLayers = r.int('n_layer');
  return {
    modelType: 'gpt2',
    source,
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads: numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: r.int('n_inner', 4 * hiddenSize), // n_inner: null means 4·n_embd
    vocabSize: r.int('vocab_size'),
    tieWordEmbeddings: r.bool('tie_word_embeddings', true),
    maxPositionEmbeddings: r.int('n_positions'),
    originalMaxPositionEmbeddings: null,
    norm: 'layer',
    normsPerLayer: 2,
    qkNorm: false,
    mlp: 'plain',
    bias: { qkv: true, o: true, mlp: true },
    positions: 'learned',
    slidingWindow: null,
    layerKinds: Array<LayerKind>(numLayers).fill('global'),
    queryPreAttnScalar: null,
  };
}

/**
 * Which layers use a sliding window, following HF: an explicit `layer_types` list wins; Mistral and
 * Phi-3 slide on every layer when sliding_window is set; Qwen2 only with use_sliding_window, on layers
 * from max_window_layers on; Gemma 2 alternates (even layers slide); Gemma 3 slides except every
 * sliding_window_pattern-th layer.
 */
function layerPattern(r: Reader, type: ModelType, L: number): { slidingWindow: number | null; layerKinds: LayerKind[] } {
  const kinds = (slides: (i: number) => boolean) => Array.from({ length: L }, (_, i): LayerKind => (slides(i) ? 'sliding' : 'global'));
  const window = r.optInt('sliding_window');
  const given = r.raw.layer_types;
  if (given !== undefined && given !== null) {
    if (!Array.isArray(given) || given.length !== L) r.fail(`"layer_types" must list ${L} entries (num_hidden_layers)`);
    const layerKinds = given.map((t, i): LayerKind => {
      if (t === 'full_attention') return 'global';
      if (t === 'sliding_attention') return 'sliding';
      return r.fail(`layer_types[${i}] is ${JSON.stringify(t)}; expected "full_attention" or "sliding_attention"`);
    });
    if (layerKinds.includes('sliding') && window === null) r.fail('"layer_types" has sliding_attention layers but "sliding_window" is not set');
    return { slidingWindow: layerKinds.includes('sliding') ? window : null, layerKinds };
  }
  switch (type) {
    case 'mistral':
    case 'phi3':
      return { slidingWindow: window, layerKinds: kinds(() => window !== null) };
    case 'qwen2': {
      const on = r.bool('use_sliding_window', false) && window !== null;
      const from = r.count('max_window_layers', L);
      return { slidingWindow: on ? window : null, layerKinds: kinds((i) => on && i >= from) };
    }
    case 'gemma2':
      return { slidingWindow: r.int('sliding_window', 4096), layerKinds: kinds((i) => i % 2 === 0) };
    case 'gemma3_text': {
      const pattern = r.int('sliding_window_pattern', 6);
      return { slidingWindow: r.int('sliding_window', 4096), layerKinds: kinds((i) => (i + 1) % pattern !== 0) };
    }
    default:
      return { slidingWindow: null, layerKinds: kinds(() => false) };
  }
}

/** Decodes and parses a config.json's bytes; errors name the file. */
export function readModelConfig(bytes: Uint8Array, source: string): { raw: Record<string, unknown>; arch: ModelArch } {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new ModelConfigError(`${source}: not a JSON file (${(err as Error).message})`);
  }
  return { raw: raw as Record<string, unknown>, arch: parseModelConfig(raw, source) };
}
