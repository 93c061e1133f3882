// The Llama-family decoder (Llama 2/3, Mistral, Qwen2, SmolLM, TinyLlama) on the run's tfjs backend,
// following Hugging Face's modeling_llama.py: per layer h += o_proj(attn(RoPE(q), RoPE(k), v)) on
// RMSNorm(h), then h += down(silu(gate(x))·up(x)) on RMSNorm(h); a final RMSNorm and the (tied or
// untied) head. It composes the node library rather than copying it: RoPE is the `position` node's
// variant plan and rotation, attention is an `attention` variant's kernel, and the KV-cache policy is
// the `kv-cache` node's rule (StreamingLLM's kept set), so a technique plugged in here is the code
// the oracles verify. Projections, norms and the MLP run as tfjs ops; q/k/v cross to the host for
// the attention kernel (its contract is host tensors). Checkpoints of this lab's trainer (train.lm) may
// record another position scheme (position_embedding_type) and a sliding_window: see nativePosition.
import type * as tfc from '@tensorflow/tfjs-core';
import type { RunContext } from '../../engine/node.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import type { BiasValue, ModelValue, WeightSource } from '../../engine/values.js';
import { variants as attentionVariants, type AttentionParams } from '../attention/index.js';
import type { AttentionVariant } from '../attention/common.js';
import { attentionProbe, exactProbe } from '../attention/probe.js';
import { variantName } from '../../engine/variants.js';
import { variants as positionVariants, type PositionNodeParams } from '../position/index.js';
import { lengthOf, type PositionVariant, type RotaryPlan } from '../position/common.js';
import { rotaryTables } from '../position/rotate.js';
import { streamingKept } from '../kv-cache/streaming.js';
import { evict as h2oEvict } from '../kv-cache/h2o.js';
import { kivi, kiviBytes } from '../kv-cache/kivi.js';
import { parseModelConfig, type ModelArch } from './config.js';
import { ropeFromConfig } from '../position/from-config.js';
import { sinusoidTable as vaswaniTable } from '../position/rotate.js';
import { ropeInv } from '../position/common.js';

/** The model types whose checkpoints this forward pass runs (others are parsed for planning only). */
export const FORWARD_MODEL_TYPES = ['llama', 'mistral', 'qwen2'] as const;

export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelError';
  }
}

/** The checked architecture of a model value that model.forward can run. */
export function forwardArch(model: ModelValue): ModelArch {
  const arch = parseModelConfig(model.config, model.source ? `${model.source}/config.json` : 'config.json');
  const where = arch.source;
  if (!(FORWARD_MODEL_TYPES as readonly string[]).includes(arch.modelType))
    throw new ModelError(`${where}: model_type "${arch.modelType}" is sized by model.config/plan, but the forward pass runs ${FORWARD_MODEL_TYPES.join(', ')} only`);
  const act = model.config.hidden_act ?? 'silu';
  if (act !== 'silu') throw new ModelError(`${where}: hidden_act "${String(act)}" is not supported (the Llama family uses "silu")`);
  if (arch.rope && arch.rope.partialRotaryFactor !== 1) throw new ModelError(`${where}: partial_rotary_factor ${arch.rope.partialRotaryFactor} is not supported (Llama rotates every dim)`);
  positionScheme(model.config, where);
  return arch;
}

/**
 * How a checkpoint encodes positions. HF Llama always rotates; this lab's trainer (train.lm) records
 * other schemes as `position_embedding_type`: none (NoPE), alibi (bias), xpos (RoPE with a decay),
 * sinusoidal or learned (added to the token embeddings before layer 0).
 */
export const POSITION_EMBEDDING_TYPES = ['rope', 'none', 'alibi', 'xpos', 'sinusoidal', 'learned'] as const;
export type PositionEmbeddingType = (typeof POSITION_EMBEDDING_TYPES)[number];

export function positionScheme(config: Record<string, unknown>, where = 'config.json'): PositionEmbeddingType {
  const t = config.position_embedding_type ?? 'rope';
  if (!(POSITION_EMBEDDING_TYPES as readonly unknown[]).includes(t))
    throw new ModelError(`${where}: "position_embedding_type" ${JSON.stringify(t)} is not one of ${POSITION_EMBEDDING_TYPES.join(', ')}`);
  return t as PositionEmbeddingType;
}

/**
 * The attention window of each layer: the config's sliding layers (Mistral, Qwen2, Gemma), and for a
 * llama checkpoint of this lab (train.lm) its `sliding_window` on every layer; null: full attention.
 */
export function layerWindows(arch: ModelArch, config: Record<string, unknown>): (number | null)[] {
  const own = arch.modelType === 'llama' && typeof config.sliding_window === 'number' && config.sliding_window > 0 ? config.sliding_window : null;
  return arch.layerKinds.map((k) => (own ?? (k === 'sliding' ? arch.slidingWindow : null)));
}

/**
 * The model's own position technique as `position` node params: the config's RoPE through
 * ropeFromConfig (HF's rope_scaling semantics), or `scaling` in its place; xPos with the trainer's
 * γ = 0.4 and scale base 512; none for NoPE, ALiBi's bias, and the schemes added at the embeddings.
 * `interpolation`: a linear rope_scaling factor on xPos (the trainer's position interpolation).
 */
export function nativePosition(
  arch: ModelArch,
  config: Record<string, unknown>,
  /** an HF rope_scaling replacing the config's (null: none); undefined: the config's */
  override?: Record<string, unknown> | null,
): { position: PositionNodeParams; interpolation: number } {
  const scheme = positionScheme(config, arch.source);
  // The trainer records its interpolation factor whatever the scheme; only rotations use it.
  const rotary = scheme === 'rope' || scheme === 'xpos';
  const scaling = override !== undefined ? override : rotary ? (arch.rope?.scaling ?? null) : null;
  const type = scaling ? String(scaling.rope_type ?? scaling.type ?? 'default') : 'default';
  if (scheme === 'rope') {
    const r = ropeFromConfig(arch, { scaling });
    return { position: r.params as PositionNodeParams, interpolation: 1 };
  }
  const common = { base: arch.rope?.theta ?? 10000, positionOffset: 0, layout: 'half' as const };
  if (scheme === 'xpos') {
    if (type !== 'default' && type !== 'linear') throw new ModelError(`${arch.source}: rope_scaling "${type}" on an xpos model: only "linear" (position interpolation) applies`);
    const factor = type === 'linear' ? Number(scaling!.factor) : 1;
    if (!(factor >= 1)) throw new ModelError(`${arch.source}: rope_scaling.factor must be a number ≥ 1, got ${JSON.stringify(scaling!.factor)}`);
    return { position: { variant: 'xpos', ...common, scaleBase: 512, gamma: 0.4 } as PositionNodeParams, interpolation: factor };
  }
  if (type !== 'default') throw new ModelError(`rope_scaling "${type}" needs a rotary model; ${arch.source} has position_embedding_type "${scheme}"`);
  return { position: { variant: scheme === 'alibi' ? 'alibi' : 'none', ...common } as PositionNodeParams, interpolation: 1 };
}

/** Every tensor a Llama checkpoint holds, by HF name, with its shape; `optional` for biases. */
export function expectedTensors(arch: ModelArch, config: Record<string, unknown> = {}): { name: string; shape: number[]; optional?: boolean }[] {
  const { hiddenSize: hid, intermediateSize: inter, vocabSize: V, numHeads: H, numKvHeads: Hkv, headDim: D } = arch;
  const list: { name: string; shape: number[]; optional?: boolean }[] = [{ name: 'model.embed_tokens.weight', shape: [V, hid] }];
  if (positionScheme(config, arch.source) === 'learned') list.push({ name: 'model.embed_positions.weight', shape: [arch.maxPositionEmbeddings, hid] });
  for (let l = 0; l < arch.numLayers; l++) {
    const p = `model.layers.${l}.`;
    list.push(
      { name: `${p}input_layernorm.weight`, shape: [hid] },
      { name: `${p}self_attn.q_proj.weight`, shape: [H * D, hid] },
      { name: `${p}self_attn.k_proj.weight`, shape: [Hkv * D, hid] },
      { name: `${p}self_attn.v_proj.weight`, shape: [Hkv * D, hid] },
      { name: `${p}self_attn.o_proj.weight`, shape: [hid, H * D] },
      { name: `${p}self_attn.q_proj.bias`, shape: [H * D], optional: !arch.bias.qkv },
      { name: `${p}self_attn.k_proj.bias`, shape: [Hkv * D], optional: !arch.bias.qkv },
      { name: `${p}self_attn.v_proj.bias`, shape: [Hkv * D], optional: !arch.bias.qkv },
      { name: `${p}self_attn.o_proj.bias`, shape: [hid], optional: !arch.bias.o },
      { name: `${p}post_attention_layernorm.weight`, shape: [hid] },
      { name: `${p}mlp.gate_proj.weight`, shape: [inter, hid] },
      { name: `${p}mlp.up_proj.weight`, shape: [inter, hid] },
      { name: `${p}mlp.down_proj.weight`, shape: [hid, inter] },
    );
  }
  list.push({ name: 'model.norm.weight', shape: [hid] });
  // A tied model may still ship lm_head.weight (a copy); an untied one must.
  list.push({ name: 'lm_head.weight', shape: [V, hid], optional: arch.tieWordEmbeddings });
  return list;
}

/** A KV-cache policy for incremental decoding. */
export type CachePolicy =
  | { policy: 'full' }
  /** StreamingLLM: sinks + a recent window; RoPE at positions inside the cache ('cache') or the original ones. */
  | { policy: 'streaming'; sinkTokens: number; recentTokens: number; positions: 'cache' | 'original' }
  /** H2O: the recent window plus the heavy hitters by attention received (summed over heads and layers). */
  | { policy: 'h2o'; heavyTokens: number; recentTokens: number }
  /** KIVI: keys per channel and values per token quantized to 2/4 bits, the newest in full precision. */
  | { policy: 'kivi'; bits: 2 | 4; groupSize: number; residualTokens: number }
  /** Paged (vLLM): the full cache held in fixed blocks of blockSize tokens, read through a block table. */
  | { policy: 'paged'; blockSize: number };

/** What a technique plugs into the forward pass: parsed params of each node family. */
export interface Technique {
  attention: AttentionParams;
  position: PositionNodeParams;
  cache: CachePolicy;
  /** Divides the rotary frequencies (position interpolation on xPos, which has no scaling rule of its own); default 1. */
  interpolation?: number;
}

const attentionByName = new Map(attentionVariants.map((v) => [variantName(v), v]));
const positionByName = new Map(positionVariants.map((v) => [variantName(v), v]));

interface LayerWeights {
  inNorm: tfc.Tensor1D;
  postNorm: tfc.Tensor1D;
  q: tfc.Tensor2D;
  k: tfc.Tensor2D;
  v: tfc.Tensor2D;
  o: tfc.Tensor2D;
  qb?: tfc.Tensor1D;
  kb?: tfc.Tensor1D;
  vb?: tfc.Tensor1D;
  ob?: tfc.Tensor1D;
  gate: tfc.Tensor2D;
  up: tfc.Tensor2D;
  down: tfc.Tensor2D;
}

/**
 * A model's weights on the backend for one node run: uploaded once (linear weights transposed to
 * [in, out]), disposed by `dispose()`. Sessions (one sequence and its cache each) share it.
 */
export class LlamaModel {
  private constructor(
    readonly ctx: RunContext,
    readonly arch: ModelArch,
    readonly embed: tfc.Tensor2D,
    readonly head: tfc.Tensor2D,
    readonly finalNorm: tfc.Tensor1D,
    readonly layers: LayerWeights[],
    /** Bytes uploaded to the backend. */
    readonly bytes: number,
    /** rms_norm_eps (HF's default 1e-6). */
    readonly eps: number,
    /** How the checkpoint encodes positions (position_embedding_type). */
    readonly scheme: PositionEmbeddingType,
    /** Learned absolute positions [max_position_embeddings, hidden] (model.embed_positions.weight). */
    readonly embedPositions: tfc.Tensor2D | undefined,
    /** Each layer's attention window (null: full). */
    readonly windows: (number | null)[],
  ) {}

  /** The absolute-position rows added to the embeddings of tokens at `first`..`first + n − 1` (sinusoidal, learned). */
  positionRows(first: number, n: number): tfc.Tensor2D | undefined {
    const { tf } = this.ctx;
    const hid = this.arch.hiddenSize;
    if (this.scheme === 'sinusoidal') {
      const positions = Int32Array.from({ length: n }, (_, i) => first + i);
      return tf.tensor2d(vaswaniTable(ropeInv(10000, hid), positions), [n, hid]);
    }
    if (this.scheme !== 'learned') return undefined;
    const max = this.arch.maxPositionEmbeddings;
    if (first + n > max) throw new ModelError(`${this.arch.source}: learned positions hold ${max} positions (max_position_embeddings); token ${first + n - 1} is past them`);
    return tf.slice(this.embedPositions!, [first, 0], [n, hid]);
  }

  static async load(ctx: RunContext, model: ModelValue): Promise<LlamaModel> {
    const arch = forwardArch(model);
    const scheme = positionScheme(model.config, arch.source);
    const w = model.weights;
    if (!w) throw new ModelError(`${arch.source}: this model has no weights (model.config sizes a model; model.load reads one)`);
    const { tf } = ctx;
    const all: tfc.Tensor[] = [];
    let bytes = 0;
    // Linear weights go up transposed ([in, out]): tfjs-wasm multiplies by a pre-transposed operand
    // up to ~70× faster than with transposeB (bench/model-forward.ts).
    const get = async <R extends tfc.Rank>(name: string, optional = false, transpose = false): Promise<tfc.Tensor<R> | undefined> => {
      if (!w.info(name)) {
        if (optional) return undefined;
        throw new ModelError(`${model.source ?? 'model'}: missing tensor "${name}"`);
      }
      const t = await w.read(name);
      ctx.checkCancelled();
      const [rows, cols] = t.shape as [number, number];
      const up = (
        transpose ? tf.tensor2d(transposeHost(t.data as Float32Array, rows, cols), [cols, rows]) : tf.tensor(t.data as Float32Array, t.shape as number[])
      ) as unknown as tfc.Tensor<R>;
      all.push(up);
      bytes += t.data.byteLength;
      return up;
    };
    try {
      const embed = (await get<tfc.Rank.R2>('model.embed_tokens.weight'))!;
      const embedPositions = scheme === 'learned' ? (await get<tfc.Rank.R2>('model.embed_positions.weight'))! : undefined;
      const layers: LayerWeights[] = [];
      for (let l = 0; l < arch.numLayers; l++) {
        const p = `model.layers.${l}.`;
        layers.push({
          inNorm: (await get(`${p}input_layernorm.weight`))!,
          postNorm: (await get(`${p}post_attention_layernorm.weight`))!,
          q: (await get(`${p}self_attn.q_proj.weight`, false, true))!,
          k: (await get(`${p}self_attn.k_proj.weight`, false, true))!,
          v: (await get(`${p}self_attn.v_proj.weight`, false, true))!,
          o: (await get(`${p}self_attn.o_proj.weight`, false, true))!,
          qb: await get(`${p}self_attn.q_proj.bias`, true),
          kb: await get(`${p}self_attn.k_proj.bias`, true),
          vb: await get(`${p}self_attn.v_proj.bias`, true),
          ob: await get(`${p}self_attn.o_proj.bias`, true),
          gate: (await get(`${p}mlp.gate_proj.weight`, false, true))!,
          up: (await get(`${p}mlp.up_proj.weight`, false, true))!,
          down: (await get(`${p}mlp.down_proj.weight`, false, true))!,
        });
        ctx.progress(((l + 1) / arch.numLayers) * 0.05);
      }
      const finalNorm = (await get<tfc.Rank.R1>('model.norm.weight'))!;
      // The head [hid, vocab]: the embeddings transposed when tied (a second copy, for the fast product).
      const head = arch.tieWordEmbeddings
        ? (await get<tfc.Rank.R2>('model.embed_tokens.weight', false, true))!
        : (await get<tfc.Rank.R2>('lm_head.weight', false, true))!;
      const eps = model.config.rms_norm_eps ?? 1e-6;
      if (typeof eps !== 'number' || !(eps > 0)) throw new ModelError(`${arch.source}: "rms_norm_eps" must be a positive number, got ${JSON.stringify(eps)}`);
      return new LlamaModel(ctx, arch, embed, head, finalNorm, layers, bytes, eps, scheme, embedPositions, layerWindows(arch, model.config));
    } catch (err) {
      tf.dispose(all);
      throw err;
    }
  }

  dispose(): void {
    const ts = new Set<tfc.Tensor>([this.embed, this.head, this.finalNorm, ...(this.embedPositions ? [this.embedPositions] : [])]);
    for (const l of this.layers) for (const t of Object.values(l)) if (t) ts.add(t);
    this.ctx.tf.dispose([...ts]);
  }
}

/** Resolved technique: the kernels and the rotation rule. */
interface Plugged {
  attention: AttentionVariant;
  attentionParams: AttentionParams;
  position: PositionVariant;
  positionParams: PositionNodeParams;
  cache: CachePolicy;
  interpolation: number;
}

function plug(t: Technique, arch: ModelArch): Plugged {
  const attention = attentionByName.get(t.attention.variant);
  if (!attention) throw new ModelError(`attention: unknown variant "${t.attention.variant}"`);
  if (t.attention.variant === 'paged') throw new ModelError('attention: "paged" reads K/V through a kv-cache block table; in model.forward use kvCache for the policy and any other attention variant');
  const position = positionByName.get(t.position.variant);
  if (!position) throw new ModelError(`position: unknown variant "${t.position.variant}"`);
  if (position.effect === 'add') throw new ModelError(`position: "${t.position.variant}" adds a table to the embeddings; a Llama checkpoint is trained with a rotation (use rope or a scaling rule, none or alibi)`);
  position.check?.(t.position, arch.headDim);
  return { attention, attentionParams: t.attention, position, positionParams: t.position, cache: t.cache, interpolation: t.interpolation ?? 1 };
}

/** One layer's cached keys or values, [heads, length, D]. */
interface CacheRows {
  readonly length: number;
  readonly bytes: number;
  append(src: Float32Array, n: number): void;
  keep(keep: ArrayLike<number>): void;
  tensor(): Tensor;
}

/**
 * vLLM's paged layout for one layer's keys or values: physical blocks of blockSize tokens
 * ([heads, blockSize, D] each), allocated only when the last one is full, and a block table mapping
 * the sequence's logical blocks to physical ids. Reads gather through the table, as paged attention
 * does; the bytes are the allocated blocks, so the last block's unused slots are counted (internal
 * fragmentation).
 */
class PagedRows implements CacheRows {
  length = 0;
  private readonly blockTable: number[] = [];
  private readonly storage = new Map<number, Float32Array>();
  constructor(
    readonly heads: number,
    readonly D: number,
    readonly blockSize: number,
    private readonly pool: { next: number },
  ) {}
  get blocks(): number {
    return this.blockTable.length;
  }
  get bytes(): number {
    return this.blocks * this.heads * this.blockSize * this.D * 4;
  }
  append(src: Float32Array, n: number): void {
    const { heads, D, blockSize: B } = this;
    for (let r = 0; r < n; r++, this.length++) {
      const slot = this.length % B;
      if (slot === 0) {
        const id = this.pool.next++;
        this.blockTable.push(id);
        this.storage.set(id, new Float32Array(heads * B * D));
      }
      const block = this.storage.get(this.blockTable[Math.floor(this.length / B)]!)!;
      for (let h = 0; h < heads; h++) block.set(src.subarray((h * n + r) * D, (h * n + r + 1) * D), (h * B + slot) * D);
    }
  }
  keep(): void {
    throw new ModelError('kvCache: the paged policy keeps every token (it is a layout, not an eviction rule)');
  }
  tensor(): Tensor {
    const { heads, D, blockSize: B, length: T } = this;
    const out = new Float32Array(heads * T * D);
    for (let t = 0; t < T; t += B) {
      const block = this.storage.get(this.blockTable[t / B]!)!;
      const rows = Math.min(B, T - t);
      for (let h = 0; h < heads; h++) out.set(block.subarray(h * B * D, (h * B + rows) * D), (h * T + t) * D);
    }
    return f32([heads, T, D], out, ['Hkv', 'T', 'D']);
  }
}

/** A host tensor [rows, D] per head, growable, holding one layer's pre-RoPE keys or values. */
class HeadRows implements CacheRows {
  private data: Float32Array;
  private cap: number;
  length = 0;
  constructor(
    readonly heads: number,
    readonly D: number,
    cap = 64,
  ) {
    this.cap = cap;
    this.data = new Float32Array(heads * cap * D);
  }
  /** Appends [heads, n, D] rows. */
  append(src: Float32Array, n: number): void {
    if (this.length + n > this.cap) {
      let cap = this.cap;
      while (cap < this.length + n) cap *= 2;
      const next = new Float32Array(this.heads * cap * this.D);
      for (let h = 0; h < this.heads; h++) next.set(this.data.subarray(h * this.cap * this.D, (h * this.cap + this.length) * this.D), h * cap * this.D);
      this.data = next;
      this.cap = cap;
    }
    for (let h = 0; h < this.heads; h++)
      this.data.set(src.subarray(h * n * this.D, (h + 1) * n * this.D), (h * this.cap + this.length) * this.D);
    this.length += n;
  }
  /** Keeps rows `keep` (ascending cache indices), in order. */
  keep(keep: ArrayLike<number>): void {
    for (let h = 0; h < this.heads; h++) {
      const base = h * this.cap * this.D;
      for (let i = 0; i < keep.length; i++) {
        const from = keep[i]!;
        if (from !== i) this.data.copyWithin(base + i * this.D, base + from * this.D, base + (from + 1) * this.D);
      }
    }
    this.length = keep.length;
  }
  /** The rows as a host tensor [heads, length, D] (a copy). */
  tensor(): Tensor {
    const out = new Float32Array(this.heads * this.length * this.D);
    for (let h = 0; h < this.heads; h++) out.set(this.data.subarray(h * this.cap * this.D, (h * this.cap + this.length) * this.D), h * this.length * this.D);
    return f32([this.heads, this.length, this.D], out, ['Hkv', 'T', 'D']);
  }
  get bytes(): number {
    return this.heads * this.length * this.D * 4;
  }
}

export interface AppendResult {
  /** [rows, vocab] logits: every appended token's, or the last one's. */
  logits: Float32Array;
  rows: number;
  /** [L, H, P, P] attention probes of this append's queries (when asked). */
  probes?: Tensor;
}

/**
 * One sequence: appends tokens (a prefill of many, or one per decode step) and keeps each layer's
 * K/V under the cache policy. Keys are cached after RoPE at their original positions (as HF's cache),
 * or, for StreamingLLM with positions inside the cache, before RoPE and rotated anew every step.
 */
export class LlamaSession {
  private readonly plugged: Plugged;
  private readonly keys: CacheRows[];
  private readonly values: CacheRows[];
  /** Paged policy: the physical block ids every layer's keys and values draw from. */
  private readonly pool = { next: 0 };
  /** Original positions of the cached tokens, in cache order (shared by every layer). */
  private held: number[] = [];
  private seen = 0;
  /** Largest number of tokens any step held. */
  peakKvTokens = 0;
  /** H2O: attention each original position has received so far. */
  private readonly score: number[] = [];

  constructor(
    readonly model: LlamaModel,
    technique: Technique,
  ) {
    this.plugged = plug(technique, model.arch);
    const { numLayers, numKvHeads, headDim } = model.arch;
    const c = this.plugged.cache;
    const rows = () => (c.policy === 'paged' ? new PagedRows(numKvHeads, headDim, c.blockSize, this.pool) : new HeadRows(numKvHeads, headDim));
    this.keys = Array.from({ length: numLayers }, rows);
    this.values = Array.from({ length: numLayers }, rows);
  }

  get kvTokens(): number {
    return this.held.length;
  }
  /** Bytes the cache holds now, over all layers (float32; KIVI: packed codes, scales, residual). */
  get kvBytes(): number {
    const c = this.plugged.cache;
    const { numLayers, numKvHeads: Hkv, headDim: D } = this.model.arch;
    if (c.policy === 'kivi') return numLayers * kiviBytes(this.held.length, { Hkv, D, Dv: D }, c);
    return this.keys.reduce((n, k) => n + k.bytes, 0) * 2;
  }
  /** Paged policy: blocks allocated over all layers (keys and values) and the share of their slots unused. */
  get paging(): { kvBlocks: number; fragmentation: number } | undefined {
    const c = this.plugged.cache;
    if (c.policy !== 'paged') return undefined;
    const blocks = [...this.keys, ...this.values].reduce((n, r) => n + (r as PagedRows).blocks, 0);
    const used = [...this.keys, ...this.values].reduce((n, r) => n + r.length, 0);
    return { kvBlocks: blocks, fragmentation: blocks ? 1 - used / (blocks * c.blockSize) : 0 };
  }

  async append(ids: Int32Array, opts: { rows?: 'all' | 'last'; probes?: boolean } = {}): Promise<AppendResult> {
    const { ctx, arch } = this.model;
    const { tf } = ctx;
    const n = ids.length;
    if (n === 0) throw new ModelError('append: no tokens');
    for (const id of ids) if (!(id >= 0 && id < arch.vocabSize)) throw new ModelError(`token id ${id} is outside the vocabulary [0, ${arch.vocabSize})`);
    // StreamingLLM evicts for space first (evict_for_space): the new tokens attend to what the cache holds after them.
    if (this.plugged.cache.policy === 'streaming') this.evict(this.seen + n);
    for (let i = 0; i < n; i++) this.held.push(this.seen + i);
    this.seen += n;
    this.peakKvTokens = Math.max(this.peakKvTokens, this.held.length);
    const rope = this.ropeFor();
    const probes: Tensor[] = [];
    let x = tf.tidy(() => {
      const e = tf.gather(this.model.embed, tf.tensor1d(ids, 'int32')) as tfc.Tensor2D;
      // Absolute positions (sinusoidal, learned) join the embeddings at the tokens' own positions.
      const rows = this.model.positionRows(this.seen - n, n);
      return rows ? tf.add(e, rows) : e;
    }) as tfc.Tensor2D;
    try {
      for (let l = 0; l < arch.numLayers; l++) {
        ctx.checkCancelled();
        const next = await this.layer(l, x, n, rope, opts.probes ? probes : undefined);
        x.dispose();
        x = next;
      }
      const rows = opts.rows === 'last' ? 1 : n;
      const logits = tf.tidy(() => {
        const h = rows === n ? x : tf.slice(x, [n - 1, 0], [1, -1]);
        return tf.matMul(rmsNorm(tf, h, this.model.finalNorm, this.model.eps), this.model.head);
      });
      const data = (await logits.data()) as Float32Array;
      logits.dispose();
      this.evict(this.seen);
      return { logits: data, rows, ...(opts.probes ? { probes: stackProbes(probes) } : {}) };
    } finally {
      x.dispose();
    }
  }

  /** Whether cached keys are kept unrotated and rotated anew every step (positions inside the cache). */
  private reRotates(): boolean {
    const c = this.plugged.cache;
    return c.policy === 'streaming' && c.positions === 'cache';
  }

  /** Rotation tables for every cached key (after this append's tokens joined) and the attention bias. */
  private ropeFor() {
    const { arch } = this.model;
    const { position, positionParams, cache } = this.plugged;
    const m = this.held.length;
    const positions =
      cache.policy === 'streaming' && cache.positions === 'cache' ? Int32Array.from({ length: m }, (_, i) => i) : Int32Array.from(this.held);
    const { interpolation } = this.plugged;
    const raw: RotaryPlan = position.plan(positionParams, arch.headDim, lengthOf(positions));
    const plan = interpolation === 1 ? raw : { ...raw, inv: raw.inv.map((f) => f / interpolation) };
    const bias: BiasValue = { kind: 'bias', terms: position.bias?.(positionParams, arch.numHeads) ?? [] };
    if (position.effect !== 'rotate') return { positions, tables: undefined, keyTables: undefined, bias };
    const tables = rotaryTables(plan, positions, 1);
    // xPos: keys decay the other way, ζ^(−n/scaleBase).
    return { positions, tables, keyTables: plan.xpos ? rotaryTables(plan, positions, -1) : tables, bias };
  }

  private async layer(
    l: number,
    x: tfc.Tensor2D,
    n: number,
    rope: ReturnType<LlamaSession['ropeFor']>,
    probes: Tensor[] | undefined,
  ): Promise<tfc.Tensor2D> {
    const { ctx, arch } = this.model;
    const { tf } = ctx;
    const w = this.model.layers[l]!;
    const { numHeads: H, numKvHeads: Hkv, headDim: D } = arch;
    // q [H, n, D], k and v [Hkv, n, D], before RoPE.
    const [q, k, v] = tf.tidy(() => {
      const h = rmsNorm(tf, x, w.inNorm, this.model.eps);
      const proj = (W: tfc.Tensor2D, b: tfc.Tensor1D | undefined, heads: number) => {
        const y = tf.matMul(h, W);
        return tf.transpose(tf.reshape(b ? tf.add(y, b) : y, [n, heads, D]), [1, 0, 2]) as tfc.Tensor3D;
      };
      return [proj(w.q, w.qb, H), proj(w.k, w.kb, Hkv), proj(w.v, w.vb, Hkv)];
    });
    const [kHost, vHost] = await Promise.all([k.data(), v.data()]);
    tf.dispose([k, v]);
    const m = this.held.length;
    // RoPE on the host with the position node's tables (a few flops per element: cheaper than a round
    // trip to the backend). As HF's cache does, keys are stored rotated at their positions, so a
    // frequency rule that changes with the length (dynamic NTK) leaves earlier keys as they were;
    // StreamingLLM's cache positions shift as tokens leave, so there keys are stored unrotated and
    // every step rotates them all at positions 0..kept−1.
    const reRotate = this.reRotates();
    const { tables, keyTables } = rope;
    const newKeys = keyTables && !reRotate ? rotateRows(kHost as Float32Array, Hkv, n, D, keyTables, m - n) : (kHost as Float32Array);
    this.keys[l]!.append(newKeys, n);
    this.values[l]!.append(vHost as Float32Array, n);
    const qData = (await q.data()) as Float32Array;
    q.dispose();
    const qRot = f32([H, n, D], tables ? rotateRows(qData, H, n, D, tables, m - n) : qData, ['H', 'T', 'D']);
    const kAll = this.keys[l]!.tensor();
    let kRot = keyTables && reRotate ? f32([Hkv, m, D], rotateRows(kAll.data as Float32Array, Hkv, m, D, keyTables, 0), ['Hkv', 'T', 'D']) : kAll;
    let vAll = this.values[l]!.tensor();
    const s = { H, Hkv, Tq: n, Tk: m, D, Dv: D };
    const c = this.plugged.cache;
    if (c.policy === 'kivi') {
      // What a KIVI cache holds after m tokens: the kv-cache node's own quantizer over the (rotated) keys and values.
      const q = kivi.simulate({ k: kRot, v: vAll }, { variant: 'kivi', prefillTokens: m, ...c }, { Hkv, T: m, D, Dv: D, H: null }, () => {});
      kRot = q.k!;
      vAll = q.v!;
    }
    if (c.policy === 'h2o') this.accumulate(qRot, kRot, s);
    const { attention, attentionParams: ap } = this.plugged;
    // A sliding layer sees its last `window` keys (itself included), as HF's sliding-window mask.
    const window = this.model.windows[l];
    const terms = window ? [...rope.bias.terms, { type: 'streaming' as const, sinkTokens: 0, recentTokens: window }] : rope.bias.terms;
    const bias: BiasValue | undefined = terms.length ? { kind: 'bias', terms } : undefined;
    // The kernel's own progress would claim the whole node: it reports nothing here.
    const inner: RunContext = { ...ctx, progress: () => {} };
    const attn = await attention.run(inner, { q: qRot, k: kRot, v: vAll, bias }, ap, s);
    if (probes) probes.push(await attentionProbe(inner, { q: qRot, k: kRot, bias }, ap, s, attention.probe?.(ap, s) ?? exactProbe));
    return tf.tidy(() => {
      const o = tf.reshape(tf.transpose(tf.tensor3d(attn.data as Float32Array, [H, n, D]), [1, 0, 2]), [n, H * D]);
      let a = tf.matMul(o, w.o);
      if (w.ob) a = tf.add(a, w.ob);
      const h1 = tf.add(x, a) as tfc.Tensor2D;
      const z = rmsNorm(tf, h1, w.postNorm, this.model.eps);
      const g = tf.matMul(z, w.gate);
      const mlp = tf.matMul(tf.mul(tf.mul(g, tf.sigmoid(g)), tf.matMul(z, w.up)), w.down);
      return tf.add(h1, mlp) as tfc.Tensor2D;
    });
  }

  /**
   * H2O's score: every new query's causal softmax row over the held keys (scale 1/√D, as the
   * kv-cache node's h2o), added to the keys' accumulated attention; summed over heads and layers.
   */
  private accumulate(q: Tensor, k: Tensor, s: { H: number; Hkv: number; Tq: number; Tk: number; D: number }): void {
    const { H, Hkv, Tq: n, Tk: m, D } = s;
    const qd = q.data as Float32Array;
    const kd = k.data as Float32Array;
    const row = new Float64Array(m);
    const scale = 1 / Math.sqrt(D);
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / (H / Hkv));
      for (let r = 0; r < n; r++) {
        const visible = m - n + r + 1;
        let max = -Infinity;
        for (let c = 0; c < visible; c++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += qd[(h * n + r) * D + d]! * kd[(g * m + c) * D + d]!;
          row[c] = dot * scale;
          if (row[c]! > max) max = row[c]!;
        }
        let sum = 0;
        for (let c = 0; c < visible; c++) sum += row[c] = Math.exp(row[c]! - max);
        for (let c = 0; c < visible; c++) {
          const p = this.held[c]!;
          this.score[p] = (this.score[p] ?? 0) + row[c]! / sum;
        }
      }
    }
  }

  /**
   * Keeps the cached tokens the policy holds once `len` tokens have arrived (those not cached yet
   * stay out: a prefill attends to all of itself, then is trimmed after it).
   */
  private evict(len: number): void {
    const c = this.plugged.cache;
    if (c.policy === 'full' || c.policy === 'kivi' || c.policy === 'paged') return;
    let keepPositions: number[];
    if (c.policy === 'h2o') {
      if (this.held.length <= c.heavyTokens + c.recentTokens) return;
      keepPositions = h2oEvict(this.held, this.score, c.recentTokens, c.heavyTokens);
    } else keepPositions = Array.from(streamingKept(len, c.sinkTokens, c.recentTokens));
    const kept = new Set(keepPositions);
    const keep = this.held.flatMap((p, i) => (kept.has(p) ? [i] : []));
    if (keep.length === this.held.length) return;
    for (const rows of [...this.keys, ...this.values]) rows.keep(keep);
    this.held = keep.map((i) => this.held[i]!);
  }
}


/**
 * HF rotate_half RoPE of x [heads, rows, D] whose row r sits at table row `first + r`:
 * out = [x1·c − x2·s, x2·c + x1·s] (the position node's rotateTf, on the host).
 */
function rotateRows(x: Float32Array, heads: number, rows: number, D: number, t: { cos: Float32Array; sin: Float32Array }, first: number): Float32Array {
  const half = D / 2;
  const out = new Float32Array(x.length);
  for (let h = 0; h < heads; h++)
    for (let r = 0; r < rows; r++) {
      const o = (h * rows + r) * D;
      const tr = (first + r) * half;
      for (let i = 0; i < half; i++) {
        const c = t.cos[tr + i]!;
        const s = t.sin[tr + i]!;
        const x1 = x[o + i]!;
        const x2 = x[o + i + half]!;
        out[o + i] = x1 * c - x2 * s;
        out[o + i + half] = x2 * c + x1 * s;
      }
    }
  return out;
}

/** [rows, cols] → [cols, rows], in blocks (a backend transpose of a 135M-parameter model takes ~1 min on wasm). */
function transposeHost(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  const B = 64;
  for (let r0 = 0; r0 < rows; r0 += B)
    for (let c0 = 0; c0 < cols; c0 += B)
      for (let r = r0; r < Math.min(r0 + B, rows); r++)
        for (let c = c0; c < Math.min(c0 + B, cols); c++) out[c * rows + r] = x[r * cols + c]!;
  return out;
}

/** HF LlamaRMSNorm: x · rsqrt(mean(x²) + ε) · weight, in float32. */
function rmsNorm(tf: typeof tfc, x: tfc.Tensor2D, w: tfc.Tensor1D, epsilon: number): tfc.Tensor2D {
  return tf.tidy(() => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), epsilon))), w)) as tfc.Tensor2D;
}

function stackProbes(list: Tensor[]): Tensor {
  const [H, P, Q] = list[0]!.shape as [number, number, number];
  const out = new Float32Array(list.length * H * P * Q);
  list.forEach((t, i) => out.set(t.data as Float32Array, i * H * P * Q));
  return f32([list.length, H, P, Q], out, ['L', 'H', 'P', 'P']);
}

/** Runs ids through a session: one prefill of `prefillTokens` (all when undefined), then one token per step. */
export async function forwardTokens(
  model: LlamaModel,
  technique: Technique,
  ids: Int32Array,
  opts: { prefillTokens?: number; probes?: boolean; onStep?: (done: number) => void } = {},
): Promise<{ logits: Float32Array; probes?: Tensor; session: LlamaSession }> {
  const V = model.arch.vocabSize;
  const T = ids.length;
  const P = Math.min(opts.prefillTokens ?? T, T);
  const session = new LlamaSession(model, technique);
  const logits = new Float32Array(T * V);
  let probes: Tensor | undefined;
  if (P > 0) {
    const r = await session.append(ids.subarray(0, P), { probes: opts.probes });
    logits.set(r.logits, 0);
    probes = r.probes;
    opts.onStep?.(P);
  }
  for (let t = P; t < T; t++) {
    const r = await session.append(ids.subarray(t, t + 1));
    logits.set(r.logits, t * V);
    opts.onStep?.(t + 1);
  }
  return { logits, probes, session };
}

/** Index of the largest value of row `r` of a [rows, V] array. */
export function argmaxRow(logits: Float32Array, r: number, V: number): number {
  let best = 0;
  for (let i = 1; i < V; i++) if (logits[r * V + i]! > logits[r * V + best]!) best = i;
  return best;
}

export type { WeightSource };
