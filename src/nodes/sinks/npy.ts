// Hands a tensor to the host under a name: the CLI writes <out>/<name>.npy.
import { z } from 'zod';
import { defineNode } from '../../engine/node.js';

export const npySink = defineNode({
  type: 'sink.npy',
  family: 'sink',
  title: 'Save .npy',
  summary: 'Writes its input as <out>/<name>.npy (little-endian, C order) that numpy.load reads.',
  references: [],
  params: z.object({ name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a file name without folders').default('out') }),
  inputs: { in: { kind: 'tensor' } },
  outputs: {},
  infer: () => ({}),
  run(ctx, { in: t }, p) {
    ctx.emit(p.name, t);
    return {};
  },
});
