// Hands a tensor to the host under a name: the CLI writes <out>/<name>.npy.
import { z } from 'zod';
import { defineNode, MAX_EMIT_NAME } from '../../engine/node.js';

export const npySink = defineNode({
  type: 'sink.npy',
  family: 'sink',
  title: 'Save .npy',
  summary: 'Writes its input as <out>/<name>.npy (little-endian, C order) that numpy.load reads.',
  references: [],
  params: z.object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a file name without folders').max(MAX_EMIT_NAME, `at most ${MAX_EMIT_NAME} characters (it becomes a file name)`).default('out'),
  }),
  inputs: { in: { kind: 'tensor' } },
  outputs: {},
  infer: () => ({}),
  // Two sinks with one name would overwrite each other: the compiler refuses it.
  emits: (p) => [p.name],
  run(ctx, { in: t }, p) {
    ctx.emit(p.name, t);
    return {};
  },
});
