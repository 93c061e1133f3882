// The CLI as a user runs it: a child process, its exit code, stdout/stderr and the files it writes.
import { ctxlab } from './testing.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from '../engine/io/npy.js';
import { naiveAttentionReference } from '../nodes/attention/reference.js';
import { syntheticQkv } from '../nodes/sources/synthetic-qkv.js';
import { f32 } from '../engine/tensor.js';
import { expectClose } from '../nodes/testing.js';
import { qkvAttention } from '../engine/testdata/fixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'ctxlab-'));
function writeDoc(dir: string, doc: unknown, name = 'p.json') {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

describe('ctxlab run', () => {
  it('runs flash-vs-naive, prints the table and writes .npy files with the right values', async () => {
    const out = tmp();
    const r = await ctxlab(['run', 'pipelines/flash-vs-naive.json', '--backend', 'wasm', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backend: wasm/);
    expect(r.stdout).toMatch(/flash\s+attention\s+flash\s+done/);
    expect(r.stdout).toContain('✓ cmp.maxAbs');
    const flash = decodeNpy(readFileSync(join(out, 'flash.npy')));
    expect(flash.shape).toEqual([8, 1024, 64]);
    // Independent check of a slice: the first two heads against the plain-TS oracle.
    const doc = JSON.parse(readFileSync('pipelines/flash-vs-naive.json', 'utf8'));
    const { q, k, v } = syntheticQkv({ sinkTokens: 4, sinkStrength: 4, locality: 2, ...doc.nodes[0].params });
    const T = 1024;
    const D = 64;
    const q2 = f32([2, T, D], q.data.subarray(0, 2 * T * D));
    const k1 = f32([1, T, D], k.data.subarray(0, T * D));
    const v1 = f32([1, T, D], v.data.subarray(0, T * D));
    const ref = naiveAttentionReference(q2, k1, v1, { causal: true });
    expectClose(flash.data.subarray(0, 2 * T * D), ref.data, { atol: 1e-5 }, 'flash.npy heads 0-1');
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.cmp.maxAbs).toBeLessThan(1e-5);
    const profile = JSON.parse(readFileSync(join(out, 'profile.json'), 'utf8'));
    expect(profile).toMatchObject({ format: 'context-lab/profile', version: 1, status: 'ok', backend: { name: 'wasm' } });
    expect(profile.nodes.map((n: { nodeId: string }) => n.nodeId)).toEqual(['qkv', 'naive', 'flash', 'cmp', 'save_flash', 'save_naive']);
  });

  it('writes .npy that round-trips through the decoder, header padded to 64 bytes', () => {
    const t = f32([2, 3], [1, 2, 3, 4, 5, 6.5]);
    const bytes = encodeNpy(t);
    expect(new TextDecoder().decode(bytes.subarray(1, 6))).toBe('NUMPY');
    const headerEnd = bytes.length - 24;
    expect(headerEnd % 64).toBe(0);
    expect(bytes[headerEnd - 1]).toBe(0x0a);
    expect(new TextDecoder().decode(bytes.subarray(10, headerEnd))).toContain("'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
    expect([...decodeNpy(bytes).data]).toEqual([1, 2, 3, 4, 5, 6.5]);
  });

  it('--json prints a machine-readable report', async () => {
    const dir = tmp();
    const r = await ctxlab(['run', writeDoc(dir, qkvAttention()), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.status).toBe('ok');
    expect(j.metrics.cmp.maxAbs).toBeLessThan(1e-5);
    expect(j.profile.nodes).toHaveLength(4);
  });

  it('applies --set and refuses an unknown node with exit 2', async () => {
    const dir = tmp();
    const path = writeDoc(dir, qkvAttention());
    const ok = await ctxlab(['run', path, '--set', 'qkv.seqLen=40', '--json']);
    expect(JSON.parse(ok.stdout).profile.nodes[0].outputBytes).toBe(3 * 2 * 40 * 8 * 4);
    const bad = await ctxlab(['run', path, '--set', 'nope.seqLen=40']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('no node "nope"');
    const badParam = await ctxlab(['run', path, '--set', 'qkv.seqLen=-1']);
    expect(badParam.code).toBe(2);
    expect(badParam.stderr).toMatch(/nodes\[0\]\.params\.seqLen \[qkv\]: Too small/);
  });

  it('exit codes: 2 for an invalid pipeline, 1 for a failed node or check', async () => {
    const dir = tmp();
    const invalid = await ctxlab(['run', writeDoc(dir, { format: 'context-lab/pipeline', version: 1, nodes: [{ id: 'a', type: 'nope' }] })]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr.trim()).toMatch(/nodes\[0\]\.type \[a\]: unknown node type "nope"$/);
    expect(invalid.stderr).not.toContain('    at ');
    const notJson = join(dir, 'broken.json');
    writeFileSync(notJson, '{ "format": ');
    expect((await ctxlab(['run', notJson])).code).toBe(2);
    expect((await ctxlab(['run', join(dir, 'missing.json')])).stderr).toContain('no such file');
    const failing = qkvAttention();
    failing.nodes.push({ id: 'f', type: 'source.npy', params: { path: 'missing.npy' } } as never);
    const r = await ctxlab(['run', writeDoc(dir, failing)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/node "f" failed: .*missing\.npy/);
    const check = { ...qkvAttention(), checks: [{ node: 'cmp', metric: 'maxAbs', gt: 1 }] };
    const c = await ctxlab(['run', writeDoc(dir, check)]);
    expect(c.code).toBe(1);
    expect(c.stdout).toContain('✗ cmp.maxAbs');
    expect((await ctxlab(['run', 'x.json', '--backend', 'tpu'])).code).toBe(2);
  });

  it('reads .npy inputs relative to the pipeline file', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.npy'), encodeNpy(f32([2, 2], [1, 2, 3, 4])));
    writeFileSync(join(dir, 'b.npy'), encodeNpy(f32([2, 2], [1, 2, 3, 4.5])));
    const doc = {
      format: 'context-lab/pipeline', version: 1, name: 'npy',
      nodes: [{ id: 'a', type: 'source.npy', params: { path: 'a.npy' } }, { id: 'b', type: 'source.npy', params: { path: 'b.npy', shape: [2, 2] } }, { id: 'cmp', type: 'compare' }],
      edges: [{ from: 'a.out', to: 'cmp.a' }, { from: 'b.out', to: 'cmp.b' }],
    };
    const r = await ctxlab(['run', writeDoc(dir, doc), '--json'], tmpdir());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).metrics.cmp).toMatchObject({ maxAbs: 0.5, maxRel: 0.5 / 4.5 });
  });

  it('refuses a run over the memory budget before it starts', async () => {
    const dir = tmp();
    const r = await ctxlab(['run', writeDoc(dir, qkvAttention({ seqLen: 4096, headDim: 64 })), '--memory-budget', '64MB']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refused before running: node "naive" \(attention\) needs a predicted \d+\.\d MiB at peak/);
  });
});

describe('ctxlab sweep, validate, nodes, schema', () => {
  it('sweeps a param and fits log-log slopes', async () => {
    const dir = tmp();
    const r = await ctxlab(['sweep', writeDoc(dir, qkvAttention({ headDim: 32 })), '--set', 'qkv.seqLen=128,256,512', '--set', 'flash.blockSize=64', '--out', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sweep of qkv.seqLen over 128, 256, 512');
    expect(r.stdout).toMatch(/slope ms/);
    const csv = readFileSync(join(dir, 'sweep.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('value,node,status,ms,peakBytes');
    expect(csv).toHaveLength(1 + 3 * 4);
    const sweep = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
    // The synthetic source's output grows linearly with T: its peak-bytes slope is 1.
    expect(sweep.slopes.qkv.peak).toBeCloseTo(1, 1);
    expect((await ctxlab(['sweep', join(dir, 'p.json'), '--set', 'qkv.seqLen=128'])).code).toBe(2);
  });

  it('validate prints the plan or the issues', async () => {
    const ok = await ctxlab(['validate', 'pipelines/flash-vs-naive.json']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/ok — 6 nodes, 10 edges, predicted peak/);
    expect(ok.stdout).toContain('out 8×1024×64 f32');
    const dir = tmp();
    const doc = qkvAttention();
    doc.edges[0]!.to = 'naive.x';
    const bad = await ctxlab(['validate', writeDoc(dir, doc)]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('edges[0].to [naive]: node "naive" (attention) has no input "x"');
  });

  it('nodes lists every type with params and defaults; schema prints the JSON Schema', async () => {
    const n = await ctxlab(['nodes']);
    expect(n.code).toBe(0);
    expect(n.stdout).toContain('variant "flash"');
    expect(n.stdout).toMatch(/blockSize\?: int \(≥ 16, ≤ 4096\) = 256/);
    const j = JSON.parse((await ctxlab(['nodes', '--json'])).stdout);
    expect(j.find((x: { type: string }) => x.type === 'attention').variants.naive.title).toBe('Naive (materialised)');
    const s = JSON.parse((await ctxlab(['schema'])).stdout);
    expect(s.title).toContain('context-lab/pipeline v1');
  });
});
