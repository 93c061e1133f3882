// Writes pipelines/models/tiny-llama (committed; the gallery's quality pipeline reads it):
//   npx tsx src/nodes/model/testdata/write-gallery-model.ts
// A 2-layer byte-level Llama (vocab 256, hidden 32, trained length 64), random hashed weights, BF16;
// small tied embeddings, so its (untrained) perplexity sits near the uniform 256 rather than far above it.
import { join } from 'node:path';
import { writeTinyModel } from './tiny.js';

await writeTinyModel(join(import.meta.dirname, '../../../../pipelines/models/tiny-llama'), {
  model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2,
  num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 256, max_position_embeddings: 64, rms_norm_eps: 1e-5,
  rope_theta: 10000, hidden_act: 'silu', tie_word_embeddings: true, torch_dtype: 'bfloat16',
}, { dtype: 'BF16', embedScale: 0.05 });
