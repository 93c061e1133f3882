// Wanda's calibration: the calibration tokens run through the decoder one layer at a time; each
// layer's linear inputs are measured (‖X_j‖₂ over every calibration token), the layer is pruned, and
// its output is recomputed with the pruned weights to feed the next layer — as the Wanda code does
// (prune_wanda: layer by layer, the inputs of layer l come from the pruned layers before it).
// The layer is HF's LlamaDecoderLayer in tfjs ops; RoPE is the position node's plan and rotation
// for the model's rope_scaling (the same code model.forward uses).
import type * as tfc from '@tensorflow/tfjs-core';
import type { RunContext } from '../../engine/node.js';
import type { ModelValue } from '../../engine/values.js';
import { forwardArch, ModelError } from '../model/llama.js';
import { exactTechnique } from '../model/technique.js';
import { positionVariantOf } from '../position/index.js';
import { rotaryTables, rotateTf } from '../position/rotate.js';
import type { ModelArch } from '../model/config.js';

/** The linear weights of a decoder layer that pruning touches, by their HF suffix. */
export const LINEARS = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'] as const;
export type Linear = (typeof LINEARS)[number];

/** Which measured input feeds each linear: q/k/v share the attention norm's output, gate/up the MLP norm's. */
const INPUT_OF: Record<Linear, 'attn' | 'o' | 'mlp' | 'down'> = {
  'self_attn.q_proj': 'attn', 'self_attn.k_proj': 'attn', 'self_attn.v_proj': 'attn', 'self_attn.o_proj': 'o',
  'mlp.gate_proj': 'mlp', 'mlp.up_proj': 'mlp', 'mlp.down_proj': 'down',
};

export type LayerTensors = Record<string, { shape: number[]; data: Float32Array }>;

/**
 * Runs `windows` (token-id arrays) through the model layer by layer. For layer l, `prune(l, norms)`
 * gets ‖X_j‖₂ of every linear's input (measured with the layer as it is) and returns that layer's
 * pruned linear weights by full HF name; the layer then runs again with them to give the next
 * layer's input. Returns the final hidden states (before the final norm) of each window.
 */
export async function calibrate(
  ctx: RunContext,
  model: ModelValue,
  windows: Int32Array[],
  prune: (layer: number, norms: Record<Linear, Float64Array>, weights: LayerTensors) => LayerTensors,
): Promise<Float32Array[]> {
  const { tf } = ctx;
  const arch = forwardArch(model);
  const w = model.weights;
  if (!w) throw new ModelError(`${arch.source}: this model has no weights (connect model.load or train.lm)`);
  const read = async (name: string, optional = false) => {
    if (!w.info(name)) {
      if (optional) return undefined;
      throw new ModelError(`${model.source ?? 'model'}: missing tensor "${name}"`);
    }
    const t = await w.read(name);
    return { shape: t.shape, data: Float32Array.from(t.data as Float32Array) };
  };
  // This pass rotates q and k like HF Llama; the trainer's other schemes (ALiBi, xPos, added tables) it does not run.
  const scheme = model.config.position_embedding_type ?? 'rope';
  if (scheme !== 'rope' && scheme !== 'none') throw new ModelError(`${arch.source}: Wanda's calibration runs RoPE or NoPE models; this one has position_embedding_type "${String(scheme)}"`);
  const eps = (model.config.rms_norm_eps as number | undefined) ?? 1e-6;
  const embed = (await read('model.embed_tokens.weight'))!;
  const hid = arch.hiddenSize;
  let xs = windows.map((ids) => tf.tensor2d(gatherRows(embed.data, hid, ids), [ids.length, hid]));
  const tables = windows.map((ids) => ropeTables(tf, model, arch, ids.length));
  try {
    for (let l = 0; l < arch.numLayers; l++) {
      ctx.checkCancelled();
      const p = `model.layers.${l}.`;
      const layer: LayerTensors = {};
      for (const s of ['input_layernorm.weight', 'post_attention_layernorm.weight', ...LINEARS.map((x) => `${x}.weight`)]) layer[p + s] = (await read(p + s))!;
      for (const s of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) {
        const b = await read(`${p}self_attn.${s}.bias`, true);
        if (b) layer[`${p}self_attn.${s}.bias`] = b;
      }
      const sums = { attn: new Float64Array(hid), o: new Float64Array(arch.numHeads * arch.headDim), mlp: new Float64Array(hid), down: new Float64Array(arch.intermediateSize) };
      for (let i = 0; i < xs.length; i++) (await layerForward(tf, arch, eps, xs[i]!, layer, p, tables[i], sums)).dispose();
      const norms = Object.fromEntries(LINEARS.map((x) => [x, sums[INPUT_OF[x]].map(Math.sqrt)])) as Record<Linear, Float64Array>;
      const pruned = { ...layer, ...prune(l, norms, layer) };
      const next: tfc.Tensor2D[] = [];
      for (let i = 0; i < xs.length; i++) next.push(await layerForward(tf, arch, eps, xs[i]!, pruned, p, tables[i]));
      tf.dispose(xs);
      xs = next;
      ctx.progress((l + 1) / arch.numLayers);
    }
    return await Promise.all(xs.map(async (x) => (await x.data()) as Float32Array));
  } finally {
    tf.dispose(xs);
    for (const t of tables) if (t) tf.dispose([t.cos, t.sin]);
  }
}

function gatherRows(table: Float32Array, width: number, ids: Int32Array): Float32Array {
  const out = new Float32Array(ids.length * width);
  ids.forEach((id, t) => out.set(table.subarray(id * width, (id + 1) * width), t * width));
  return out;
}

/** The model's RoPE (its config's rope_scaling) as cos/sin tables [T, D/2] at positions 0..T−1, or undefined (NoPE). */
function ropeTables(tf: typeof tfc, model: ModelValue, arch: ModelArch, T: number) {
  const tech = exactTechnique(model);
  const v = positionVariantOf(tech.position);
  if (v.effect !== 'rotate') return undefined;
  const t = rotaryTables(v.plan(tech.position, arch.headDim, T), Int32Array.from({ length: T }, (_, i) => i), 1);
  return { cos: tf.tensor2d(t.cos, [T, arch.headDim / 2]), sin: tf.tensor2d(t.sin, [T, arch.headDim / 2]) };
}

/** Adds Σ_t x[t, j]² to sum[j]. */
async function accumulate(tf: typeof tfc, x: tfc.Tensor2D, sum: Float64Array): Promise<void> {
  const s = tf.tidy(() => tf.sum(tf.square(x), 0));
  const d = await s.data();
  s.dispose();
  for (let j = 0; j < sum.length; j++) sum[j] += d[j]!;
}

/**
 * HF LlamaDecoderLayer on x [T, hid] with causal attention over the window, GQA, the given weights
 * ([out, in] as stored). With `sums`, adds the squares of each linear's input to them.
 */
async function layerForward(
  tf: typeof tfc,
  arch: ModelArch,
  eps: number,
  x: tfc.Tensor2D,
  w: LayerTensors,
  p: string,
  rope: { cos: tfc.Tensor2D; sin: tfc.Tensor2D } | undefined,
  sums?: { attn: Float64Array; o: Float64Array; mlp: Float64Array; down: Float64Array },
): Promise<tfc.Tensor2D> {
  const { numHeads: H, numKvHeads: Hkv, headDim: D } = arch;
  const T = x.shape[0];
  const t = (name: string) => tf.tensor(w[p + name]!.data, w[p + name]!.shape);
  const linear = (h: tfc.Tensor2D, name: string) => {
    const y = tf.matMul(h, t(`${name}.weight`) as tfc.Tensor2D, false, true);
    return w[`${p}${name}.bias`] ? tf.add(y, t(`${name}.bias`)) : y;
  };
  const norm = (h: tfc.Tensor2D, name: string) =>
    tf.mul(tf.mul(h, tf.rsqrt(tf.add(tf.mean(tf.square(h), -1, true), eps))), t(name)) as tfc.Tensor2D;
  const hAttn = tf.tidy(() => norm(x, 'input_layernorm.weight'));
  const attnOut = tf.tidy(() => {
    const heads = (y: tfc.Tensor, n: number) => tf.transpose(tf.reshape(y, [T, n, D]), [1, 0, 2]) as tfc.Tensor3D;
    let q = heads(linear(hAttn, 'self_attn.q_proj'), H);
    let k = heads(linear(hAttn, 'self_attn.k_proj'), Hkv);
    const v = heads(linear(hAttn, 'self_attn.v_proj'), Hkv);
    if (rope) {
      q = rotateTf(tf, q, rope.cos, rope.sin, 'half');
      k = rotateTf(tf, k, rope.cos, rope.sin, 'half');
    }
    const group = tf.tensor1d(Array.from({ length: H }, (_, h) => Math.floor(h / (H / Hkv))), 'int32');
    const scores = tf.mul(tf.matMul(q, tf.gather(k, group), false, true), 1 / Math.sqrt(D));
    const causal = tf.linalg.bandPart(tf.ones([T, T]), -1, 0);
    const probs = tf.softmax(tf.add(scores, tf.mul(tf.sub(1, causal), -1e9)));
    return tf.reshape(tf.transpose(tf.matMul(probs, tf.gather(v, group)), [1, 0, 2]), [T, H * D]) as tfc.Tensor2D;
  });
  const h1 = tf.tidy(() => tf.add(x, linear(attnOut, 'self_attn.o_proj')) as tfc.Tensor2D);
  const hMlp = tf.tidy(() => norm(h1, 'post_attention_layernorm.weight'));
  const act = tf.tidy(() => {
    const g = linear(hMlp, 'mlp.gate_proj');
    return tf.mul(tf.mul(g, tf.sigmoid(g)), linear(hMlp, 'mlp.up_proj')) as tfc.Tensor2D;
  });
  try {
    if (sums) {
      await accumulate(tf, hAttn, sums.attn);
      await accumulate(tf, attnOut, sums.o);
      await accumulate(tf, hMlp, sums.mlp);
      await accumulate(tf, act, sums.down);
    }
    return tf.tidy(() => tf.add(h1, linear(act, 'mlp.down_proj')) as tfc.Tensor2D);
  } finally {
    tf.dispose([hAttn, attnOut, h1, hMlp, act]);
  }
}
