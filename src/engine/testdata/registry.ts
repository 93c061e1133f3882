// A small registry for engine tests: three toy node kinds, so the engine is tested without the node
// library. `toy.count` reads a file holding a decimal count (its `prepare` learns the length from
// the file's head), `toy.scale` multiplies a tensor, `toy.pair` needs two inputs of one length.
import { z } from 'zod';
import { defineNode, ShapeError } from '../node.js';
import { Registry } from '../registry.js';
import { f32, sizeOf } from '../tensor.js';
import { tensorShape } from '../values.js';

/** The count a file holds; a file that holds no count is an error at the `path` param. */
function countIn(bytes: Uint8Array, path: string): number {
  const text = new TextDecoder().decode(bytes).trim();
  if (!/^\d+$/.test(text) || Number(text) < 1) throw Object.assign(new Error(`${path} holds no count: "${text.slice(0, 20)}"`), { param: 'path' });
  return Number(text);
}

export const toyCount = defineNode({
  type: 'toy.count',
  family: 'source',
  title: 'Count file',
  summary: 'A float32 vector 1..n, n read from a text file.',
  references: [],
  params: z.object({ path: z.string().min(1), length: z.number().int().min(1).optional() }),
  inputs: {},
  outputs: { out: { kind: 'tensor' } },
  infer: (_, p) => ({ out: tensorShape('float32', [p.length ?? null]) }),
  async run(ctx, _ins, p) {
    const n = countIn(await ctx.readFile(p.path), p.path);
    return { out: f32([n], Float32Array.from({ length: n }, (_, i) => i + 1)) };
  },
  async prepare(params, readHead) {
    if (typeof params.path !== 'string') return params;
    const head = await readHead(params.path);
    return head ? { length: countIn(head.bytes, params.path), ...params } : params;
  },
});

export const toyScale = defineNode({
  type: 'toy.scale',
  family: 'math',
  title: 'Scale',
  summary: 'x · factor, with a workspace of `scratch` copies of its input.',
  references: [],
  params: z.object({ factor: z.number().default(2), scratch: z.number().int().min(0).default(0) }),
  inputs: { in: { kind: 'tensor' } },
  outputs: { out: { kind: 'tensor' } },
  infer: (ins) => ({ out: ins.in }),
  cost: (ins, p) => {
    const n = ins.in.shape?.every((d) => d !== null) ? sizeOf(ins.in.shape as number[]) : 0;
    return { flops: n, workspaceBytes: 4 * n * p.scratch };
  },
  run: (_ctx, ins, p) => ({ out: f32(ins.in.shape, Float32Array.from(ins.in.data, (x) => x * p.factor)) }),
});

export const toyPair = defineNode({
  type: 'toy.pair',
  family: 'math',
  title: 'Pair',
  summary: 'a + b; both of one length.',
  references: [],
  params: z.object({}),
  inputs: { a: { kind: 'tensor' }, b: { kind: 'tensor' } },
  outputs: { out: { kind: 'tensor' } },
  infer: (ins) => {
    const [a, b] = [ins.a.shape?.[0], ins.b.shape?.[0]];
    if (a != null && b != null && a !== b) throw new ShapeError('b', `b has length ${b}, a has ${a}`);
    return { out: ins.a };
  },
  run: (_ctx, ins) => ({ out: f32(ins.a.shape, Float32Array.from(ins.a.data, (x, i) => x + ins.b.data[i]!)) }),
});

export const toyRegistry = () => new Registry([toyCount, toyScale, toyPair]);

/** A pipeline document over the toy kinds. */
export function toyDoc(nodes: { id: string; type: string; params?: object }[], edges: [string, string][] = []) {
  return { format: 'context-lab/pipeline', version: 1, name: 'toy', nodes, edges: edges.map(([from, to]) => ({ from, to })) };
}
