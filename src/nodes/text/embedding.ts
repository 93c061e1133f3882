// Seeded hash embedding: the row of token id t is a standard-normal vector drawn from a PRNG stream
// keyed by (seed, t), so no vocabulary-sized table is ever held (the hashing trick). Rows are unit
// variance per element; distinct ids give independent rows. Generating a row is host-side work, so
// run() and reference() share the plain-TypeScript code.
import { z } from 'zod';
import { defineNode } from '../../engine/node.js';
import { requireKind } from '../../engine/shapes.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { tensorShape, type TokensValue } from '../../engine/values.js';
import { fillGaussian } from '../common/random.js';

const params = z.object({
  dim: z.number().int().min(1).max(65536).default(256).describe('embedding width C'),
  seed: z.number().int().default(0),
});

/** Stream id of the embedding rows, apart from other seeded streams. */
const STREAM = 0x656d62; // "emb"

export function embeddingRow(id: number, dim: number, seed: number, out = new Float32Array(dim)): Float32Array {
  return fillGaussian(out, seed, STREAM, id);
}

export function embed(tokens: TokensValue, p: { dim: number; seed: number }): Tensor {
  const T = tokens.ids.length;
  const out = new Float32Array(T * p.dim);
  // A token repeats often: copy its row rather than draw it again (memory bounded by T, not the vocabulary).
  const first = new Map<number, number>();
  for (let t = 0; t < T; t++) {
    const id = tokens.ids[t]!;
    const row = out.subarray(t * p.dim, (t + 1) * p.dim);
    const seen = first.get(id);
    if (seen === undefined) {
      embeddingRow(id, p.dim, p.seed, row);
      first.set(id, t);
    } else row.set(out.subarray(seen * p.dim, (seen + 1) * p.dim));
  }
  return f32([T, p.dim], out, ['T', 'C']);
}

export const embedding = defineNode({
  type: 'embedding',
  family: 'text',
  title: 'Embedding (seeded hash)',
  summary: 'Token ids → [T, C] rows drawn from a seeded PRNG keyed by the id: a stand-in for a trained table, without its vocab×C memory.',
  formula: 'E[t, :] = N(0, 1)^C from the stream (seed, id_t)',
  references: [{ title: 'Feature Hashing for Large Scale Multitask Learning', year: 2009 }],
  params,
  inputs: { tokens: { kind: 'tokens', dims: ['T'] } },
  outputs: { out: { kind: 'tensor', dims: ['T', 'C'] } },
  infer(ins, p) {
    const s = requireKind('tokens', ins.tokens, 'tokens');
    return { out: tensorShape('float32', [s.shape?.[0] ?? null, p.dim], ['T', 'C']) };
  },
  cost(ins, p) {
    const T = ins.tokens.shape?.[0] ?? 0;
    return { flops: 0, workspaceBytes: T * 16, bytesMoved: T * p.dim * 4, note: 'a gather: each distinct id draws one row, O(T·C)' };
  },
  run: (_ctx, ins, p) => ({ out: embed(ins.tokens, p) }),
  reference: (ins, p) => ({ out: embed(ins.tokens, p) }),
});
