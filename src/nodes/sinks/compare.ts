// Compares two tensors: how far an approximation is from the exact result.
import { z } from 'zod';
import { defineNode, ShapeError } from '../../engine/node.js';
import { deviation, isIncomparable } from '../../engine/run/accuracy.js';
import type { Tensor } from '../../engine/tensor.js';
import { metrics, type PortShape } from '../../engine/values.js';

/** The metrics compare reports (declared on its output, so checks on them are validated before a run). */
export const COMPARE_METRICS = ['maxAbs', 'meanAbs', 'maxRel', 'cosine', 'rmse', 'elements'] as const;

/** The compare metrics of `a` against `b` (shapes already checked): engine/run/accuracy.ts's deviation. */
export function compareTensors(a: Tensor, b: Tensor): Record<(typeof COMPARE_METRICS)[number], number> {
  const d = deviation(a, b);
  if (isIncomparable(d)) throw new ShapeError('b', `compare needs equal shapes: ${d.incomparable}`);
  return { maxAbs: d.maxAbs, meanAbs: d.meanAbs, maxRel: d.maxRel, cosine: d.cosine, rmse: d.rmse, elements: d.elements };
}

function sameShape(a: PortShape, b: PortShape): void {
  if (!a.shape || !b.shape) return;
  const sa = a.shape.length === b.shape.length + 1 && a.shape[0] === 1 ? a.shape.slice(1) : a.shape;
  const sb = b.shape.length === a.shape.length + 1 && b.shape[0] === 1 ? b.shape.slice(1) : b.shape;
  if (sa.length !== sb.length || sa.some((d, i) => d !== null && sb[i] !== null && d !== sb[i]))
    throw new ShapeError('b', `compare needs equal shapes: a is [${a.shape.join(', ')}], b is [${b.shape.join(', ')}]`);
}

export const compare = defineNode({
  type: 'compare',
  family: 'sink',
  title: 'Compare',
  summary:
    'Error of `a` against the reference `b`: max/mean absolute error, max relative error, cosine similarity. Shapes must match (a leading batch dimension of 1 aside). When b is all zeros, maxRel falls back to maxAbs, and cosine is 1 if a is all zeros too, else 0.',
  formula: 'maxAbs = max|a−b|; meanAbs = mean|a−b|; maxRel = max|a−b| / max|b|; cosine = a·b/(‖a‖‖b‖)',
  references: [],
  params: z.object({}),
  inputs: { a: { kind: 'tensor', doc: 'the tensor under test' }, b: { kind: 'tensor', doc: 'the reference' } },
  outputs: { metrics: { kind: 'metrics' } },
  infer(ins) {
    sameShape(ins.a, ins.b);
    return { metrics: { kind: 'metrics', keys: [...COMPARE_METRICS] } };
  },
  cost: (ins) => ({ flops: 8 * (ins.a.shape ?? []).reduce((x: number, d) => x * (d ?? 0), 1), workspaceBytes: 0 }),
  run(_ctx, { a, b }) {
    // Shapes known only now (e.g. from .npy files) get the same check as at compile time.
    sameShape({ kind: 'tensor', shape: a.shape }, { kind: 'tensor', shape: b.shape });
    return { metrics: metrics(compareTensors(a, b)) };
  },
  reference: ({ a, b }) => ({ metrics: metrics(compareTensors(a, b)) }),
});
