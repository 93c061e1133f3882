// Reads a tensor from a NumPy .npy file (path relative to the pipeline file).
import { z } from 'zod';
import { decodeNpy, readNpyHeader } from '../../engine/io/npy.js';
import { defineNode } from '../../engine/node.js';
import { tensorShape } from '../../engine/values.js';

export const npySource = defineNode({
  type: 'source.npy',
  family: 'source',
  title: 'NumPy file',
  summary: 'Loads a .npy array (float32/float64 → f32, int32/int64 → i32, uint8, uint32), C order.',
  references: [],
  params: z.object({
    path: z.string().min(1).describe('.npy file, relative to the pipeline file'),
    shape: z.array(z.number().int().min(1)).optional().describe('expected shape; when left out, the CLI and the engine worker read it from the file header before compiling'),
    dtype: z.enum(['float32', 'int32', 'uint8', 'uint32']).default('float32'),
  }),
  inputs: {},
  outputs: { out: { kind: 'tensor' } },
  infer: (_, p) => ({ out: p.shape ? tensorShape(p.dtype, p.shape) : { kind: 'tensor' as const, dtype: p.dtype } }),
  async run(ctx, _ins, p) {
    const t = decodeNpy(await ctx.readFile(p.path), p.path);
    if (p.shape && t.shape.join(',') !== p.shape.join(','))
      throw new Error(`${p.path} has shape [${t.shape.join(', ')}], the node declares [${p.shape.join(', ')}]`);
    return { out: t };
  },
  flags: { volatile: true },
  // The header tells the compiler the shape (and the dtype, unless the node names one).
  async prepare(params, readHead) {
    if (params.shape !== undefined || typeof params.path !== 'string') return params;
    const head = await readHead(params.path);
    if (!head) return params;
    const { dtype, shape } = readNpyHeader(head, params.path);
    if (!dtype || shape.some((d) => !(d >= 1))) return params;
    return { ...params, shape, ...(params.dtype === undefined ? { dtype } : {}) };
  },
});
