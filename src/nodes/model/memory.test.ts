// Parameter counts and memory figures of the shipped configs against hand-computed values (the
// arithmetic is in the comments; published totals where known: GPT-2 124,439,808, Pythia-160M
// 162,322,944, Mistral-7B 7,241,732,096, Gemma-3-1B 999,885,952, DeepSeek-V3 671B).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from './config.js';
import { kvBytesPerToken, maxContext, modelTensors, paramCount, parseKvPolicy, planMemory, weightsBytes, type PlanOptions } from './memory.js';

const arch = (name: string) => parseModelConfig(JSON.parse(readFileSync(`src/nodes/model/fixtures/${name}.json`, 'utf8')), `${name}.json`);
const opts = (o: Partial<PlanOptions> = {}): PlanOptions => ({ context: 4096, batch: 1, weights: 'bf16', kv: 'bf16', kvPolicy: { kind: 'full' }, prefillChunk: 2048, ...o });
const GiB = 2 ** 30;

describe('parameter counts', () => {
  const cases: [string, number, string][] = [
    // embed 32000·4096 = 131,072,000, untied head the same; layer: q,k,v,o 4·4096² = 67,108,864,
    // MLP 3·4096·11008 = 135,266,304, 2 norms 8192 → 202,383,360 ×32 = 6,476,267,520; + 262,144,000 + 4096
    ['llama-2-7b', 6_738_415_616, 'Llama-2-7B'],
    // embed 128256·4096 = 525,336,576 ×2 (untied); layer: q 4096² + k,v 2·4096·1024 + o 4096² = 41,943,040,
    // MLP 3·4096·14336 = 176,160,768, norms 8192 → 218,112,000 ×32 = 6,979,584,000; + 1,050,673,152 + 4096
    ['llama-3-8b', 8_030_261_248, 'Llama-3-8B'],
    ['llama-3.1-8b', 8_030_261_248, 'Llama-3.1-8B (the issue’s figure)'],
    // tied: embed 128256·2048 = 262,668,288 once; layer: q,o 2048² ×2 + k,v 2048·512 ×2 = 10,485,760,
    // MLP 3·2048·8192 = 50,331,648, norms 4096 → 60,821,504 ×16 = 973,144,064; + 262,668,288 + 2048
    ['llama-3.2-1b', 1_235_814_400, 'Llama-3.2-1B'],
    // as Llama-3-8B with vocab 32000: 218,112,000 ×32 + 2·131,072,000 + 4096
    ['mistral-7b-v0.1', 7_241_732_096, 'Mistral-7B'],
    // embed 152064·3584 = 544,997,376 ×2; layer: q,o 3584² ×2 = 25,690,112, k,v 3584·512 ×2 = 3,670,016,
    // q/k/v biases 3584 + 512 + 512; MLP 3·3584·18944 = 203,685,888; norms 7168 → 233,057,792 ×28
    // = 6,525,618,176; + 1,089,994,752 + 3584
    ['qwen2.5-7b-instruct-yarn', 7_615_616_512, 'Qwen2.5-7B'],
    // embed 32064·3072 = 98,500,608 ×2; layer: qkv_proj 3·3072² + o 3072² = 37,748,736, gate_up + down
    // 3·3072·8192 = 75,497,472, norms 6144 → 113,252,352 ×32 = 3,624,075,264; + 197,001,216 + 3072
    ['phi-3-mini-128k-instruct', 3_821_079_552, 'Phi-3-mini'],
    // tied embed 256000·3584 = 917,504,000; layer: q,o 3584·4096 ×2 = 29,360,128, k,v 3584·2048 ×2 =
    // 14,680,064, MLP 3·3584·14336 = 154,140,672, 4 norms 14,336 → 198,195,200 ×42 = 8,324,198,400; + 3584
    ['gemma-2-9b', 9_241_705_984, 'Gemma-2-9B'],
    // tied embed 262144·1152 = 301,989,888; layer: q,o 1152·1024 ×2 + k,v 1152·256 ×2 = 2,949,120,
    // MLP 3·1152·6912 = 23,887,872, 4 norms 4608 + q_norm, k_norm 2·256 → 26,842,112 ×26 = 697,894,912; + 1152
    ['gemma-3-1b-it', 999_885_952, 'Gemma-3-1B'],
    // embed_in, embed_out 50304·768 = 38,633,472 each; layer: 2 LayerNorms 4·768, qkv 768·2304 + 2304,
    // dense 768² + 768, MLP 2·768·3072 + 3072 + 768 → 7,087,872 ×12 = 85,054,464; final LayerNorm 1536
    ['pythia-160m', 162_322_944, 'Pythia-160M'],
    // wte 50257·768 = 38,597,376, wpe 1024·768 = 786,432; layer 7,087,872 (as Pythia's) ×12; ln_f 1536; tied head
    ['gpt2', 124_439_808, 'GPT-2'],
    // embed 102400·2048 = 209,715,200 ×2; attention: q 2048·16·192 = 6,291,456, kv_a 2048·576 = 1,179,648,
    // kv_a_layernorm 512, kv_b 512·16·256 = 2,097,152, o 2048·2048 = 4,194,304 → 13,763,072; norms 4096;
    // layer 0 dense MLP 3·2048·10944 = 67,239,936; 26 MoE layers: router 64·2048 = 131,072, 64 experts
    // 64·3·2048·1408 = 553,648,128, 2 shared 17,301,504 → 571,080,704. 81,007,104 + 26·584,847,872 + 419,430,400 + 2048
    ['deepseek-v2-lite', 15_706_484_224, 'DeepSeek-V2-Lite'],
    // embed 129280·7168 = 926,679,040 ×2; attention: q_a 1536·7168 = 11,010,048, q_a_layernorm 1536,
    // q_b 1536·128·192 = 37,748,736, kv_a 7168·576 = 4,128,768, kv_a_layernorm 512, kv_b 512·128·256 =
    // 16,777,216, o 16384·7168 = 117,440,512 → 187,107,328; norms 14,336; 3 dense layers (MLP
    // 3·7168·18432 = 396,361,728) → 583,483,392 each; 58 MoE layers: router 1,835,008 + bias 256, 256
    // experts 256·44,040,192, 1 shared 44,040,192 → 11,507,286,272 each; + 1,853,358,080 + 7168 (MTP excluded, as HF does)
    ['deepseek-v3', 671_026_419_200, 'DeepSeek-V3'],
  ];
  for (const [name, params, label] of cases) it(`${label}: ${params.toLocaleString('en-US')}`, () => expect(paramCount(arch(name))).toBe(params));

  it('names tensors as HF does', () => {
    const names = modelTensors(arch('llama-3.1-8b')).map((t) => t.name);
    expect(names).toContain('model.layers.{i}.self_attn.k_proj.weight');
    expect(names).toContain('lm_head.weight');
    expect(modelTensors(arch('llama-3.2-1b')).map((t) => t.name)).not.toContain('lm_head.weight');
    expect(modelTensors(arch('qwen2.5-7b-instruct-yarn')).map((t) => t.name)).toContain('model.layers.{i}.self_attn.q_proj.bias');
    expect(modelTensors(arch('gpt2')).find((t) => t.name.endsWith('c_attn.weight'))!.shape).toEqual([768, 2304]); // Conv1D: [in, out]
  });
});

describe('weights bytes', () => {
  const a = arch('llama-3.1-8b');
  it('bf16 is 2 bytes per parameter', () => expect(weightsBytes(a, 'bf16')).toBe(2 * 8_030_261_248));
  it('int4: block linears at ½ byte plus an fp16 scale and zero per 128 input channels, the rest bf16', () => {
    // Linears per layer: 218,103,808 weights → 109,051,904 bytes of codes; groups: q,o 4096·32 each, k,v
    // 1024·32 each, gate, up 14336·32 each, down 4096·112 → 1,703,936 groups × 4 bytes = 6,815,744;
    // per layer 115,867,648 ×32 = 3,707,764,736. bf16: embeddings, head, norms 1,050,939,392 ×2 = 2,101,878,784.
    expect(weightsBytes(a, 'int4')).toBe(5_809_643_520);
  });
  it('fp8: 1 byte plus an fp32 scale per output row', () => {
    // codes 218,103,808 + rows (4096+1024+1024+4096+14336+14336+4096 = 43,008)·4 per layer, ×32; + 2,101,878,784
    expect(weightsBytes(a, 'fp8')).toBe(32 * (218_103_808 + 43_008 * 4) + 2_101_878_784);
  });
  it('nf4: ½ byte plus an fp32 absmax per 64 weights', () => {
    expect(weightsBytes(a, 'nf4')).toBe(32 * (218_103_808 / 2 + (218_103_808 / 64) * 4) + 2_101_878_784);
  });
});

describe('KV cache', () => {
  const perToken: [string, number][] = [
    ['llama-2-7b', 524_288], // 32 layers · 2 (K,V) · 32 heads · 128 · 2 bytes
    ['llama-3.1-8b', 131_072], // 32 · 2 · 8 · 128 · 2 (GQA: 8 KV heads)
    ['llama-3.2-1b', 32_768], // 16 · 2 · 8 · 64 · 2
    ['mistral-7b-v0.1', 131_072],
    ['qwen2.5-7b-instruct-yarn', 57_344], // 28 · 2 · 4 · 128 · 2
    ['phi-3-mini-128k-instruct', 393_216], // 32 · 2 · 32 · 96 · 2
    ['gemma-2-9b', 344_064], // 42 · 2 · 8 · 256 · 2 (explicit head_dim 256)
    ['gemma-3-1b-it', 26_624], // 26 · 2 · 1 · 256 · 2 (MQA)
    ['pythia-160m', 36_864], // 12 · 2 · 12 · 64 · 2
    ['gpt2', 36_864],
    ['deepseek-v2-lite', 31_104], // MLA: 27 · (512 + 64) · 2
    ['deepseek-v3', 70_272], // 61 · 576 · 2
  ];
  for (const [name, bytes] of perToken) it(`${name}: ${bytes} bytes per token in bf16`, () => expect(kvBytesPerToken(arch(name), 'bf16')).toBe(bytes));

  it('Llama-3.1-8B at 128K: 16 GiB in bf16, half in fp8, and KIVI counted to the byte', () => {
    const a = arch('llama-3.1-8b');
    const kv = (k: PlanOptions['kv']) => planMemory(a, opts({ context: 131072, kv: k })).kvBytes;
    expect(kv('bf16')).toBe(16 * GiB);
    expect(kv('fp8')).toBe(8 * GiB);
    // int8: per vector 128 + 2 groups · 4 = 136 bytes; 16 vectors · 32 layers · 131072 tokens
    expect(kv('int8')).toBe(136 * 16 * 32 * 131072);
    expect(kv('int4')).toBe(72 * 16 * 32 * 131072);
    // KIVI-2 per KV head and layer at T = 131072 (R = 128, G = 32, d = 128): keys all flushed (T mod 128 = 0):
    // codes 131072·128·2/8 = 4,194,304, scale+zero 4096 groups·128 channels·4 = 2,097,152; values: 130,944
    // quantized, codes 4,190,208, scale+zero 130944·4 groups·4 = 2,095,104, 128 residual ·128·2 = 32,768
    // → 12,609,536 ×8 heads ×32 layers
    expect(kv('kivi2')).toBe(3_228_041_216);
    // KIVI-4: codes double: 8,388,608 + 2,097,152 + 8,380,416 + 2,095,104 + 32,768 = 20,994,048 ×256
    expect(kv('kivi4')).toBe(5_374_476_288);
    expect(kvBytesPerToken(a, 'kivi2')).toBe(24_576); // (32 + 16 keys + 32 + 16 values) · 8 · 32
  });

  it('sliding windows cap the layers that have one', () => {
    // Mistral: every layer holds min(32768, 4096) tokens: 4096 · 131,072
    expect(planMemory(arch('mistral-7b-v0.1'), opts({ context: 32768 })).kvBytes).toBe(536_870_912);
    // Gemma-2-9B at 8192: 21 sliding layers hold 4096, 21 global 8192, 8192 bytes per token and layer
    const g2 = planMemory(arch('gemma-2-9b'), opts({ context: 8192 }));
    expect(g2.kvBytes).toBe(21 * 8192 * 12288);
    expect(g2.layers.slice(0, 3).map((l) => [l.kind, l.kvTokens])).toEqual([['sliding', 4096], ['global', 8192], ['sliding', 4096]]);
    // Gemma-3-1B at 32768: layers 5, 11, 17, 23 global (every 6th), 22 sliding at 512; 1024 bytes per token and layer
    const g3 = planMemory(arch('gemma-3-1b-it'), opts({ context: 32768 }));
    expect(g3.layers.filter((l) => l.kind === 'global').map((l) => l.index)).toEqual([5, 11, 17, 23]);
    expect(g3.kvBytes).toBe(4 * 32768 * 1024 + 22 * 512 * 1024);
    // Qwen2.5's use_sliding_window is false: every layer global
    expect(planMemory(arch('qwen2.5-7b-instruct-yarn'), opts()).layers.every((l) => l.kind === 'global')).toBe(true);
  });

  it('policies cap every layer; batch multiplies the cache', () => {
    const a = arch('llama-3.1-8b');
    expect(planMemory(a, opts({ context: 131072, kvPolicy: parseKvPolicy('streaming:4+2044') })).kvBytes).toBe(2048 * 131072);
    expect(planMemory(a, opts({ context: 131072, kvPolicy: parseKvPolicy('h2o:1024'), batch: 3 })).kvBytes).toBe(3 * 1024 * 131072);
    expect(() => parseKvPolicy('streaming:4')).toThrow(/streaming:SINKS\+RECENT/);
  });

  it('KIVI is refused on MLA, whose latent is shared by keys and values', () => {
    expect(() => planMemory(arch('deepseek-v2-lite'), opts({ kv: 'kivi2' }))).toThrow(/MLA/);
  });
});

describe('activation, total and the longest context that fits', () => {
  const a = arch('llama-3.1-8b');
  it('prefill peak: chunk · widest stage · 2 bytes + last-token logits in fp32', () => {
    // attention stage 2·4096 + 2·32·128 + 2·8·128 = 18,432; MLP stage 2·4096 + 3·14336 = 51,200 (wider);
    // 2048 · 51,200 · 2 + 128,256 · 4 = 210,228,224
    const p = planMemory(a, opts({ context: 131072 }));
    expect(p.activationBytes).toBe(210_228_224);
    expect(p.totalBytes).toBe(16_060_522_496 + 16 * GiB + 210_228_224);
    // shorter than a chunk: T · 51,200 · 2 + logits
    expect(planMemory(a, opts({ context: 100 })).activationBytes).toBe(100 * 51_200 * 2 + 128_256 * 4);
  });

  it('maxContext: the largest T whose total fits, exact to the token', () => {
    // 24 GiB − 16,060,522,496 weights − 210,228,224 activation = 9,499,053,056 for the cache; ÷ 131,072 = 72,472.02
    const budget = 24 * GiB;
    expect(planMemory(a, opts({ fit: budget })).maxContext).toBe(72_472);
    const T = 72_472;
    expect(planMemory(a, opts({ context: T })).totalBytes).toBeLessThanOrEqual(budget);
    expect(planMemory(a, opts({ context: T + 1 })).totalBytes).toBeGreaterThan(budget);
  });

  it('maxContext under KIVI (saw-toothed bytes) is the last T before the first that does not fit', () => {
    const o = opts({ kv: 'kivi2' });
    const budget = 20 * GiB;
    const T = maxContext(a, o, 16_060_522_496, budget);
    for (let t = T - 300; t <= T; t++) expect(planMemory(a, { ...o, context: t }).totalBytes, `T = ${t}`).toBeLessThanOrEqual(budget);
    expect(planMemory(a, { ...o, context: T + 1 }).totalBytes).toBeGreaterThan(budget);
  });

  it('a cache that stops growing fits every length: maxContext is the search limit', () => {
    expect(planMemory(arch('mistral-7b-v0.1'), opts({ fit: 24 * GiB })).maxContext).toBe(1 << 24);
    expect(planMemory(a, opts({ fit: 1 * GiB })).maxContext).toBe(0);
  });
});
