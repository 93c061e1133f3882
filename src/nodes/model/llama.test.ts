// model.load + model.forward against Hugging Face LlamaForCausalLM (expected logits from the NumPy
// transcription in testdata/make_fixtures.py), the plain-TS reference on every backend, incremental
// decoding through the KV-cache policies, and the checks on malformed checkpoints.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '../../engine/io/npy.js';
import type { BackendName } from '../../engine/node.js';
import { i32, type Tensor } from '../../engine/tensor.js';
import type { MetricsValue, ModelValue } from '../../engine/values.js';
import { expectClose, runNode } from '../testing.js';
import { parseModelConfig } from './config.js';
import { modelForward } from './forward.js';
import { modelLoad } from './load.js';
import { llamaReference } from './reference.js';
import { tinyWeights, writeTinyModel, type TinyConfig } from './testdata/tiny.js';
import { ropeInv } from '../position/common.js';
import { encodeSafetensors } from '../../engine/io/safetensors.js';

const DATA = join(import.meta.dirname, 'testdata');
interface Fixture {
  tokens: number[];
  models: Record<string, { config: TinyConfig; checksums: Record<string, number> }>;
}
let fixture: Fixture;
let dir: string;

beforeAll(async () => {
  fixture = JSON.parse(await readFile(join(DATA, 'llama-reference.json'), 'utf8'));
  dir = await mkdtemp(join(tmpdir(), 'ctxlab-llama-'));
  for (const [name, m] of Object.entries(fixture.models)) await writeTinyModel(join(dir, name), m.config);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const load = async (path: string, backend: BackendName = 'cpu') => (await runNode(modelLoad, {}, { path }, { backend })).model as ModelValue;
const forward = async (model: ModelValue, ids: number[], params: Record<string, unknown> = {}, backend: BackendName = 'cpu') => {
  const out = await runNode(modelForward, { model, ids: i32([ids.length], ids) }, params, { backend, connected: ['logits', 'metrics'] });
  return { logits: out.logits as Tensor, metrics: (out.metrics as MetricsValue).values };
};
const expectedLogits = async (name: string) => decodeNpy(new Uint8Array(await readFile(join(DATA, `${name}.logits.npy`))));

describe('tiny random checkpoints', () => {
  it('are generated value for value as the NumPy script does (checksums)', () => {
    for (const m of Object.values(fixture.models)) {
      const w = tinyWeights(m.config);
      expect(Object.keys(w).sort()).toEqual(Object.keys(m.checksums).sort());
      for (const [name, sum] of Object.entries(m.checksums)) {
        const mine = w[name]!.data.reduce((s, v) => s + v, 0);
        expect(Math.abs(mine - sum), name).toBeLessThan(1e-6 * Math.max(1, Math.abs(sum)) + 1e-9 * w[name]!.data.length);
      }
    }
  });
});

describe('model.forward matches Hugging Face LlamaForCausalLM (float32, max abs ≤ 1e-4)', () => {
  // a: plain RoPE, untied, GQA; b: Llama 3 rope_scaling, tied, q/k/v/o biases, explicit head_dim;
  // c: YaRN past its original length; d: dynamic NTK (legacy "type" key) past max_position_embeddings.
  const ropes: Record<string, string> = { 'llama-a': 'rope', 'llama-b': 'llama3', 'llama-c': 'yarn', 'llama-d': 'dynamic' };
  for (const [name, rope] of Object.entries(ropes)) {
    it(`${name} on cpu`, async () => {
      const model = await load(join(dir, name));
      const { logits, metrics } = await forward(model, fixture.tokens);
      const want = await expectedLogits(name);
      expect(logits.shape).toEqual(want.shape);
      expectClose(logits.data, want.data, { atol: 1e-4 }, `${name} logits`);
      expect(metrics).toMatchObject({ tokens: 24, layers: 2, prefillTokens: 24, decodeSteps: 0, attention: 'naive', rope });
    });
  }

  for (const backend of ['wasm', 'webgpu'] as const)
    it(`llama-b on ${backend}`, async () => {
      const model = await load(join(dir, 'llama-b'), backend);
      const { logits } = await forward(model, fixture.tokens, {}, backend);
      expectClose(logits.data, (await expectedLogits('llama-b')).data, { atol: 1e-4 }, `${backend} logits`);
    });

  it('the plain-TS reference agrees with HF', async () => {
    const cfg = fixture.models['llama-b']!.config;
    const want = await expectedLogits('llama-b');
    // The reference with Llama 3 frequencies from HF's formula, written out here.
    const arch = parseModelConfig(cfg);
    const rs = cfg.rope_scaling as { factor: number; low_freq_factor: number; high_freq_factor: number; original_max_position_embeddings: number };
    const inv = Array.from(ropeInv(cfg.rope_theta as number, 16), (v) => {
      const wl = (2 * Math.PI) / v;
      const orig = rs.original_max_position_embeddings;
      if (wl < orig / rs.high_freq_factor) return v;
      if (wl > orig / rs.low_freq_factor) return v / rs.factor;
      const s = (orig / wl - rs.low_freq_factor) / (rs.high_freq_factor - rs.low_freq_factor);
      return ((1 - s) * v) / rs.factor + s * v;
    });
    const ref = llamaReference(arch, tinyWeights(cfg), fixture.tokens, { inv, eps: cfg.rms_norm_eps as number });
    expectClose(ref, want.data, { atol: 1e-4 }, 'reference logits');
  });

  it('a sharded BF16 checkpoint loads and matches the reference on its rounded weights', async () => {
    const cfg = fixture.models['llama-a']!.config;
    const path = join(dir, 'llama-a-bf16');
    await writeTinyModel(path, cfg, { dtype: 'BF16', shards: 3 });
    const model = await load(path);
    expect(model.weights!.names().length).toBe(Object.keys(tinyWeights(cfg)).length);
    const { logits } = await forward(model, fixture.tokens.slice(0, 10));
    const rounded = Object.fromEntries(
      await Promise.all(model.weights!.names().map(async (n) => [n, { shape: model.weights!.info(n)!.shape, data: (await model.weights!.read(n)).data as Float32Array }] as const)),
    );
    // bf16 keeps 8 bits of mantissa: the weights really were rounded.
    expect(rounded['model.norm.weight']!.data).not.toEqual(tinyWeights(cfg)['model.norm.weight']!.data);
    const ref = llamaReference(parseModelConfig(cfg), rounded, fixture.tokens.slice(0, 10), { inv: ropeInv(10000, 16), eps: 1e-5 });
    expectClose(logits.data, ref, { atol: 1e-4 }, 'bf16 logits');
  });
});

describe('attention probes', () => {
  it('give each layer\'s causal softmax map per head when connected', async () => {
    const model = await load(join(dir, 'llama-a'));
    const out = await runNode(modelForward, { model, ids: i32([24], fixture.tokens) }, {}, { connected: ['logits', 'probes'] });
    const p = out.probes as Tensor;
    expect(p.shape).toEqual([2, 4, 24, 24]);
    for (let row = 0; row < 24; row++) {
      const r = p.data.subarray(row * 24, (row + 1) * 24);
      expect(Array.from(r).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      for (let j = row + 1; j < 24; j++) expect(r[j]).toBe(0);
    }
  });
});

describe('incremental decoding through a KV-cache policy', () => {
  it('full cache: a prefill then one token per step gives the one-pass logits', async () => {
    const model = await load(join(dir, 'llama-a'));
    const one = await forward(model, fixture.tokens);
    const inc = await forward(model, fixture.tokens, { prefillTokens: 5, kvCache: { policy: 'full' } });
    expectClose(inc.logits.data, one.logits.data, { atol: 1e-4 }, 'incremental logits');
    expect(inc.metrics).toMatchObject({ prefillTokens: 5, decodeSteps: 19, kvTokens: 24, peakKvTokens: 24 });
  });

  it('StreamingLLM: sinks + recent window, RoPE inside the cache, as the token-by-token reference', async () => {
    const cfg = fixture.models['llama-a']!.config;
    const model = await load(join(dir, 'llama-a'));
    const kvCache = { policy: 'streaming', sinkTokens: 2, recentTokens: 6 };
    const got = await forward(model, fixture.tokens, { prefillTokens: 0, kvCache });
    const ref = llamaReference(parseModelConfig(cfg), tinyWeights(cfg), fixture.tokens, {
      inv: ropeInv(10000, 16), eps: 1e-5, streaming: { sinkTokens: 2, recentTokens: 6 },
    });
    expectClose(got.logits.data, ref, { atol: 1e-4 }, 'streaming logits');
    expect(got.metrics).toMatchObject({ kvTokens: 8, peakKvTokens: 8 });
    // Eviction changes the logits once the window is full, not before.
    const full = await forward(model, fixture.tokens);
    const V = 256;
    expectClose(got.logits.data.subarray(0, 8 * V), full.logits.data.subarray(0, 8 * V), { atol: 1e-4 }, 'before eviction');
    expect(Math.max(...got.logits.data.subarray(20 * V).map((v, i) => Math.abs(v - full.logits.data[20 * V + i]!)))).toBeGreaterThan(1e-3);
  });

  it('H2O: recent window + heavy hitters by accumulated attention, as the token-by-token reference', async () => {
    const cfg = fixture.models['llama-a']!.config;
    const model = await load(join(dir, 'llama-a'));
    const got = await forward(model, fixture.tokens, { prefillTokens: 0, kvCache: { policy: 'h2o', heavyTokens: 3, recentTokens: 4 } });
    const ref = llamaReference(parseModelConfig(cfg), tinyWeights(cfg), fixture.tokens, { inv: ropeInv(10000, 16), eps: 1e-5, h2o: { heavyTokens: 3, recentTokens: 4 } });
    expectClose(got.logits.data, ref, { atol: 1e-4 }, 'h2o logits');
    expect(got.metrics).toMatchObject({ kvTokens: 7, peakKvTokens: 8 });
  });

  it('paged: the full cache in blocks read through a block table — same logits, bytes by allocated block', async () => {
    const model = await load(join(dir, 'llama-a'));
    const full = await forward(model, fixture.tokens, { prefillTokens: 3 });
    const paged = await forward(model, fixture.tokens, { prefillTokens: 3, kvCache: { policy: 'paged', blockSize: 5 } });
    expectClose(paged.logits.data, full.logits.data, { atol: 1e-6 }, 'paged logits');
    // llama-a: 2 layers, 2 KV heads of 16; 24 tokens in blocks of 5 → 5 blocks per layer for keys and 5 for values.
    expect(full.metrics.kvBytes).toBe(2 * 2 * 2 * 24 * 16 * 4);
    expect(paged.metrics).toMatchObject({ kvTokens: 24, kvBlocks: 2 * 2 * 5, kvBytes: 2 * 2 * 5 * (2 * 5 * 16 * 4) });
    expect(paged.metrics.fragmentation as number).toBeCloseTo(1 - 24 / 25, 12);
  });

  it('KIVI: no change while every token is in the residual, a small error once quantized, fewer bytes', async () => {
    const model = await load(join(dir, 'llama-a'));
    const full = await forward(model, fixture.tokens, { prefillTokens: 4 });
    const loose = await forward(model, fixture.tokens, { prefillTokens: 4, kvCache: { policy: 'kivi', bits: 4, groupSize: 4, residualTokens: 32 } });
    expectClose(loose.logits.data, full.logits.data, { atol: 1e-4 }, 'kivi, all residual');
    const q = await forward(model, fixture.tokens, { prefillTokens: 4, kvCache: { policy: 'kivi', bits: 4, groupSize: 4, residualTokens: 4 } });
    let worst = 0;
    for (let i = 0; i < q.logits.data.length; i++) worst = Math.max(worst, Math.abs(q.logits.data[i]! - full.logits.data[i]!));
    expect(worst).toBeGreaterThan(1e-4);
    expect(worst).toBeLessThan(0.5);
    expect(q.metrics.kvBytes as number).toBeLessThan(full.metrics.kvBytes as number);
  });

  it('sliding-window attention over the whole sequence is the same model with a band mask', async () => {
    const model = await load(join(dir, 'llama-a'));
    const wide = await forward(model, fixture.tokens, { attention: { variant: 'sliding-window', window: 64 } });
    const full = await forward(model, fixture.tokens);
    expectClose(wide.logits.data, full.logits.data, { atol: 1e-4 }, 'window ≥ T');
    const narrow = await forward(model, fixture.tokens, { attention: { variant: 'sliding-window', window: 4 } });
    expectClose(narrow.logits.data.subarray(0, 4 * 256), full.logits.data.subarray(0, 4 * 256), { atol: 1e-4 }, 'first window');
    expect(Math.abs(narrow.logits.data[23 * 256]! - full.logits.data[23 * 256]!)).toBeGreaterThan(1e-4);
  });

  it('a rope_scaling override changes the frequencies (linear ×4 on positions 0..23)', async () => {
    const model = await load(join(dir, 'llama-a'));
    const scaled = await forward(model, fixture.tokens, { ropeScaling: { rope_type: 'linear', factor: 4 } });
    const cfg = fixture.models['llama-a']!.config;
    const ref = llamaReference(parseModelConfig(cfg), tinyWeights(cfg), fixture.tokens, { inv: Array.from(ropeInv(10000, 16), (v) => v / 4), eps: 1e-5 });
    expectClose(scaled.logits.data, ref, { atol: 1e-4 }, 'linear scaling');
    expect(scaled.metrics.rope).toBe('linear');
  });
});

describe('malformed checkpoints are refused naming the file and the tensor or key', () => {
  const cfg = () => ({ ...fixture.models['llama-a']!.config });
  const refuse = async (path: string) => {
    try {
      await load(path);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('loaded');
  };

  it('a missing tensor, a wrong shape, a missing config key, no weights file', async () => {
    const w = tinyWeights(cfg());
    const write = async (name: string, tensors: typeof w, config: Record<string, unknown> = cfg()) => {
      const p = join(dir, name);
      await writeTinyModel(p, cfg());
      await writeFile(join(p, 'config.json'), JSON.stringify(config));
      await writeFile(join(p, 'model.safetensors'), encodeSafetensors(tensors));
      return p;
    };
    const { ['model.layers.1.mlp.up_proj.weight']: _, ...missing } = w;
    expect(await refuse(await write('missing', missing))).toMatch(/missing tensor "model\.layers\.1\.mlp\.up_proj\.weight"/);
    const wrong = { ...w, 'model.norm.weight': { shape: [32], data: new Float32Array(32) } };
    expect(await refuse(await write('wrong', wrong))).toMatch(/model\.safetensors: tensor "model\.norm\.weight" has shape \[32\] but config\.json implies \[64\]/);
    const { hidden_size: __, ...noHidden } = cfg();
    expect(await refuse(await write('nokey', w, noHidden))).toMatch(/config\.json: missing required key "hidden_size"/);
    const p = await write('noweights', w);
    await rm(join(p, 'model.safetensors'));
    expect(await refuse(p)).toMatch(/no model\.safetensors or model\.safetensors\.index\.json/);
  });

  it('token ids outside the vocabulary', async () => {
    const model = await load(join(dir, 'llama-a'));
    await expect(forward(model, [1, 2, 256])).rejects.toThrow(/token id 256 is outside the vocabulary \[0, 256\)/);
  });
});
