// model.load through `ctxlab run`, as a user meets it: a malformed checkpoint is refused before
// running (exit 2) naming the file and the tensor, and the memory guard counts the weights from the
// safetensors headers before anything loads.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctxlab } from '../../cli/testing.js';
import { writeTinyModel, type TinyConfig } from './testdata/tiny.js';

const cfg: TinyConfig = {
  model_type: 'llama', hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
  vocab_size: 256, max_position_embeddings: 64, rms_norm_eps: 1e-5, tie_word_embeddings: true,
};
const pipeline = {
  format: 'context-lab/pipeline',
  version: 1,
  nodes: [
    { id: 'model', type: 'model.load', params: { path: 'm' } },
    { id: 'fwd', type: 'model.forward', params: {} },
    { id: 'ids', type: 'tokenizer', params: { encoding: 'bytes' } },
    { id: 'text', type: 'source.text', params: { text: 'hello world' } },
  ],
  edges: [
    { from: 'text.text', to: 'ids.text' },
    { from: 'ids.tokens', to: 'fwd.tokens' },
    { from: 'model.model', to: 'fwd.model' },
  ],
  checks: [{ node: 'fwd', metric: 'tokens', ge: 11 }],
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ctxlab-load-'));
  await writeTinyModel(join(dir, 'm'), cfg);
  await writeFile(join(dir, 'p.json'), JSON.stringify(pipeline));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('ctxlab run with model.load', () => {
  it('runs a tiny checkpoint end to end', async () => {
    const r = await ctxlab(['run', join(dir, 'p.json'), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
  }, 120_000);

  it('refuses a model whose float32 weights exceed --memory-budget, before loading', async () => {
    const r = await ctxlab(['run', join(dir, 'p.json'), '--memory-budget', '64KiB']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/node "model" \(model\.load\).*weights 107136 bytes f32.*over the memory budget/);
  }, 120_000);

  it('refuses a truncated safetensors file with exit 2, naming the file and the tensor', async () => {
    const bad = join(dir, 'bad');
    await writeTinyModel(join(bad, 'm'), cfg);
    const full = await readFile(join(bad, 'm', 'model.safetensors'));
    await writeFile(join(bad, 'm', 'model.safetensors'), full.subarray(0, 4000));
    await writeFile(join(bad, 'p.json'), JSON.stringify(pipeline));
    const r = await ctxlab(['run', join(bad, 'p.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/m\/model\.safetensors: tensor "model\.embed_tokens\.weight": data_offsets \[0, 32768\] overrun the file/);
  }, 120_000);
});
