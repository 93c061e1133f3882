// Training nodes: `train.lm` trains (or fine-tunes) a small Llama-family model on a tokens input;
// `sink.model` writes a model value as a Hugging Face checkpoint (config.json + model.safetensors).
import { z } from 'zod';
import { defineNode, ShapeError, type AnyNodeDef } from '../../engine/node.js';
import { encodeSafetensors } from '../../engine/io/safetensors.js';
import type { ModelValue, TokensValue, WeightSource } from '../../engine/values.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { archFromConfig, checkArch, hfConfig, initWeights, POSITION_SCHEMES, weightShapes, type LmArch, type Weights } from './lm.js';
import { train } from './train.js';
import { passkeyDataNode } from './passkey-data.js';
import type { FamilyDef } from '../../engine/registry.js';

/** A WeightSource over tensors already in memory (a trained model). */
export function memoryWeights(w: Weights): WeightSource {
  return {
    names: () => [...w.keys()],
    info: (name) => (w.has(name) ? { dtype: 'F32', shape: w.get(name)!.shape } : undefined),
    read: async (name) => {
      const t = w.get(name);
      if (!t) throw new Error(`the model has no tensor "${name}"`);
      return f32(t.shape, t.data);
    },
    residentBytes: () => [...w.values()].reduce((n, t) => n + t.data.byteLength, 0),
  };
}

/** Reads every tensor of a model value the trainer's architecture names. */
async function loadWeights(m: ModelValue, a: LmArch): Promise<Weights> {
  if (!m.weights) throw new Error(`the model input has no weights (${m.source ?? 'a config only'}): connect model.load or train.lm`);
  const w: Weights = new Map();
  for (const [name, shape] of weightShapes(a)) {
    const info = m.weights.info(name);
    if (!info) throw new Error(`the model input has no tensor "${name}"`);
    if (info.shape.join(',') !== shape.join(',')) throw new Error(`tensor "${name}" is [${info.shape.join(', ')}], the config implies [${shape.join(', ')}]`);
    const t: Tensor = await m.weights.read(name);
    w.set(name, { shape, data: Float32Array.from(t.data) });
  }
  return w;
}

const params = z.object({
  layers: z.number().int().min(1).max(64).default(2),
  hidden: z.number().int().min(2).max(4096).default(128).describe('hidden_size'),
  heads: z.number().int().min(1).max(64).default(4),
  kvHeads: z.number().int().min(1).max(64).optional().describe('num_key_value_heads (grouped-query attention); default = heads'),
  intermediate: z.number().int().min(1).max(16384).default(384).describe('intermediate_size of the SwiGLU MLP'),
  vocab: z.number().int().min(2).max(1 << 20).optional().describe('vocab_size; default: largest token id + 1'),
  position: z.enum(POSITION_SCHEMES).default('rope').describe('none (NoPE), sinusoidal or learned absolute (added to the embeddings), rope, alibi (bias), xpos'),
  ropeTheta: z.number().gt(1).max(1e12).default(10000).describe('rope_theta (rope and xpos)'),
  ropeScalingFactor: z.number().min(1).max(1024).default(1).describe('position interpolation: rope_scaling {rope_type: "linear", factor}; when fine-tuning, replaces the checkpoint\'s'),
  window: z.number().int().min(0).default(0).describe('sliding-window attention: keys a query sees (itself included); 0 = full causal attention'),
  contextLength: z.number().int().min(2).max(8192).default(128),
  batch: z.number().int().min(1).max(1024).default(8),
  steps: z.number().int().min(1).max(1_000_000).default(200),
  lr: z.number().gt(0).max(10).default(3e-3),
  warmupSteps: z.number().int().min(0).default(20),
  weightDecay: z.number().min(0).max(1).default(0.1),
  gradClip: z.number().min(0).default(1).describe('global gradient-norm clip; 0 = off'),
  seed: z.number().int().default(0),
  heldOut: z.number().gt(0).lt(1).default(0.1).describe('fraction of the text, at its end, held out of training'),
  evalWindows: z.number().int().min(1).max(10000).default(16).describe('held-out windows evaluated at the end, at each length'),
  evalLengths: z.array(z.number().int().min(2).max(65536)).max(16).default([]).describe('also evaluate held-out loss at these lengths (e.g. 2L, 4L, 8L: train short, test long)'),
});
type P = z.infer<typeof params>;

function archOf(p: P, vocab: number, base?: ModelValue): LmArch {
  if (base) {
    const a = archFromConfig(base.config, base.source ?? 'the model input');
    return { ...a, ropeLinearFactor: p.ropeScalingFactor, maxPositions: Math.max(a.maxPositions, p.contextLength) };
  }
  const a: LmArch = {
    vocab, layers: p.layers, hidden: p.hidden, heads: p.heads, kvHeads: p.kvHeads ?? p.heads, intermediate: p.intermediate,
    position: p.position, ropeTheta: p.ropeTheta, ropeLinearFactor: p.ropeScalingFactor, maxPositions: p.contextLength,
    rmsNormEps: 1e-6, window: p.window,
  };
  checkArch(a);
  return a;
}

const formatEta = (s: number) => (s >= 60 ? `${Math.floor(s / 60)}m ${Math.round(s % 60)}s` : `${Math.round(s)}s`);

const countParams = (a: LmArch) => weightShapes(a).reduce((n, [, s]) => n + s.reduce((x, y) => x * y, 1), 0);

export const trainLm = defineNode({
  type: 'train.lm',
  family: 'train',
  title: 'Train LM',
  summary:
    'Trains a small Llama-family decoder (RMSNorm, GQA, SwiGLU) with AdamW on a tokens input, with the position scheme as a param; or fine-tunes a connected model (e.g. position interpolation at a longer context).',
  formula: 'loss = −mean log softmax(lm_head(h))[next token]; AdamW(β1, β2, weightDecay) with linear warm-up then cosine decay to 0.1·lr; gradients clipped to global norm gradClip',
  references: [
    { title: 'Train Short, Test Long: Attention with Linear Biases Enables Input Length Extrapolation', year: 2022 },
    { title: 'Extending Context Window of Large Language Models via Positional Interpolation', year: 2023 },
    { title: 'Decoupled Weight Decay Regularization', year: 2019 },
  ],
  params,
  inputs: {
    tokens: { kind: 'tokens', doc: 'the corpus; its last `heldOut` fraction is held out' },
    model: { kind: 'model', optional: true, doc: 'a model to fine-tune (its architecture wins over the size params)' },
  },
  outputs: {
    model: { kind: 'model', doc: 'the trained model (config + weights in memory)' },
    metrics: { kind: 'metrics', doc: 'loss per step, heldOutLoss, heldOutPerplexity, tokensPerSecond, params' },
  },
  infer(ins, p) {
    // Known at compile time from a tensor's shape, or before the node runs from the actual tokens.
    const T = ins.tokens?.shape?.[0];
    if (typeof T === 'number') {
      const cut = Math.round(T * (1 - p.heldOut));
      const need = p.contextLength + 1;
      if (cut < need) throw new ShapeError('tokens', `the training part of the text has ${cut} tokens: fewer than one window of contextLength + 1 = ${need}`);
      if (T - cut < need) throw new ShapeError('tokens', `the held-out part of the text has ${T - cut} tokens: fewer than one window of contextLength + 1 = ${need} (raise heldOut or give more text)`);
    }
    return { model: { kind: 'model' }, metrics: { kind: 'metrics' } };
  },
  cost(_ins, p) {
    // Without the vocabulary (known at run time) this counts a 256-token vocabulary, as for bytes.
    const a = archOf(p, p.vocab ?? 256);
    const n = countParams(a);
    const [B, L] = [p.batch, p.contextLength];
    // What tfjs's tape holds for one step, calibrated against its measured peak on cpu and wasm
    // (within 10% over B, L, width, heads and layers): per layer ~90 [B·L, hidden] tensors, 16 score
    // tensors [B, heads, L, L] and 4 [B·L, intermediate]; ~26 [B·L, vocab] for the loss.
    const act = B * L * a.hidden * 4;
    const scores = B * a.heads * L * L * 4;
    const inter = B * L * a.intermediate * 4;
    const step = a.layers * (90 * act + 16 * scores + 4 * inter) + 26 * B * L * a.vocab * 4;
    // Evaluating one window of T tokens (no tape): scores and a few activations per layer, logits.
    const evalAt = (T: number) => 4 * a.heads * T * T * 4 + 30 * T * a.hidden * 4 + 3 * T * a.vocab * 4;
    const evalPeak = Math.max(evalAt(L), ...p.evalLengths.map(evalAt));
    return {
      flops: 6 * n * B * L * p.steps,
      workspaceBytes: 4 * n * 4 + Math.max(step, evalPeak),
      note: `${n.toLocaleString('en')} params × (weights, gradients, AdamW m and v) f32, plus one step's tape (${(step / 2 ** 20).toFixed(1)} MiB)`,
    };
  },
  // Ctrl-C once in the CLI, Stop & keep in the editor: training ends after its step and outputs the model.
  flags: { stoppable: true },
  async run(ctx, ins, p) {
    const ids = (ins.tokens as TokensValue).ids;
    let maxId = 0;
    for (const id of ids) if (id > maxId) maxId = id;
    const vocab = ins.model ? undefined : (p.vocab ?? maxId + 1);
    if (vocab !== undefined && maxId >= vocab) throw new Error(`token id ${maxId} does not fit vocab ${vocab}`);
    const a = archOf(p, vocab ?? 0, ins.model);
    if (maxId >= a.vocab) throw new Error(`token id ${maxId} does not fit the model's vocab_size ${a.vocab}`);
    const init = ins.model ? await loadWeights(ins.model, a) : initWeights(a, p.seed);
    const losses: number[] = [];
    const started = performance.now();
    const r = await train(ctx.tf, a, init, ids, { ...p, minLrRatio: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-8 }, {
      checkCancelled: ctx.checkCancelled,
      stopRequested: () => ctx.stopRequested?.() ?? false,
      onStep: (s) => {
        losses.push(s.loss);
        const elapsed = (performance.now() - started) / 1000;
        const eta = (elapsed / s.step) * (p.steps - s.step);
        const tps = (s.step * p.batch * p.contextLength) / elapsed;
        // At most 200 points: every k-th loss, so the whole curve so far stays in view.
        const k = Math.ceil(losses.length / 200);
        ctx.progress(s.step / p.steps, {
          text: `step ${s.step}/${p.steps} · loss ${s.loss.toFixed(3)} · ${tps.toFixed(0)} tok/s · ETA ${formatEta(eta)}`,
          series: { name: 'loss', values: losses.filter((_, i) => i % k === 0) },
        });
      },
    });
    if (r.stoppedEarly) ctx.workDone?.(r.steps / p.steps);
    const model: ModelValue = { kind: 'model', config: hfConfig(a), weights: memoryWeights(r.weights), source: 'train.lm' };
    return {
      model,
      metrics: {
        kind: 'metrics',
        values: {
          loss: r.losses,
          finalLoss: r.losses[r.losses.length - 1] ?? null,
          heldOutLoss: r.heldOutLoss,
          heldOutPerplexity: Math.exp(r.heldOutLoss),
          heldOutLossByLength: r.heldOutLossByLength,
          // Held-out perplexity at each length over that at contextLength: ≈ 1 when a model extrapolates.
          perplexityRatio: Object.fromEntries(Object.entries(r.heldOutLossByLength).map(([len, l]) => [len, typeof l === 'number' ? Math.exp(l - r.heldOutLoss) : null])),
          tokensPerSecond: r.tokensPerSecond,
          steps: r.steps,
          params: countParams(a),
          ...(r.stoppedEarly ? { stoppedEarly: r.stoppedEarly } : {}),
        },
      },
    };
  },
});

export const modelSink = defineNode({
  type: 'sink.model',
  family: 'sink',
  title: 'Save model',
  summary: 'Writes a model as a Hugging Face checkpoint: <out>/<name>/config.json and model.safetensors (F32, HF tensor names).',
  references: [],
  params: z.object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, 'a folder name without slashes')
      .refine((s) => s !== '.' && s !== '..', 'a folder name, not "." or ".."')
      .default('model'),
  }),
  inputs: { model: { kind: 'model' } },
  outputs: {},
  infer: () => ({}),
  async run(ctx, { model }, p) {
    if (!model.weights) throw new Error(`the model has no weights (${model.source ?? 'config only'}): nothing to save`);
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const name of model.weights.names()) {
      const t = await model.weights.read(name);
      tensors[name] = { shape: t.shape, data: t.data as Float32Array };
    }
    const bytes = encodeSafetensors(tensors, { format: 'pt' });
    ctx.emit(`${p.name}/config.json`, { kind: 'text', text: JSON.stringify(model.config, null, 2) + '\n' });
    ctx.emit(`${p.name}/model.safetensors`, { kind: 'tensor', dtype: 'uint8', shape: [bytes.length], data: bytes });
    return {};
  },
});

export const nodes: AnyNodeDef[] = [trainLm, modelSink, passkeyDataNode];

/** The family's palette and canvas data: its title and colour. */
export const familyDef: FamilyDef = { id: 'train', title: 'Training', color: '#65a30d' };
