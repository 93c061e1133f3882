// model.config: a Hugging Face config.json (a file next to the pipeline, or inline) as a `model`
// value without weights — enough to size a model (model.memory) or drive positions from its rotary.
import { z } from 'zod';
import { defineNode } from '../../engine/node.js';
import { metrics, type MetricValue, type ModelValue } from '../../engine/values.js';
import { parseModelConfig, readModelConfig, SUPPORTED_MODEL_TYPES, type ModelArch } from './config.js';
import { paramCount } from './memory.js';

const params = z
  .object({
    path: z.string().min(1).optional().describe('a config.json, relative to the pipeline file'),
    config: z.record(z.string(), z.unknown()).optional().describe("the config.json's object itself (HF keys: model_type, hidden_size, …)"),
  })
  .refine((p) => (p.path === undefined) !== (p.config === undefined), { message: 'model.config needs exactly one of `path` or `config`', path: ['path'] });

/** The architecture as the inspector and checks see it. */
export function archMetrics(a: ModelArch): Record<string, MetricValue> {
  const sliding = a.layerKinds.filter((k) => k === 'sliding').length;
  const scaling = a.rope?.scaling;
  return {
    modelType: a.modelType,
    params: paramCount(a),
    layers: a.numLayers,
    hiddenSize: a.hiddenSize,
    heads: a.numHeads,
    kvHeads: a.numKvHeads,
    headDim: a.headDim,
    intermediateSize: a.intermediateSize,
    vocabSize: a.vocabSize,
    tieWordEmbeddings: a.tieWordEmbeddings,
    maxPositionEmbeddings: a.maxPositionEmbeddings,
    positions: a.positions === 'learned' ? 'learned' : String(scaling?.rope_type ?? scaling?.type ?? 'rope'),
    ...(a.rope ? { ropeTheta: a.rope.theta, rotaryDims: a.rope.rotaryDim } : {}),
    slidingWindow: a.slidingWindow,
    slidingLayers: sliding,
    globalLayers: a.numLayers - sliding,
    ...(a.mla ? { kvLoraRank: a.mla.kvLoraRank, qkRopeHeadDim: a.mla.qkRopeHeadDim } : {}),
    ...(a.moe ? { routedExperts: a.moe.nRoutedExperts, sharedExperts: a.moe.nSharedExperts, expertsPerToken: a.moe.numExpertsPerTok } : {}),
  };
}

export const modelConfig = defineNode({
  type: 'model.config',
  family: 'model',
  title: 'Model config',
  summary: `A Hugging Face config.json as a model without weights, checked and read with HF's key names and defaults. Supported model_type: ${SUPPORTED_MODEL_TYPES.join(', ')}.`,
  formula:
    'head_dim = config.head_dim ?? hidden_size / num_attention_heads; rotary dims = ⌊head_dim · (partial_rotary_factor | rotary_pct)⌋; sliding layers: Mistral/Phi-3 all (sliding_window set), Qwen2 i ≥ max_window_layers when use_sliding_window, Gemma 2 even i, Gemma 3 (i+1) mod sliding_window_pattern ≠ 0, or layer_types',
  references: [],
  params,
  inputs: {},
  outputs: {
    model: { kind: 'model', doc: 'the config (HF keys unchanged), no weights' },
    metrics: { kind: 'metrics', doc: 'the architecture read from it: params, layers, heads, kvHeads, headDim, sliding/global layers, rotary' },
  },
  infer: () => ({ model: { kind: 'model' }, metrics: { kind: 'metrics' } }),
  cost: () => ({ flops: 0, workspaceBytes: 0, note: 'reads the file when `path` is set' }),
  async run(ctx, _ins, p) {
    let model: ModelValue;
    let arch: ModelArch;
    if (p.path !== undefined) {
      let bytes: Uint8Array;
      try {
        bytes = await ctx.readFile(p.path);
      } catch (err) {
        throw new Error(`model.config: cannot read path "${p.path}": ${(err as Error).message}`);
      }
      const read = readModelConfig(bytes, p.path);
      model = { kind: 'model', config: read.raw, source: p.path };
      arch = read.arch;
    } else {
      arch = parseModelConfig(p.config, 'config (inline)');
      model = { kind: 'model', config: p.config!, source: 'config (inline)' };
    }
    return { model, metrics: metrics(archMetrics(arch)) };
  },
  // A bad or unsupported config is an issue of the node before anything runs.
  async prepare(params, readHead) {
    try {
      if (typeof params.path === 'string') {
        const head = await readHead(params.path);
        if (head && head.bytes.length === head.size) readModelConfig(head.bytes, params.path);
      } else if (params.config !== undefined) parseModelConfig(params.config, 'config (inline)');
    } catch (err) {
      throw Object.assign(err as Error, { param: typeof params.path === 'string' ? 'path' : 'config' });
    }
    return params;
  },
  flags: { volatile: true },
});
