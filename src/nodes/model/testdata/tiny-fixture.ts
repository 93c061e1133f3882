// Test-only: a tiny random Llama written to a temporary folder and loaded through model.load, for the
// node tests that run a model (eval, prune, search). Registers its own beforeAll/afterAll.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { ModelValue } from '../../../engine/values.js';
import { runNode } from '../../testing.js';
import { modelLoad } from '../load.js';
import { writeTinyModel, type TinyConfig } from './tiny.js';

/** Two layers, grouped-query heads (4 query, 2 kv), a byte vocabulary. */
export const TINY_CONFIG: TinyConfig = {
  model_type: 'llama', hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
  vocab_size: 256, max_position_embeddings: 64, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true,
};

/** The loaded model, available inside the calling file's tests as `fixture.model`. */
export function useTinyModel(cfg: TinyConfig = TINY_CONFIG, opts: { embedScale?: number } = {}): { readonly model: ModelValue } {
  let dir: string | undefined;
  let model: ModelValue | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctxlab-tiny-'));
    await writeTinyModel(join(dir, 'tiny'), cfg, opts);
    model = (await runNode(modelLoad, {}, { path: join(dir, 'tiny') })).model as ModelValue;
  });
  afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));
  return {
    get model() {
      if (!model) throw new Error('useTinyModel: the model is loaded in beforeAll; read it inside a test');
      return model;
    },
  };
}
