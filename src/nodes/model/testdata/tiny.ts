// Tiny random Llama checkpoints for tests and benchmarks, generated (never downloaded): the TypeScript
// twin of `tiny_weights` in make_fixtures.py, value for value, so the committed expected logits of
// the NumPy reference apply to the files written here.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mix32 } from '../../common/random.js';
import { encodeSafetensors, type FloatDType, type TensorToWrite } from '../../../engine/io/safetensors.js';

export type TinyConfig = Record<string, unknown> & {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  vocab_size: number;
  head_dim?: number;
  tie_word_embeddings?: boolean;
  attention_bias?: boolean;
};

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** offset + scale·u with u uniform in [−1, 1) from hash(name, index), as make_fixtures.py's `weight`. */
export function hashedWeight(name: string, n: number, scale: number, offset = 0): Float32Array {
  const seed = fnv1a(name);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = offset + scale * ((2 * mix32((seed ^ mix32(i)) >>> 0)) / 2 ** 32 - 1);
  return out;
}

/** Every tensor of the checkpoint by its HF name (`embedScale` 1 is the NumPy script's). */
export function tinyWeights(cfg: TinyConfig, embedScale = 1): Record<string, { shape: number[]; data: Float32Array }> {
  const { hidden_size: hid, intermediate_size: inter, vocab_size: vocab, num_attention_heads: H, num_key_value_heads: Hkv } = cfg;
  const D = cfg.head_dim ?? hid / H;
  const w: Record<string, { shape: number[]; data: Float32Array }> = {};
  const add = (name: string, shape: number[], scale: number, offset = 0) => {
    w[name] = { shape, data: hashedWeight(name, shape.reduce((a, b) => a * b, 1), scale, offset) };
  };
  add('model.embed_tokens.weight', [vocab, hid], embedScale);
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    const shapes: [string, [number, number]][] = [
      ['self_attn.q_proj.weight', [H * D, hid]],
      ['self_attn.k_proj.weight', [Hkv * D, hid]],
      ['self_attn.v_proj.weight', [Hkv * D, hid]],
      ['self_attn.o_proj.weight', [hid, H * D]],
      ['mlp.gate_proj.weight', [inter, hid]],
      ['mlp.up_proj.weight', [inter, hid]],
      ['mlp.down_proj.weight', [hid, inter]],
    ];
    for (const [k, s] of shapes) add(p + k, s, 1 / Math.sqrt(s[1]));
    if (cfg.attention_bias)
      for (const [k, n] of [['q_proj', H * D], ['k_proj', Hkv * D], ['v_proj', Hkv * D], ['o_proj', hid]] as const) add(`${p}self_attn.${k}.bias`, [n], 0.1);
    add(`${p}input_layernorm.weight`, [hid], 0.2, 1);
    add(`${p}post_attention_layernorm.weight`, [hid], 0.2, 1);
  }
  add('model.norm.weight', [hid], 0.2, 1);
  if (cfg.tie_word_embeddings === false) add('lm_head.weight', [vocab, hid], 1 / Math.sqrt(hid));
  return w;
}

/** Writes `config.json` and `model.safetensors` (or `shards` shards plus their index) into `dir`. */
export async function writeTinyModel(dir: string, cfg: TinyConfig, opts: { dtype?: FloatDType; shards?: number; embedScale?: number } = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(cfg, null, 2) + '\n');
  const weights = tinyWeights(cfg, opts.embedScale);
  const withDtype = (names: string[]) =>
    Object.fromEntries(names.map((n) => [n, { ...weights[n]!, dtype: opts.dtype ?? 'F32' } satisfies TensorToWrite]));
  const names = Object.keys(weights).sort();
  const shards = opts.shards ?? 1;
  if (shards <= 1) {
    await writeFile(join(dir, 'model.safetensors'), encodeSafetensors(withDtype(names), { format: 'pt' }));
    return;
  }
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = names.filter((_, i) => i % shards === s);
    for (const n of part) weightMap[n] = file;
    await writeFile(join(dir, file), encodeSafetensors(withDtype(part), { format: 'pt' }));
  }
  await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2) + '\n');
}

/** A SmolLM-135M-shaped config (hidden 576, 30 layers, 9 heads, 3 kv heads, vocab 49152, tied), for benchmarks. */
export const SMOLLM_135M_SHAPE: TinyConfig = {
  model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30,
  num_attention_heads: 9, num_key_value_heads: 3, vocab_size: 49152, max_position_embeddings: 2048, rms_norm_eps: 1e-5,
  rope_theta: 10000, hidden_act: 'silu', tie_word_embeddings: true, torch_dtype: 'bfloat16',
};
