// Every registered node with a plain-TS reference × each variant × each backend (cpu, wasm) against
// that reference, on the examples the node declares in parity-examples.ts. A node type or a variant
// without an example fails here, so a new variant cannot go without a parity check.
import { describe, expect, it } from 'vitest';
import type { AnyNodeDef, BackendName } from '../engine/node.js';
import type { Tensor } from '../engine/tensor.js';
import type { Value } from '../engine/values.js';
import { families } from './index.js';
import { PARITY_EXAMPLES, type NodeExamples } from './parity-examples.js';
import { expectClose, runNode, runReference } from './testing.js';

const withReference = Object.values(families).flat().filter((n) => n.reference);

/** Every (params, label) an example declares for the node, or the reason it cannot run. */
function cases(node: AnyNodeDef, ex: NodeExamples): { label: string; params: Record<string, unknown> }[] {
  if (!node.variants) return (ex.params ?? []).map((params, i) => ({ label: `example ${i}`, params }));
  return Object.keys(node.variants).flatMap((name) => (ex.variants?.[name] ?? []).map((params, i) => ({ label: `${name} #${i}`, params })));
}

/** A metrics value flattened to path → leaf (typed arrays as number arrays). */
function flatten(v: unknown, path: string, out: Map<string, unknown>): void {
  if (ArrayBuffer.isView(v)) out.set(path, Array.from(v as unknown as ArrayLike<number>));
  else if (Array.isArray(v)) v.forEach((x, i) => flatten(x, `${path}[${i}]`, out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) flatten(x, `${path}.${k}`, out);
  else out.set(path, v);
}

/** Compares every tensor and metrics output of the reference with the run's; returns how many ports it compared. */
function compare(type: string, backend: BackendName, got: Record<string, Value>, want: Record<string, Value>, tol: NodeExamples['tol']): number {
  let compared = 0;
  for (const [port, w] of Object.entries(want)) {
    const g = got[port];
    const where = `${type}.${port} on ${backend}`;
    if (w.kind === 'tensor') {
      expect(g, where).toBeDefined();
      expect((g as Tensor).shape, `${where}: shape`).toEqual(w.shape);
      expectClose((g as Tensor).data, w.data, tol, where);
      compared++;
    } else if (w.kind === 'metrics') {
      expect(g?.kind, where).toBe('metrics');
      const a = new Map<string, unknown>();
      const b = new Map<string, unknown>();
      flatten(w.values, '', b);
      flatten((g as typeof w).values, '', a);
      expect([...a.keys()], `${where}: metric names`).toEqual([...b.keys()]);
      for (const [k, x] of b) {
        const y = a.get(k);
        if (typeof x === 'number' && typeof y === 'number') expectClose([y], [x], tol, `${where}${k}`);
        else if (Array.isArray(x)) expectClose(y as number[], x, tol, `${where}${k}`);
        else expect(y, `${where}${k}`).toEqual(x);
      }
      compared++;
    }
  }
  return compared;
}

describe('every node with a reference declares parity examples', () => {
  it.each(withReference.map((n) => [n.type, n] as const))('%s', (_type, node) => {
    const ex = PARITY_EXAMPLES[node.type];
    expect(ex, `${node.type}: no entry in src/nodes/parity-examples.ts`).toBeDefined();
    if (node.variants) {
      const missing = Object.keys(node.variants).filter((v) => !ex!.variants?.[v]?.length);
      expect(missing, `${node.type}: variants without an example in src/nodes/parity-examples.ts`).toEqual([]);
      const unknown = Object.keys(ex!.variants ?? {}).filter((v) => !(v in node.variants!));
      expect(unknown, `${node.type}: examples for variants it does not have`).toEqual([]);
    } else expect(ex!.params?.length, `${node.type}: no params example`).toBeGreaterThan(0);
  });
});

for (const node of withReference) {
  const ex = PARITY_EXAMPLES[node.type];
  if (!ex) continue; // reported by the test above
  describe(`${node.type} matches its reference`, () => {
    for (const backend of ex.backends ?? (['cpu', 'wasm'] as const))
      it.each(cases(node, ex))(`$label on ${backend}`, async ({ params }) => {
        const inputs = ex.inputs();
        const want = runReference(node, inputs, params);
        const got = await runNode(node, ex.inputs(), params, { backend });
        expect(compare(node.type, backend, got, want, ex.tol), `${node.type}: no tensor or metrics output to compare`).toBeGreaterThan(0);
      });
  });
}
