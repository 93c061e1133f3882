// Reading HF configs: each shipped config's architecture, the per-layer window patterns, the
// errors a bad config gets, and the model.config / model.memory nodes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MetricsValue, ModelValue } from '../../engine/values.js';
import { runNode } from '../testing.js';
import { parseModelConfig, SUPPORTED_MODEL_TYPES } from './config.js';
import { modelConfig } from './config-node.js';
import { modelMemory, parseSize } from './memory-node.js';

const FIX = 'src/nodes/model/fixtures';
const raw = (name: string) => JSON.parse(readFileSync(`${FIX}/${name}.json`, 'utf8')) as Record<string, unknown>;

describe('parseModelConfig', () => {
  it('reads the architecture with HF defaults', () => {
    const l = parseModelConfig(raw('llama-3.1-8b'));
    expect(l).toMatchObject({ modelType: 'llama', hiddenSize: 4096, numLayers: 32, numHeads: 32, numKvHeads: 8, headDim: 128, tieWordEmbeddings: false, norm: 'rms', mlp: 'gated' });
    expect(l.rope).toMatchObject({ theta: 500000, rotaryDim: 128, layout: 'half' });
    // Llama-2's config has no rope_theta: HF's default 10000
    expect(parseModelConfig(raw('llama-2-7b')).rope!.theta).toBe(10000);
    // Gemma 2: explicit head_dim 256 (hidden 3584 / 16 heads would be 224), query_pre_attn_scalar, tied by default
    expect(parseModelConfig(raw('gemma-2-9b'))).toMatchObject({ headDim: 256, queryPreAttnScalar: 256, tieWordEmbeddings: true, normsPerLayer: 4 });
    // GPT-NeoX: rotary_pct 0.25 of head_dim 64, rotary_emb_base, LayerNorm, 2-matrix MLP with biases
    expect(parseModelConfig(raw('pythia-160m'))).toMatchObject({ norm: 'layer', mlp: 'plain', bias: { qkv: true, o: true, mlp: true }, rope: { theta: 10000, rotaryDim: 16, partialRotaryFactor: 0.25 } });
    // GPT-2: its own key names; n_inner null → 4·n_embd; learned positions
    expect(parseModelConfig(raw('gpt2'))).toMatchObject({ hiddenSize: 768, intermediateSize: 3072, positions: 'learned', maxPositionEmbeddings: 1024, tieWordEmbeddings: true });
    expect(parseModelConfig(raw('deepseek-v3')).mla).toEqual({ kvLoraRank: 512, qLoraRank: 1536, qkRopeHeadDim: 64, qkNopeHeadDim: 128, vHeadDim: 128 });
    expect(parseModelConfig(raw('deepseek-v3')).moe).toMatchObject({ nRoutedExperts: 256, firstKDenseReplace: 3, scoreCorrectionBias: true });
    expect(parseModelConfig(raw('phi-3-mini-128k-instruct')).originalMaxPositionEmbeddings).toBe(4096);
  });

  it('window patterns: Qwen2 with use_sliding_window slides from max_window_layers on; layer_types wins', () => {
    const q = parseModelConfig({ ...raw('qwen2.5-7b-instruct-yarn'), use_sliding_window: true, sliding_window: 4096, max_window_layers: 21 });
    expect(q.layerKinds.map((k, i) => (k === 'sliding' ? i : -1)).filter((i) => i >= 0)).toEqual([21, 22, 23, 24, 25, 26, 27]);
    const types = Array.from({ length: 32 }, (_, i) => (i % 4 === 3 ? 'full_attention' : 'sliding_attention'));
    const m = parseModelConfig({ ...raw('mistral-7b-v0.1'), layer_types: types });
    expect(m.layerKinds.filter((k) => k === 'global').length).toBe(8);
    expect(parseModelConfig(raw('mistral-7b-v0.1')).layerKinds.every((k) => k === 'sliding')).toBe(true);
    expect(parseModelConfig({ ...raw('mistral-7b-v0.1'), sliding_window: null }).layerKinds.every((k) => k === 'global')).toBe(true);
  });

  it('multimodal Gemma 3 reads its text_config', () => {
    const text = raw('gemma-3-1b-it');
    const a = parseModelConfig({ model_type: 'gemma3', text_config: { ...text, model_type: undefined }, vision_config: {} }, 'gemma3.json');
    expect(a).toMatchObject({ modelType: 'gemma3_text', hiddenSize: 1152, numLayers: 26 });
  });

  it('errors name the file and the key; an unknown model_type lists the supported ones', () => {
    expect(() => parseModelConfig({ ...raw('llama-3.1-8b'), model_type: 'bert' }, 'm/config.json')).toThrow(
      `m/config.json: unsupported model_type "bert"; supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`,
    );
    const { hidden_size: _, ...noHidden } = raw('llama-3.1-8b');
    expect(() => parseModelConfig(noHidden, 'm/config.json')).toThrow('m/config.json: missing required key "hidden_size"');
    expect(() => parseModelConfig({ ...raw('llama-3.1-8b'), num_key_value_heads: 5 }, 'c.json')).toThrow(/c\.json: num_attention_heads 32 is not a multiple of num_key_value_heads 5/);
    expect(() => parseModelConfig({ ...raw('llama-3.1-8b'), vocab_size: '128256' }, 'c.json')).toThrow(/"vocab_size" must be a positive integer/);
    expect(() => parseModelConfig([], 'c.json')).toThrow(/c\.json: a config must be a JSON object/);
  });
});

describe('model.config and model.memory nodes', () => {
  it('model.config reads a file (relative path) or an inline object', async () => {
    const out = await runNode(modelConfig, {}, { path: `${FIX}/gemma-2-9b.json` });
    const m = out.model as ModelValue;
    expect(m.kind).toBe('model');
    expect(m.config.model_type).toBe('gemma2');
    expect((out.metrics as MetricsValue).values).toMatchObject({ params: 9_241_705_984, slidingLayers: 21, globalLayers: 21, headDim: 256 });
    const inline = await runNode(modelConfig, {}, { config: raw('gpt2') });
    expect((inline.metrics as MetricsValue).values.params).toBe(124_439_808);
    await expect(runNode(modelConfig, {}, { config: { model_type: 'bert' } })).rejects.toThrow(/unsupported model_type "bert"/);
    await expect(runNode(modelConfig, {}, { path: `${FIX}/nope.json` })).rejects.toThrow(/model\.config: cannot read path/);
    expect(() => modelConfig.params.parse({})).toThrow(/exactly one of `path` or `config`/);
  });

  it('model.memory reports the plan as metrics', async () => {
    const model: ModelValue = { kind: 'model', config: raw('llama-3.1-8b'), source: 'llama-3.1-8b.json' };
    const out = await runNode(modelMemory, { model }, { context: 131072, kv: 'kivi2', fit: '24GiB' });
    const v = (out.metrics as MetricsValue).values as Record<string, any>;
    expect(v.params).toBe(8_030_261_248);
    expect(v.kvBytes).toBe(3_228_041_216);
    expect(v.layers).toHaveLength(32);
    expect(v.layers[0]).toEqual({ index: 0, kind: 'global', kvTokens: 131072, kvBytes: 3_228_041_216 / 32 });
    expect(v.maxContext).toBeGreaterThan(131072);
    expect(v.budgetBytes).toBe(24 * 2 ** 30);
    expect(() => modelMemory.params.parse({ kvPolicy: 'lru' })).toThrow(/streaming:SINKS\+RECENT/);
    expect(() => modelMemory.params.parse({ fit: '24 apples' })).toThrow(/fit: a size/);
  });

  it('sizes parse like --memory-budget', () => {
    expect(parseSize('24GiB')).toBe(24 * 2 ** 30);
    expect(parseSize('80GB')).toBe(80e9);
    expect(parseSize('512MiB')).toBe(512 * 2 ** 20);
    expect(parseSize('4096')).toBe(4096);
  });
});

describe('gallery configs', () => {
  it('the gallery pipelines inline the fixtures unchanged', () => {
    const inline = (file: string) =>
      (JSON.parse(readFileSync(`pipelines/${file}`, 'utf8')).nodes as { type: string; params: { config: unknown } }[]).filter((n) => n.type === 'model.config').map((n) => n.params.config);
    expect(inline('llama-kv-sizing.json')).toEqual([raw('llama-3.1-8b')]);
    expect(inline('mistral-sliding-window.json')).toEqual([raw('mistral-7b-v0.1'), raw('llama-3-8b')]);
    expect(inline('gemma2-layer-pattern.json')).toEqual([raw('gemma-2-9b')]);
  });
});
