// `ctxlab plan`, run as a user runs it: the figures for Llama-3.1-8B, the JSON keys, the table,
// and exit 2 with a message naming the file or the flag for bad input.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ctxlab } from './testing.js';

const LLAMA = 'src/nodes/model/fixtures/llama-3.1-8b.json';

describe('ctxlab plan', () => {
  it('--json: Llama-3.1-8B at 128K in bf16 (8,030,261,248 params; 131,072 bytes per token; 16 GiB)', async () => {
    const r = await ctxlab(['plan', LLAMA, '--context', '131072', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ params: 8_030_261_248, weightsBytes: 16_060_522_496, kvBytesPerToken: 131_072, kvBytes: 16 * 2 ** 30, activationBytes: 210_228_224 });
    expect(j.totalBytes).toBe(j.weightsBytes + j.kvBytes + j.activationBytes);
    expect(j.layers).toHaveLength(32);
    expect(j.layers[31]).toEqual({ index: 31, kind: 'global', kvTokens: 131072, kvBytes: 536_870_912 });
    expect('maxContext' in j).toBe(false);
  }, 60_000);

  it('--fit gives the longest context; --kv, --kv-policy, --batch and 128K are read', async () => {
    const r = await ctxlab(['plan', LLAMA, '--context', '128K', '--kv', 'kivi2', '--kv-policy', 'streaming:4+8188', '--batch', '2', '--fit', '24GiB', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    // 8192 tokens kept per layer; KIVI-2 per head and layer at 8192 tokens: keys 8192·128·2/8 + 256·128·4 =
    // 393,216; values 8064 quantized: 258,048 + 129,024, 128 residual · 256 = 32,768 → 813,056 ×8 heads ×32 layers ×2 sequences
    expect(j.kvBytes).toBe(813_056 * 8 * 32 * 2);
    expect(j.layers[0].kvTokens).toBe(8192);
    // the cache stops growing at 8192 tokens: every length fits
    expect(j.maxContext).toBe(1 << 24);
    const fit = JSON.parse((await ctxlab(['plan', LLAMA, '--fit', '24GiB', '--json'])).stdout);
    expect(fit.maxContext).toBe(72_472); // (24 GiB − 16,060,522,496 − 210,228,224) / 131,072 = 72,472.02
  }, 60_000);

  it('prints a table for people', async () => {
    const r = await ctxlab(['plan', LLAMA, '--context', '131072', '--fit', '24GiB']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/KV cache\s+131,072 B\/token\s+17,179,869,184\s+16\.00/);
    expect(r.stdout).toMatch(/32 global layers: 131,072 tokens, 536,870,912 bytes each \(0–31\)/);
    expect(r.stdout).toContain('max context in 24.00 GiB: 72,472 tokens');
  }, 60_000);

  it('bad input exits 2 naming the file, key or flag', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctxlab-plan-'));
    const bert = join(dir, 'config.json');
    writeFileSync(bert, JSON.stringify({ model_type: 'bert', hidden_size: 768 }));
    let r = await ctxlab(['plan', bert]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config\.json: unsupported model_type "bert"; supported: llama, mistral/);
    const noLayers = join(dir, 'llama.json');
    writeFileSync(noLayers, JSON.stringify({ model_type: 'llama', hidden_size: 64, num_attention_heads: 4, intermediate_size: 128, vocab_size: 100, max_position_embeddings: 64 }));
    r = await ctxlab(['plan', noLayers]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/llama\.json: missing required key "num_hidden_layers"/);
    r = await ctxlab(['plan', LLAMA, '--kv-policy', 'lru']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/--kv-policy: .*streaming:SINKS\+RECENT/)]);
    r = await ctxlab(['plan', LLAMA, '--kv', 'int3']);
    expect(r.code).toBe(2);
    r = await ctxlab(['plan', LLAMA, '--fit', 'lots']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/--fit: cannot read "lots" as a size/)]);
    r = await ctxlab(['plan', join(dir, 'missing.json')]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/cannot read .*missing\.json/)]);
  }, 60_000);
});
