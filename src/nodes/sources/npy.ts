// Reads a tensor from a NumPy .npy file (path relative to the pipeline file).
import { z } from 'zod';
import { checkNpySize, decodeNpy, readNpyHeader, type NpyHeader } from '../../engine/io/npy.js';
import { defineNode } from '../../engine/node.js';
import { tensorShape } from '../../engine/values.js';

const DTYPES = ['float32', 'int32', 'uint8', 'uint32'] as const;
type Declared = { path: string; shape?: number[]; dtype?: (typeof DTYPES)[number] };

/** What run and prepare both refuse: a header whose shape or dtype disagrees with the params. */
function checkDeclared(p: Declared, h: Pick<NpyHeader, 'descr' | 'dtype' | 'shape'>): void {
  if (p.dtype !== undefined && h.dtype !== p.dtype)
    throw new Error(`${p.path} holds '${h.descr}', which loads as ${h.dtype}; the node declares dtype ${p.dtype}`);
  if (p.shape && h.shape.join(',') !== p.shape.join(','))
    throw new Error(`${p.path} has shape [${h.shape.join(', ')}], the node declares [${p.shape.join(', ')}]`);
}

/** Errors about the file point at the `path` param (see prepareDocument). */
const atPath = (err: unknown) => Object.assign(err as Error, { param: 'path' });

export const npySource = defineNode({
  type: 'source.npy',
  family: 'source',
  title: 'NumPy file',
  summary: 'Loads a .npy array (float32/float64 → f32, int32/int64 → i32, uint8, uint32), C order. int64 values outside the int32 range and float64 values past the float32 range are refused, not wrapped.',
  references: [],
  params: z.object({
    path: z.string().min(1).describe('.npy file, relative to the pipeline file'),
    shape: z.array(z.number().int().min(1)).optional().describe('expected shape; when left out, the CLI and the engine worker read it from the file header before compiling'),
    dtype: z.enum(DTYPES).optional().describe('expected dtype after loading (float64 loads as float32, int64 as int32); a file that disagrees is an error. When left out, the header says'),
  }),
  inputs: {},
  outputs: { out: { kind: 'tensor' } },
  infer: (_, p) => ({ out: p.shape ? tensorShape(p.dtype ?? 'float32', p.shape) : { kind: 'tensor' as const, dtype: p.dtype ?? 'float32' } }),
  async run(ctx, _ins, p) {
    const bytes = await ctx.readFile(p.path);
    checkDeclared(p, readNpyHeader(bytes, p.path));
    return { out: decodeNpy(bytes, p.path) };
  },
  flags: { volatile: true },
  // The header tells the compiler the shape and dtype; a header or size the run would refuse fails here.
  async prepare(params, readHead) {
    if (typeof params.path !== 'string') return params;
    const file = await readHead(params.path);
    if (!file) return params;
    // Params of the wrong type are left to the schema, which names them.
    const declared: Declared = {
      path: params.path,
      shape: Array.isArray(params.shape) ? (params.shape as number[]) : undefined,
      dtype: DTYPES.find((d) => d === params.dtype),
    };
    try {
      const h = readNpyHeader(file.bytes, params.path);
      checkNpySize(h, file.size, params.path);
      checkDeclared(declared, h);
      // An empty array (a 0 in the shape) has no shape the param accepts: the run loads it as it is.
      // What the user wrote stays (an invalid value is the schema's to report).
      return { ...(h.shape.includes(0) ? {} : { shape: h.shape }), dtype: h.dtype, ...params };
    } catch (err) {
      throw atPath(err);
    }
  },
});
