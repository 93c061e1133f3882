// A real config's rotary through the position node: HF's inverse frequencies and attention factor,
// computed here independently (transformers' modeling_rope_utils formulas, float64).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import type { MetricsValue, ModelValue } from '../../engine/values.js';
import { parseModelConfig } from '../model/config.js';
import { expectClose, runNode, runReference } from '../testing.js';
import { ropeFromConfig } from './from-config.js';
import { position } from './index.js';

const FIX = 'src/nodes/model/fixtures';
const raw = (name: string) => JSON.parse(readFileSync(`${FIX}/${name}.json`, 'utf8')) as Record<string, unknown>;
const model = (name: string): ModelValue => ({ kind: 'model', config: raw(name), source: `${name}.json` });
const ropeInv = (base: number, d: number) => Array.from({ length: d / 2 }, (_, i) => Math.pow(base, (-2 * i) / d));

/** Frequencies and metrics of the node fed a model, at sequence end L (through positionOffset). */
function viaModel(name: string, d: number, L = 1, params: Record<string, unknown> = {}) {
  const out = runReference(position, { q: f32([1, 1, d]), k: f32([1, 1, d]), model: model(name) }, { variant: 'rope', positionOffset: L - 1, ...params });
  return { inv: Array.from((out.frequencies as Tensor).data), m: (out.metrics as MetricsValue).values as Record<string, any> };
}

describe('position from a model config', () => {
  it('Llama-3.1-8B: the llama3 variant with the config’s params, equal to HF’s _compute_llama3_parameters', () => {
    const r = ropeFromConfig(parseModelConfig(raw('llama-3.1-8b')));
    expect(r.params).toMatchObject({ variant: 'llama3', base: 500000, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    const { inv, m } = viaModel('llama-3.1-8b', 128);
    // HF: wavelen = 2π/inv; < 8192/4 kept; > 8192/1 divided by 8; else smoothed
    const hf = ropeInv(500000, 128).map((f) => {
      const wl = (2 * Math.PI) / f;
      if (wl < 8192 / 4) return f;
      if (wl > 8192) return f / 8;
      const smooth = (8192 / wl - 1) / (4 - 1);
      return (1 - smooth) * (f / 8) + smooth * f;
    });
    expectClose(inv, hf, { rtol: 1e-6 }, 'inv_freq');
    const direct = runReference(position, { q: f32([1, 1, 128]), k: f32([1, 1, 128]) }, { variant: 'llama3', base: 500000, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    expect(inv).toEqual(Array.from((direct.frequencies as Tensor).data));
    expect(m.attentionFactor).toBe(1);
  });

  it('Qwen2.5-7B with YaRN (factor 4 over 32768): attention factor 0.1·ln 4 + 1', () => {
    const { inv, m } = viaModel('qwen2.5-7b-instruct-yarn', 128);
    expect(m.attentionFactor).toBeCloseTo(0.1 * Math.log(4) + 1, 12); // 1.1386294361…
    // HF find_correction_range(32, 1, 128, 1e6, 32768): low = ⌊128·ln(32768/(2π·32))/(2 ln 1e6)⌋, high = ⌈…(2π·1)…⌉
    const corr = (rot: number) => (128 * Math.log(32768 / (2 * Math.PI * rot))) / (2 * Math.log(1e6));
    const low = Math.max(Math.floor(corr(32)), 0);
    const high = Math.min(Math.ceil(corr(1)), 127);
    expect([m.low, m.high]).toEqual([low, high]);
    const hf = ropeInv(1e6, 128).map((f, i) => {
      const ramp = Math.min(Math.max((i - low) / (high - low), 0), 1);
      return (f / 4) * ramp + f * (1 - ramp);
    });
    expectClose(inv, hf, { rtol: 1e-6 }, 'inv_freq');
  });

  it('Phi-3-mini-128k (longrope): short factors up to 4096 tokens, long beyond, attention factor √(1 + ln 32 / ln 4096)', () => {
    const c = raw('phi-3-mini-128k-instruct');
    const scaling = c.rope_scaling as { short_factor: number[]; long_factor: number[] };
    expect(scaling.short_factor.length).toBe(48); // head_dim 3072/32 = 96 → 48 pairs
    const short = viaModel('phi-3-mini-128k-instruct', 96, 4096);
    const long = viaModel('phi-3-mini-128k-instruct', 96, 4097);
    const base = ropeInv(10000, 96);
    expectClose(short.inv, base.map((f, i) => f / scaling.short_factor[i]!), { rtol: 1e-6 }, 'short');
    expectClose(long.inv, base.map((f, i) => f / scaling.long_factor[i]!), { rtol: 1e-6 }, 'long');
    expect(long.m.attentionFactor).toBeCloseTo(Math.sqrt(1 + Math.log(131072 / 4096) / Math.log(4096)), 12);
  });

  it('Pythia (rotary_pct 0.25): only the first 16 of 64 channels rotate, with 10000^(−2i/16)', async () => {
    const q = f32([1, 2, 64], Float32Array.from({ length: 128 }, (_, i) => Math.sin(i + 1)));
    const ins = { q, k: q, model: model('pythia-160m') };
    const ref = runReference(position, ins, { variant: 'rope' });
    const out = await runNode(position, ins, { variant: 'rope' });
    expectClose(Array.from((out.frequencies as Tensor).data), ropeInv(10000, 16), { rtol: 1e-6 }, 'inv_freq');
    const rq = (ref.q as Tensor).data;
    expectClose((out.q as Tensor).data, rq, { atol: 1e-5 }, 'backend vs reference');
    // position 1, pair i = 0 (channels 0 and 8): angle 1 rad; channels 16..63 untouched
    const x = q.data;
    expect(rq[64]).toBeCloseTo(x[64]! * Math.cos(1) - x[72]! * Math.sin(1), 5);
    expect(Array.from(rq.slice(64 + 16, 128))).toEqual(Array.from(x.slice(64 + 16, 128)));
  });

  it('DeepSeek-V2-Lite: YaRN over qk_rope_head_dim with mscale = mscale_all_dim (factor 1), interleaved pairs', () => {
    const r = ropeFromConfig(parseModelConfig(raw('deepseek-v2-lite')));
    expect(r.headDim).toBe(64);
    expect(r.params).toMatchObject({ variant: 'yarn', factor: 40, originalMaxPositionEmbeddings: 4096, attentionFactor: 1, layout: 'interleaved' });
    expect(() => viaModel('deepseek-v2-lite', 192)).toThrow(/head dim D = 192.*64/);
  });

  it('Gemma 3: global layers use rope_theta, sliding layers rope_local_base_freq', () => {
    const a = parseModelConfig(raw('gemma-3-1b-it'));
    expect(ropeFromConfig(a).params.base).toBe(1_000_000);
    expect(ropeFromConfig(a, { layer: 5 }).params.base).toBe(1_000_000);
    expect(ropeFromConfig(a, { layer: 0 }).params.base).toBe(10000);
  });

  it('a rope_scaling override replaces the config’s (dynamic uses max_position_embeddings, as HF does)', () => {
    const a = parseModelConfig(raw('llama-3-8b'));
    expect(ropeFromConfig(a, { scaling: { rope_type: 'dynamic', factor: 2 } }).params).toMatchObject({ variant: 'dynamic', base: 500000, factor: 2, maxPositionEmbeddings: 8192 });
    expect(ropeFromConfig(parseModelConfig(raw('llama-3.1-8b')), { scaling: null }).params.variant).toBe('rope');
  });

  it('GPT-2 has no rotary; an unknown rope type is named', () => {
    expect(() => viaModel('gpt2', 64)).toThrow(/learned absolute positions/);
    const c = { ...raw('llama-3.1-8b'), rope_scaling: { rope_type: 'mrope', factor: 2 } };
    expect(() => ropeFromConfig(parseModelConfig(c, 'x.json'))).toThrow(/x\.json: rope_scaling type "mrope" is not supported/);
  });

  it('fromConfig: prepare turns the file into the variant’s params, and run reads it', async () => {
    const path = `${FIX}/llama-3.1-8b.json`;
    const readHead = async (p: string) => {
      const bytes = new Uint8Array(readFileSync(p));
      return { bytes, size: bytes.length };
    };
    const prepared = await position.prepare!({ variant: 'rope', fromConfig: path }, readHead);
    expect(prepared).toMatchObject({ variant: 'llama3', base: 500000, factor: 8, fromConfig: path });
    const out = await runNode(position, { q: f32([1, 1, 128]), k: f32([1, 1, 128]) }, { variant: 'rope', fromConfig: path });
    expect((out.metrics as MetricsValue).values.variant).toBe('llama3');
    await expect(position.prepare!({ variant: 'rope', fromConfig: `${FIX}/gpt2.json` }, readHead)).rejects.toMatchObject({ param: 'fromConfig' });
  });
});
