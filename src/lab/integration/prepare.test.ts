// Preparing a document reads .npy headers: shapes and dtypes known before running, and a file that
// the run would refuse refused here, as an issue of the node at its `path` param, naming the file.
import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { encodeNpy } from '../../engine/io/npy.js';
import { f32, i32 } from '../../engine/tensor.js';
import { compile } from '../../engine/compile/compile.js';
import { prepareDocument } from '../../engine/compile/prepare.js';

const files: Record<string, Uint8Array> = {
  'a.npy': encodeNpy(f32([2, 3], [1, 2, 3, 4, 5, 6])),
  'ids.npy': encodeNpy(i32([4], [1, 2, 3, 4])),
  'cut.npy': encodeNpy(f32([2, 3], [1, 2, 3, 4, 5, 6])).subarray(0, 128 + 20),
};
// What a host's readHead gives: the first bytes and the size.
const readHead = async (p: string) => (files[p] ? { bytes: files[p]!.subarray(0, 65_552), size: files[p]!.length } : undefined);
const doc = (...params: object[]) => ({
  format: 'context-lab/pipeline', version: 1, name: 'npy',
  nodes: params.map((p, i) => ({ id: `src${i}`, type: 'source.npy', params: p })),
});

describe('prepareDocument', () => {
  it('fills shape and dtype from the header, keeping what the user wrote', async () => {
    const r = await prepareDocument(doc({ path: 'a.npy' }, { path: 'ids.npy', dtype: 'int32' }), registry, readHead);
    expect(r.issues).toEqual([]);
    const c = compile(r.doc, registry);
    if (!c.ok) throw new Error(JSON.stringify(c.issues));
    expect(c.plan.steps.map((s) => [s.outShapes.out?.dtype, s.outShapes.out?.shape])).toEqual([['float32', [2, 3]], ['int32', [4]]]);
  });

  it('refuses a truncated file, a declared dtype or shape the header contradicts, naming the file at the path param', async () => {
    const r = await prepareDocument(doc({ path: 'cut.npy' }, { path: 'ids.npy', dtype: 'float32' }, { path: 'a.npy', shape: [3, 2] }, { path: 'a.npy' }), registry, readHead);
    expect(r.issues).toEqual([
      { path: 'nodes[0].params.path', nodeId: 'src0', message: "cut.npy: truncated: shape (2, 3) of '<f4' needs 24 bytes of data, the file has 20" },
      { path: 'nodes[1].params.path', nodeId: 'src1', message: "ids.npy holds '<i4', which loads as int32; the node declares dtype float32" },
      { path: 'nodes[2].params.path', nodeId: 'src2', message: 'a.npy has shape [2, 3], the node declares [3, 2]' },
    ]);
  });

  it('leaves a file it cannot read to the run, and params of the wrong type to the schema', async () => {
    const r = await prepareDocument(doc({ path: 'missing.npy' }, { path: 'a.npy', shape: 'big', dtype: 7 }), registry, readHead);
    expect(r.issues).toEqual([]);
    const c = compile(r.doc, registry);
    expect(c.ok ? [] : c.issues.map((i) => i.path)).toEqual(['nodes[1].params.shape', 'nodes[1].params.dtype']);
  });
});
