// A small decoder-only LM of the Llama family, written in tfjs ops so autograd trains it: RMSNorm,
// q/k/v/o projections with grouped-query attention, SwiGLU MLP, untied head. Tensor names and
// layouts are Hugging Face's (`nn.Linear` weights are [out, in]), so a checkpoint is a plain
// `LlamaForCausalLM` when the position scheme is RoPE. The position scheme is a parameter:
// rotations come from the position node's own variants (RoPE, PI, xPos); ALiBi from its slopes.
import type * as tfc from '@tensorflow/tfjs-core';
import { alibiSlopes } from '../position/alibi.js';
import { ropeInv, type RotaryPlan } from '../position/common.js';
import { rotaryTables } from '../position/rotate.js';
import { fillGaussian } from '../common/random.js';

export const POSITION_SCHEMES = ['none', 'sinusoidal', 'learned', 'rope', 'alibi', 'xpos'] as const;
export type PositionScheme = (typeof POSITION_SCHEMES)[number];

export interface LmArch {
  vocab: number;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  position: PositionScheme;
  ropeTheta: number;
  /** HF rope_scaling of type "linear" (position interpolation): positions divided by this factor. */
  ropeLinearFactor: number;
  /** Longest position a learned table holds (max_position_embeddings). */
  maxPositions: number;
  rmsNormEps: number;
  /** Sliding-window attention: a query sees at most this many keys (itself included); 0 = full. */
  window: number;
}

export type Weights = Map<string, { shape: number[]; data: Float32Array }>;

/** Every tensor of the model with its HF name and shape. */
export function weightShapes(a: LmArch): [string, number[]][] {
  const D = a.hidden / a.heads;
  const out: [string, number[]][] = [['model.embed_tokens.weight', [a.vocab, a.hidden]]];
  if (a.position === 'learned') out.push(['model.embed_positions.weight', [a.maxPositions, a.hidden]]);
  for (let l = 0; l < a.layers; l++) {
    const p = `model.layers.${l}.`;
    out.push(
      [`${p}input_layernorm.weight`, [a.hidden]],
      [`${p}self_attn.q_proj.weight`, [a.heads * D, a.hidden]],
      [`${p}self_attn.k_proj.weight`, [a.kvHeads * D, a.hidden]],
      [`${p}self_attn.v_proj.weight`, [a.kvHeads * D, a.hidden]],
      [`${p}self_attn.o_proj.weight`, [a.hidden, a.heads * D]],
      [`${p}post_attention_layernorm.weight`, [a.hidden]],
      [`${p}mlp.gate_proj.weight`, [a.intermediate, a.hidden]],
      [`${p}mlp.up_proj.weight`, [a.intermediate, a.hidden]],
      [`${p}mlp.down_proj.weight`, [a.hidden, a.intermediate]],
    );
  }
  out.push(['model.norm.weight', [a.hidden]], ['lm_head.weight', [a.vocab, a.hidden]]);
  return out;
}

export function checkArch(a: LmArch): void {
  if (a.hidden % a.heads !== 0) throw new Error(`hidden (${a.hidden}) must be a multiple of heads (${a.heads})`);
  if (a.heads % a.kvHeads !== 0) throw new Error(`kvHeads (${a.kvHeads}) must divide heads (${a.heads})`);
  const D = a.hidden / a.heads;
  if ((a.position === 'rope' || a.position === 'xpos') && D % 2 !== 0) throw new Error(`head dim hidden/heads = ${D} must be even for ${a.position}`);
  if (a.position === 'sinusoidal' && a.hidden % 2 !== 0) throw new Error(`hidden (${a.hidden}) must be even for sinusoidal positions`);
}

/** Seeded initialisation as HF Llama does it: normal(0, 0.02) for matrices, ones for norms. */
export function initWeights(a: LmArch, seed: number): Weights {
  checkArch(a);
  const w: Weights = new Map();
  weightShapes(a).forEach(([name, shape], i) => {
    const n = shape.reduce((x, y) => x * y, 1);
    const data = new Float32Array(n);
    if (shape.length === 1) data.fill(1);
    else {
      fillGaussian(data, seed, 101, i);
      for (let j = 0; j < n; j++) data[j]! *= 0.02;
    }
    w.set(name, { shape, data });
  });
  return w;
}

/** The rotation for RoPE-family schemes, planned by the same code as the position node. */
export function rotaryPlan(a: LmArch): RotaryPlan | undefined {
  const D = a.hidden / a.heads;
  if (a.position !== 'rope' && a.position !== 'xpos') return undefined;
  const inv = ropeInv(a.ropeTheta, D).map((f) => f / a.ropeLinearFactor);
  if (a.position === 'rope') return { inv, attentionFactor: 1 };
  // xPos with the paper's γ = 0.4 and scale base 512 (the position node's defaults).
  const zeta = new Float64Array(D / 2);
  for (let i = 0; i < D / 2; i++) zeta[i] = ((2 * i) / D + 0.4) / 1.4;
  return { inv, attentionFactor: 1, xpos: { zeta, scaleBase: 512 } };
}

/** Vaswani et al.'s table [T, hidden]: sin at even, cos at odd dims, base 10000. */
export function sinusoidTable(T: number, hidden: number): Float32Array {
  const out = new Float32Array(T * hidden);
  for (let n = 0; n < T; n++)
    for (let i = 0; i < hidden / 2; i++) {
      const angle = n * Math.pow(10000, (-2 * i) / hidden);
      out[n * hidden + 2 * i] = Math.sin(angle);
      out[n * hidden + 2 * i + 1] = Math.cos(angle);
    }
  return out;
}

/** Additive score bias [Hb, T, T] (Hb = heads for ALiBi, else 1): causal mask, window, ALiBi. */
export function attentionBias(a: LmArch, T: number): { data: Float32Array; heads: number } {
  const slopes = a.position === 'alibi' ? alibiSlopes(a.heads) : [0];
  const out = new Float32Array(slopes.length * T * T);
  slopes.forEach((m, h) => {
    for (let i = 0; i < T; i++)
      for (let j = 0; j < T; j++) {
        const visible = j <= i && (a.window === 0 || i - j < a.window);
        out[(h * T + i) * T + j] = visible ? -m * (i - j) : -1e9;
      }
  });
  return { data: out, heads: slopes.length };
}

/** Host tables a forward pass at length T needs, made once per length and reused every step. */
export interface PositionTables {
  T: number;
  bias: tfc.Tensor;
  add?: tfc.Tensor;
  rotQ?: { cos: tfc.Tensor; sin: tfc.Tensor };
  rotK?: { cos: tfc.Tensor; sin: tfc.Tensor };
}

export function positionTables(tf: typeof tfc, a: LmArch, T: number): PositionTables {
  const D = a.hidden / a.heads;
  const b = attentionBias(a, T);
  const tables: PositionTables = { T, bias: tf.tensor3d(b.data, [b.heads, T, T]) };
  if (a.position === 'sinusoidal') tables.add = tf.tensor2d(sinusoidTable(T, a.hidden), [T, a.hidden]);
  const plan = rotaryPlan(a);
  if (plan) {
    const positions = Int32Array.from({ length: T }, (_, t) => t);
    const q = rotaryTables(plan, positions, 1);
    const k = plan.xpos ? rotaryTables(plan, positions, -1) : q;
    const up = (x: { cos: Float32Array; sin: Float32Array }) => ({ cos: tf.tensor2d(x.cos, [T, D / 2]), sin: tf.tensor2d(x.sin, [T, D / 2]) });
    tables.rotQ = up(q);
    tables.rotK = plan.xpos ? up(k) : tables.rotQ;
  }
  return tables;
}

export function disposeTables(tf: typeof tfc, t: PositionTables): void {
  tf.dispose([t.bias, ...(t.add ? [t.add] : []), ...(t.rotQ ? [t.rotQ.cos, t.rotQ.sin] : []), ...(t.rotK && t.rotK !== t.rotQ ? [t.rotK.cos, t.rotK.sin] : [])]);
}

/**
 * Embedding lookup. gather's gradient needs UnsortedSegmentSum, which tfjs-wasm lacks; there the
 * lookup is a one-hot matMul (exact: each row is 1·E[id]), whose gradient is a matMul.
 */
function embed(tf: typeof tfc, table: tfc.Tensor, ids: tfc.Tensor1D): tfc.Tensor {
  if (tf.getKernel('UnsortedSegmentSum', tf.getBackend())) return tf.gather(table, ids);
  return tf.matMul(tf.cast(tf.oneHot(ids, table.shape[0]!), 'float32') as tfc.Tensor2D, table as tfc.Tensor2D);
}

/** HF rotate_half on [..., T, D] with tables [T, D/2]. */
function rotate(tf: typeof tfc, x: tfc.Tensor, r: { cos: tfc.Tensor; sin: tfc.Tensor }): tfc.Tensor {
  const [x1, x2] = tf.split(x, 2, -1) as [tfc.Tensor, tfc.Tensor];
  return tf.concat([tf.sub(tf.mul(x1, r.cos), tf.mul(x2, r.sin)), tf.add(tf.mul(x2, r.cos), tf.mul(x1, r.sin))], -1);
}

function rmsNorm(tf: typeof tfc, x: tfc.Tensor, w: tfc.Tensor, eps: number): tfc.Tensor {
  const variance = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), w);
}

/** x [N, in] · Wᵀ with W [out, in] (nn.Linear). */
const linear = (tf: typeof tfc, x: tfc.Tensor, w: tfc.Tensor) => tf.matMul(x as tfc.Tensor2D, w as tfc.Tensor2D, false, true);

/**
 * Logits [B·T, vocab] for ids [B, T]. `w` maps HF names to tensors (variables when training).
 * Follows LlamaForCausalLM: h = x + attn(norm(x)); h + mlp(norm(h)); lm_head(norm(h)).
 */
export function forward(tf: typeof tfc, a: LmArch, w: (name: string) => tfc.Tensor, ids: tfc.Tensor2D, tables: PositionTables): tfc.Tensor2D {
  const [B, T] = ids.shape;
  if (T !== tables.T) throw new Error(`position tables are for T = ${tables.T}, ids have T = ${T}`);
  if (a.position === 'learned' && T > a.maxPositions) throw new Error(`learned positions hold ${a.maxPositions} positions; T = ${T}`);
  const D = a.hidden / a.heads;
  const group = a.heads / a.kvHeads;
  let x = tf.reshape(embed(tf, w('model.embed_tokens.weight'), tf.reshape(ids, [-1]) as tfc.Tensor1D), [B, T, a.hidden]);
  if (tables.add) x = tf.add(x, tables.add);
  if (a.position === 'learned') x = tf.add(x, tf.slice(w('model.embed_positions.weight'), [0, 0], [T, a.hidden]));
  let h = tf.reshape(x, [B * T, a.hidden]);
  const heads = (t: tfc.Tensor, n: number) => tf.transpose(tf.reshape(t, [B, T, n, D]), [0, 2, 1, 3]);
  for (let l = 0; l < a.layers; l++) {
    const p = `model.layers.${l}.`;
    const n1 = rmsNorm(tf, h, w(`${p}input_layernorm.weight`), a.rmsNormEps);
    let q = heads(linear(tf, n1, w(`${p}self_attn.q_proj.weight`)), a.heads);
    let k = heads(linear(tf, n1, w(`${p}self_attn.k_proj.weight`)), a.kvHeads);
    const v = heads(linear(tf, n1, w(`${p}self_attn.v_proj.weight`)), a.kvHeads);
    if (tables.rotQ) q = rotate(tf, q, tables.rotQ);
    if (tables.rotK) k = rotate(tf, k, tables.rotK);
    // Grouped-query attention without copying K/V: the `group` query heads that share a K/V head are
    // stacked along T, so one batched matMul per K/V head serves them all.
    const qg = tf.reshape(q, [B, a.kvHeads, group * T, D]) as tfc.Tensor4D;
    const scores = tf.add(tf.reshape(tf.div(tf.matMul(qg, k as tfc.Tensor4D, false, true), Math.sqrt(D)), [B, a.heads, T, T]), tables.bias);
    const probs = tf.reshape(tf.softmax(scores), [B, a.kvHeads, group * T, T]) as tfc.Tensor4D;
    const attn = tf.reshape(tf.matMul(probs, v as tfc.Tensor4D), [B, a.heads, T, D]);
    const merged = tf.reshape(tf.transpose(attn, [0, 2, 1, 3]), [B * T, a.heads * D]);
    h = tf.add(h, linear(tf, merged, w(`${p}self_attn.o_proj.weight`)));
    const n2 = rmsNorm(tf, h, w(`${p}post_attention_layernorm.weight`), a.rmsNormEps);
    const gate = linear(tf, n2, w(`${p}mlp.gate_proj.weight`));
    const up = linear(tf, n2, w(`${p}mlp.up_proj.weight`));
    h = tf.add(h, linear(tf, tf.mul(tf.mul(gate, tf.sigmoid(gate)), up), w(`${p}mlp.down_proj.weight`)));
  }
  return linear(tf, rmsNorm(tf, h, w('model.norm.weight'), a.rmsNormEps), w('lm_head.weight')) as tfc.Tensor2D;
}

/** Mean next-token cross-entropy (nats) of logits [B·T, V] against labels [B·T]. */
export function crossEntropy(tf: typeof tfc, logits: tfc.Tensor2D, labels: tfc.Tensor1D): tfc.Scalar {
  const logp = tf.logSoftmax(logits);
  const picked = tf.sum(tf.mul(logp, tf.cast(tf.oneHot(labels, logits.shape[1]), 'float32')), -1);
  return tf.neg(tf.mean(picked)) as tfc.Scalar;
}

/** The HF config.json of a checkpoint of this model (position scheme recorded for non-RoPE ones). */
export function hfConfig(a: LmArch): Record<string, unknown> {
  const cfg: Record<string, unknown> = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: a.vocab,
    hidden_size: a.hidden,
    intermediate_size: a.intermediate,
    num_hidden_layers: a.layers,
    num_attention_heads: a.heads,
    num_key_value_heads: a.kvHeads,
    head_dim: a.hidden / a.heads,
    hidden_act: 'silu',
    max_position_embeddings: a.maxPositions,
    rms_norm_eps: a.rmsNormEps,
    rope_theta: a.ropeTheta,
    rope_scaling: a.ropeLinearFactor !== 1 ? { rope_type: 'linear', factor: a.ropeLinearFactor } : null,
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: false,
    torch_dtype: 'float32',
  };
  // HF Llama always applies RoPE; other schemes are recorded so this lab (and a reader) knows.
  if (a.position !== 'rope') cfg.position_embedding_type = a.position;
  if (a.window > 0) cfg.sliding_window = a.window;
  return cfg;
}

/** Reads an LmArch back from a config written by hfConfig (or a plain Llama config). */
export function archFromConfig(cfg: Record<string, unknown>, where = 'config.json'): LmArch {
  const num = (key: string, fallback?: number): number => {
    const v = cfg[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: "${key}" is missing or not a number`);
    return v;
  };
  if (cfg.model_type !== 'llama') throw new Error(`${where}: model_type "${String(cfg.model_type)}" — the trainer builds llama models`);
  const position = (cfg.position_embedding_type ?? 'rope') as PositionScheme;
  if (!POSITION_SCHEMES.includes(position)) throw new Error(`${where}: position_embedding_type "${String(position)}" is not one of ${POSITION_SCHEMES.join(', ')}`);
  const scaling = cfg.rope_scaling as { rope_type?: string; type?: string; factor?: number } | null | undefined;
  const kind = scaling?.rope_type ?? scaling?.type;
  if (scaling && kind !== 'linear') throw new Error(`${where}: rope_scaling "${String(kind)}" — the trainer supports "linear" (position interpolation)`);
  const a: LmArch = {
    vocab: num('vocab_size'),
    layers: num('num_hidden_layers'),
    hidden: num('hidden_size'),
    heads: num('num_attention_heads'),
    kvHeads: num('num_key_value_heads', num('num_attention_heads')),
    intermediate: num('intermediate_size'),
    position,
    ropeTheta: num('rope_theta', 10000),
    ropeLinearFactor: scaling?.factor ?? 1,
    maxPositions: num('max_position_embeddings', 2048),
    rmsNormEps: num('rms_norm_eps', 1e-6),
    window: typeof cfg.sliding_window === 'number' ? cfg.sliding_window : 0,
  };
  checkArch(a);
  return a;
}
