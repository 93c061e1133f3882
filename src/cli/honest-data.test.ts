// `validate` refuses what `run` would refuse, and no run turns bad data into silent wrong data:
// malformed .npy files, checks that cannot hold, sinks writing one file, int64 past int32, NaN from an
// overflowing scale, a byte-order mark, an infinite memory budget.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../engine/io/npy.js';
import { f32 } from '../engine/tensor.js';
import { qkvAttention } from '../lab/testdata/fixtures.js';
import { ctxlab } from './testing.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'ctxlab-honest-'));
const writeDoc = (dir: string, doc: unknown, name = 'p.json') => {
  writeFileSync(join(dir, name), JSON.stringify(doc));
  return join(dir, name);
};
const npyDoc = (path: string, extra: object = {}) => ({
  format: 'context-lab/pipeline', version: 1, name: 'npy',
  nodes: [{ id: 'src', type: 'source.npy', params: { path, ...extra } }, { id: 'cmp', type: 'compare' }],
  edges: [{ from: 'src.out', to: 'cmp.a' }, { from: 'src.out', to: 'cmp.b' }],
});

describe('validate refuses what run would refuse', () => {
  it('a truncated .npy and a header contradicting the declared dtype: exit 2, one line naming the node, the param and the file', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'cut.npy'), encodeNpy(f32([4, 4], new Float32Array(16))).subarray(0, 128 + 36));
    writeFileSync(join(dir, 'ok.npy'), encodeNpy(f32([4], [1, 2, 3, 4])));
    const cut = writeDoc(dir, npyDoc('cut.npy'), 'cut.json');
    for (const cmd of ['validate', 'run']) {
      const r = await ctxlab([cmd, cut]);
      expect([r.code, r.stderr.trim().replace(/^ctxlab: /, '')], cmd).toEqual([2, `${cut}: nodes[0].params.path [src]: cut.npy: truncated: shape (4, 4) of '<f4' needs 64 bytes of data, the file has 36`]);
    }
    const r = await ctxlab(['validate', writeDoc(dir, npyDoc('ok.npy', { dtype: 'int32' }), 'dtype.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("nodes[0].params.path [src]: ok.npy holds '<f4', which loads as float32; the node declares dtype int32");
  });

  it('checks that name what is not there or compare nothing, and two sinks with one name', async () => {
    const dir = tmp();
    const doc = {
      ...qkvAttention(),
      nodes: [...qkvAttention().nodes, { id: 's1', type: 'sink.npy', params: { name: 'att' } }, { id: 's2', type: 'sink.npy', params: { name: 'att' } }],
      edges: [...qkvAttention().edges, { from: 'flash.out', to: 's1.in' }, { from: 'naive.out', to: 's2.in' }],
      checks: [{ node: 'cmp', metric: 'maxAbs' }, { node: 'gone', metric: 'maxAbs', lt: 1 }, { node: 'cmp', metric: 'maxabs', lt: 1 }],
    };
    const r = await ctxlab(['validate', writeDoc(dir, doc)]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines.map((l) => l.replace(/^.*?: /, '').split(': ')[0])).toEqual(['checks[0] [cmp]', 'checks[1].node', 'nodes[5].params [s2]']);
    // The metric name is checked once the nodes and ports are right.
    doc.checks = [{ node: 'cmp', metric: 'maxabs', lt: 1 }];
    doc.nodes[5]!.params = { name: 'naive' };
    const m = await ctxlab(['validate', writeDoc(dir, doc)]);
    expect([m.code, m.stderr]).toEqual([2, expect.stringContaining('checks[0].metric [cmp]: check reads metric "maxabs" of cmp, which it does not report (did you mean "maxAbs"?)')]);
  });

  it('--memory-budget that is not a finite number of bytes', async () => {
    const r = await ctxlab(['validate', 'pipelines/flash-vs-naive.json', '--memory-budget', '1e400']);
    expect([r.code, r.stderr.trim()]).toEqual([2, expect.stringMatching(/^ctxlab: --memory-budget: "1e400" is not a finite size in bytes/)]);
  });
});

describe('no silent wrong data', () => {
  it('int64 values outside int32 fail the node, naming the file and the count', async () => {
    const dir = tmp();
    const ids = new BigInt64Array([1n, 2n ** 53n + 1n, 3n, -(2n ** 40n)]);
    // A .npy as numpy writes it: preamble and header padded to 128 bytes, then the data.
    const header = "{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }".padEnd(117) + '\n';
    const bytes = new Uint8Array(128 + ids.byteLength);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length, 0]);
    bytes.set(new TextEncoder().encode(header), 10);
    bytes.set(new Uint8Array(ids.buffer), 128);
    writeFileSync(join(dir, 'ids.npy'), bytes);
    const doc = { format: 'context-lab/pipeline', version: 1, name: 'ids', nodes: [{ id: 'ids', type: 'source.npy', params: { path: 'ids.npy' } }] };
    const r = await ctxlab(['run', writeDoc(dir, doc)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('node "ids" failed: ids.npy: 2 int64 value(s) are outside the int32 range (first: 9007199254740993 at flat index 1)');
  });

  it('NaN from an overflowing scale is reported per node, in the summary and in profile.json', async () => {
    const dir = tmp();
    const doc = qkvAttention();
    doc.nodes[2]!.params = { variant: 'flash', blockSize: 16, scale: 1e308 } as never;
    const out = join(dir, 'out');
    const r = await ctxlab(['run', writeDoc(dir, doc), '--backend', 'cpu', '--out', out]);
    expect(r.stdout).toMatch(/warning: node "flash" produced 512 non-finite value\(s\) \(NaN or ±Infinity\) in output "out"/);
    expect(r.stdout).not.toMatch(/node "naive" produced/);
    const profile = JSON.parse(readFileSync(join(out, 'profile.json'), 'utf8'));
    expect(profile.nodes.find((n: { nodeId: string }) => n.nodeId === 'flash').nonFinite).toEqual({ out: 512 });
  });

  it('accepts a UTF-8 byte-order mark in pipeline and text files', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'in.txt'), '\uFEFFhello');
    const doc = {
      format: 'context-lab/pipeline', version: 1, name: 'bom',
      nodes: [{ id: 'text', type: 'source.text', params: { path: 'in.txt' } }, { id: 'tok', type: 'tokenizer', params: { encoding: 'bytes' } }],
      edges: [{ from: 'text.text', to: 'tok.text' }],
      checks: [{ node: 'tok', metric: 'characters', le: 5 }],
    };
    writeFileSync(join(dir, 'p.json'), '\uFEFF' + JSON.stringify(doc));
    const r = await ctxlab(['run', join(dir, 'p.json'), '--backend', 'cpu']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain('✓ tok.characters = 5 ≤ 5');
  });
});
