// planRun: overrides → prepare → compile → memory budget, on a toy registry (no node library).
import { describe, expect, it } from 'vitest';
import { ReadRefusedError } from '../io/read-policy.js';
import type { FileHead } from '../node.js';
import { toyDoc, toyRegistry } from '../testdata/registry.js';
import { planRun, planRunSync } from './plan-run.js';

const registry = toyRegistry();
const files: Record<string, string> = { 'n1000.txt': '1000\n', 'junk.txt': 'twelve' };
const readHead = async (p: string): Promise<FileHead | undefined> => {
  if (p.startsWith('/')) throw ReadRefusedError.notAFile(p);
  const text = files[p];
  return text === undefined ? undefined : { bytes: new TextEncoder().encode(text), size: text.length };
};
/** count (from a file) → scale with 3 scratch copies. */
const countThenScale = (path = 'n1000.txt') =>
  toyDoc([{ id: 'count', type: 'toy.count', params: { path } }, { id: 'scale', type: 'toy.scale', params: { scratch: 3 } }], [['count.out', 'scale.in']]);

describe('planRun', () => {
  it('learns shapes from file heads, so the plan and its memory figures are known before running', async () => {
    const r = await planRun(countThenScale(), registry, { readHead });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.plan.steps.map((s) => s.outShapes.out?.shape)).toEqual([[1000], [1000]]);
    // At scale: its live input (1000 f32), 3 scratch copies and its output: 5 × 4000 bytes.
    expect(r.plan.steps[1]!.predictedPeakBytes).toBe(5 * 4000);
    expect(r.warnings).toEqual([]);
    // The compiled document keeps what the user wrote and adds what the file said.
    expect((r.doc as { nodes: { params: object }[] }).nodes[0]!.params).toEqual({ length: 1000, path: 'n1000.txt' });
  });

  it('without a head reader, reads nothing: the length stays unknown and planRunSync agrees', async () => {
    const r = await planRun(countThenScale(), registry);
    const s = planRunSync(countThenScale(), registry);
    expect(r.ok && r.plan.steps[0]!.outShapes.out?.shape).toEqual([null]);
    expect(s.ok && s.plan.steps[0]!.outShapes.out?.shape).toEqual([null]);
    expect(r.ok && r.warnings.map((w) => w.nodeId)).toEqual(s.ok && s.warnings.map((w) => w.nodeId));
  });

  it('refuses a plan over the memory budget with the node and the figures, and accepts one at it', async () => {
    const over = await planRun(countThenScale(), registry, { readHead, memoryBudget: 19_999 });
    expect(over).toMatchObject({ ok: false, stage: 'refused', refusal: { nodeId: 'scale', predictedBytes: 20_000, budgetBytes: 19_999 } });
    expect(!over.ok && over.issues).toEqual([expect.objectContaining({ path: 'nodes[1]', nodeId: 'scale', message: expect.stringMatching(/refused before running: node "scale"/) })]);
    expect((await planRun(countThenScale(), registry, { readHead, memoryBudget: 20_000 })).ok).toBe(true);
  });

  it('applies overrides before reading files and compiling; an unknown node or param is invalid', async () => {
    const r = await planRun(countThenScale('missing.txt'), registry, { readHead, overrides: [{ node: 'count', param: 'path', value: 'n1000.txt' }, { node: 'scale', param: 'scratch', value: 0 }] });
    expect(r.ok && r.plan.steps.map((s) => s.predictedPeakBytes)).toEqual([4000, 8000]);
    const unknownNode = await planRun(countThenScale(), registry, { overrides: [{ node: 'nope', param: 'factor', value: 1 }] });
    expect(unknownNode).toEqual({ ok: false, stage: 'invalid', issues: [{ path: 'nodes', message: expect.stringContaining('no node "nope"') }] });
    const typo = planRunSync(countThenScale(), registry, { overrides: [{ node: 'scale', param: 'facter', value: 1 }] });
    expect(!typo.ok && typo.issues.map((i) => i.path)).toEqual(['nodes[1].params.facter']);
  });

  it('a file prepare rejects, or a read the policy refuses, is invalid at the param that names it', async () => {
    const junk = await planRun(countThenScale('junk.txt'), registry, { readHead });
    expect(junk).toEqual({ ok: false, stage: 'invalid', issues: [{ path: 'nodes[0].params.path', nodeId: 'count', message: 'junk.txt holds no count: "twelve"' }] });
    const refused = await planRun(countThenScale('/etc'), registry, { readHead });
    expect(refused).toMatchObject({ ok: false, stage: 'invalid', issues: [{ path: 'nodes[0].params.path', nodeId: 'count' }] });
    expect(!refused.ok && refused.issues[0]!.message).toContain('/etc is not a regular file');
  });

  it('a compile error is invalid, with the edge that does not fit', async () => {
    const doc = toyDoc(
      [{ id: 'a', type: 'toy.count', params: { path: 'n1000.txt' } }, { id: 'b', type: 'toy.count', params: { path: 'x', length: 3 } }, { id: 'sum', type: 'toy.pair' }],
      [['a.out', 'sum.a'], ['b.out', 'sum.b']],
    );
    const r = await planRun(doc, registry, { readHead });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.stage).toBe('invalid');
    expect(!r.ok && r.issues.map((i) => [i.nodeId, i.message])).toEqual([['sum', expect.stringContaining('b has length 3, a has 1000')]]);
  });
});
