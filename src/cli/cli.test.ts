// The CLI as a user runs it: a child process, its exit code, stdout/stderr and the files it writes.
import { ctxlab } from './testing.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from '../engine/io/npy.js';
import { naiveAttentionReference } from '../nodes/attention/reference.js';
import { syntheticQkv } from '../nodes/sources/synthetic-qkv.js';
import { f32 } from '../engine/tensor.js';
import { expectClose } from '../nodes/testing.js';
import { qkvAttention } from '../lab/testdata/fixtures.js';
import { parseBytes } from './format.js';

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
    // A typo in --set is an error (in the file it is a warning: a newer writer's params are kept).
    for (const cmd of ['run', 'validate']) {
      const typo = await ctxlab([cmd, path, '--set', 'qkv.seqlen=4096']);
      expect(typo.code, cmd).toBe(2);
      expect(typo.stderr).toMatch(/nodes\[0\]\.params\.seqlen \[qkv\]: "seqlen" is not a param of source\.synthetic-qkv \(did you mean "seqLen"\?\)/);
    }
    const sweep = await ctxlab(['sweep', path, '--set', 'naive.blockSize=16,32']);
    expect(sweep.code).toBe(2);
    expect(sweep.stderr).toContain('not a param of attention variant "naive"');
  });

  it('--verbose adds the stack to a node failure', async () => {
    const doc = qkvAttention();
    doc.nodes.push({ id: 'file', type: 'source.npy', params: { path: 'missing.npy' } } as never);
    const path = writeDoc(tmp(), doc);
    const r = await ctxlab(['--verbose', 'run', path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/missing\.npy[\s\S]*    at /);
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

  it('knows .npy shapes before running: validate shows them, and a mismatch is an invalid pipeline', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'q.npy'), encodeNpy(f32([2, 8, 4], new Float32Array(64))));
    writeFileSync(join(dir, 'k.npy'), encodeNpy(f32([2, 8, 5], new Float32Array(80))));
    const doc = (k: string) => ({
      format: 'context-lab/pipeline', version: 1, name: 'npy shapes',
      nodes: [
        { id: 'q', type: 'source.npy', params: { path: 'q.npy' } },
        { id: 'k', type: 'source.npy', params: { path: k } },
        { id: 'attn', type: 'attention', params: { variant: 'flash' } },
      ],
      edges: [{ from: 'q.out', to: 'attn.q' }, { from: 'k.out', to: 'attn.k' }, { from: 'q.out', to: 'attn.v' }],
    });
    const ok = await ctxlab(['validate', writeDoc(dir, doc('q.npy'), 'ok.json')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/attn\s+attention\s+out 2×8×4 f32/);
    const bad = writeDoc(dir, doc('k.npy'), 'bad.json');
    for (const cmd of ['validate', 'run', 'export']) {
      const r = await ctxlab([cmd, bad]);
      expect(r.code, cmd).toBe(2);
      expect(r.stderr).toContain('edges[1] [attn]: attn (attention): "k" dim D = 5 does not match D = 4 from another input');
    }
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
    expect(r.stdout).toContain('after one untimed warm-up run at 128');
    const csv = readFileSync(join(dir, 'sweep.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('value,node,status,ms,peakBytes,note');
    // A row per value and node, then a slope row per node.
    expect(csv).toHaveLength(1 + 3 * 4 + 4);
    const [what, node, , slopeMs, slopePeak] = csv.at(-4)!.split(',');
    expect([what, node]).toEqual(['slope', 'qkv']);
    expect(Number(slopeMs)).not.toBeNaN();
    expect(Number(slopePeak)).toBeCloseTo(1, 1);
    const sweep = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
    // The synthetic source's output grows linearly with T: its peak-bytes slope is 1.
    expect(sweep.slopes.qkv.peak.slope).toBeCloseTo(1, 1);
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

describe('ctxlab arguments, units, stdin, JSON and errors', () => {
  const withFailingNode = () => {
    const doc = qkvAttention();
    doc.nodes.push({ id: 'f', type: 'source.npy', params: { path: 'missing.npy' } } as never);
    return doc;
  };

  it('--version and -V print the package version', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
    for (const flag of ['--version', '-V']) {
      const r = await ctxlab([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it('run - and validate - read the pipeline from stdin; relative paths resolve against the working folder', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.npy'), encodeNpy(f32([2, 2], [1, 2, 3, 4])));
    const doc = JSON.stringify({
      format: 'context-lab/pipeline', version: 1, name: 'stdin',
      nodes: [{ id: 'a', type: 'source.npy', params: { path: 'a.npy' } }, { id: 'b', type: 'source.npy', params: { path: 'a.npy' } }, { id: 'cmp', type: 'compare' }],
      edges: [{ from: 'a.out', to: 'cmp.a' }, { from: 'b.out', to: 'cmp.b' }],
    });
    const r = await ctxlab(['run', '-', '--json'], dir, doc);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).metrics.cmp.maxAbs).toBe(0);
    const v = await ctxlab(['validate', '-'], dir, doc);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^stdin: ok — 3 nodes/);
  });

  it('sizes: binary units with "i", decimal without; tables say MiB and which prediction they show', async () => {
    expect(parseBytes('8GiB')).toBe(8 * 2 ** 30);
    expect(parseBytes('512MiB')).toBe(512 * 2 ** 20);
    expect(parseBytes('1GB')).toBe(1e9);
    expect(parseBytes('1MB')).toBe(1e6);
    expect(parseBytes('1e9')).toBe(1e9);
    expect(() => parseBytes('8G')).toThrow(/8GiB/);
    const v = await ctxlab(['validate', 'pipelines/flash-vs-naive.json']);
    expect(v.stdout).toMatch(/pred MiB \(node alone\)\s+pred peak MiB \(with live values\)/);
    expect(v.stdout).not.toMatch(/\bMB\b/);
    const r = await ctxlab(['run', writeDoc(tmp(), qkvAttention())]);
    expect(r.stdout).toContain('pred MiB (node alone)');
    expect(r.stdout).not.toMatch(/\bMB\b/);
  });

  it('validate applies the memory guard as run does, with the same line; no peak node is not "undefined"', async () => {
    const path = writeDoc(tmp(), qkvAttention({ seqLen: 512 }));
    const run = await ctxlab(['run', path, '--memory-budget', '1MiB']);
    const validate = await ctxlab(['validate', path, '--memory-budget', '1MiB']);
    expect(validate.code).toBe(2);
    expect(run.code).toBe(2);
    expect(validate.stderr).toBe(run.stderr);
    expect(validate.stderr.trim().split('\n')).toHaveLength(1);
    // The default budget (half of system memory) holds for validate too.
    const huge = await ctxlab(['validate', writeDoc(tmp(), qkvAttention({ seqLen: 4_000_000 }))]);
    expect(huge.code).toBe(2);
    expect(huge.stderr).toContain('refused before running: node "naive"');
    const empty = await ctxlab(['validate', '-'], undefined, JSON.stringify({ format: 'context-lab/pipeline', version: 1, nodes: [], edges: [] }));
    expect(empty.code).toBe(0);
    expect(empty.stdout).not.toContain('undefined');
  });

  it('sweep fits only the nodes the swept param reaches (the swept node and what is downstream of it)', async () => {
    const dir = tmp();
    const r = await ctxlab(['sweep', writeDoc(dir, qkvAttention({ seqLen: 64 })), '--set', 'flash.blockSize=16,32,64', '--out', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^– no slope: the swept param does not reach it \(qkv ms, qkv MiB, naive ms, naive MiB\)$/m);
    expect(r.stdout).toMatch(/^qkv\s.*\s–\s+–$/m);
    const sweep = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
    expect(Object.keys(sweep.slopes)).toEqual(['qkv', 'naive', 'flash', 'cmp']);
    // The swept node's own peak is measured at every value: it gets an exponent (or a reason that is not "does not reach").
    expect(sweep.slopes.flash.peak.why ?? '').not.toContain('does not reach');
  });

  it('sweep validates every value before running any', async () => {
    const r = await ctxlab(['sweep', writeDoc(tmp(), qkvAttention()), '--set', 'qkv.seqLen=32,abc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nodes\[0\]\.params\.seqLen \[qkv\]: .*\(at qkv\.seqLen="abc"\)/);
    expect(r.stderr).not.toContain('warm-up');
  });

  it('sweep: refusals are results (exit 0), failures are marked with the node error (exit 1), slopes it cannot fit are "–"', async () => {
    const dir = tmp();
    const refused = await ctxlab(['sweep', writeDoc(dir, qkvAttention({ headDim: 32 })), '--set', 'qkv.seqLen=64,128,2048', '--memory-budget', '4MiB']);
    expect(refused.code).toBe(0);
    expect(refused.stdout).toMatch(/qkv\.seqLen=2048: refused before running/);
    expect(refused.stdout).toMatch(/^qkv\s.*refused.*\s–\s+–$/m);
    expect(refused.stdout).toContain('– no slope: fewer than 3 points');
    const failed = await ctxlab(['sweep', writeDoc(dir, withFailingNode(), 'f.json'), '--set', 'qkv.seqLen=16,32', '--out', dir]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/^f\s+failed\s+failed/m);
    expect(failed.stdout).toMatch(/qkv\.seqLen=16: failed: node "f": .*missing\.npy/);
    const csv = readFileSync(join(dir, 'sweep.csv'), 'utf8');
    expect(csv).toMatch(/^16,f,failed,,,".*missing\.npy.*"$/m);
    const help = await ctxlab(['sweep', '--help']);
    expect(help.stdout).toContain('sweep.csv');
    expect(help.stdout).toMatch(/0 when every value ran or was refused/);
  });

  it('a closed stdout pipe ends the command quietly', async () => {
    for (const args of [['schema'], ['validate', 'pipelines/flash-vs-naive.json']]) {
      const child = spawn(process.execPath, ['bin/ctxlab.mjs', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise((resolve) => child.on('close', resolve));
      expect(stderr).toBe('');
      expect(code).toBe(0);
    }
  });

  it('--out naming a file is an argument error', async () => {
    const dir = tmp();
    const file = writeDoc(dir, qkvAttention());
    for (const cmd of [['run', file], ['sweep', file, '--set', 'qkv.seqLen=16,32']]) {
      const r = await ctxlab([...cmd, '--out', file]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(/^ctxlab: --out .*p\.json: exists and is not a folder$/);
    }
  });

  it('--json says ok: false with the exit code, and gives bad JSON input as an issue', async () => {
    const dir = tmp();
    const check = await ctxlab(['run', writeDoc(dir, { ...qkvAttention(), checks: [{ node: 'cmp', metric: 'maxAbs', gt: 1 }] }), '--json']);
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: false, status: 'ok', checksPassed: false });
    writeFileSync(join(dir, 'broken.json'), '{ "format": ');
    const broken = await ctxlab(['run', join(dir, 'broken.json'), '--json']);
    expect(broken.code).toBe(2);
    expect(JSON.parse(broken.stdout)).toMatchObject({ ok: false, status: 'invalid', issues: [{ path: '$', message: expect.stringContaining('is not valid JSON') }] });
    const v = await ctxlab(['validate', '-', '--json'], dir, 'nope');
    expect(v.code).toBe(2);
    expect(JSON.parse(v.stdout).issues[0].message).toContain('stdin is not valid JSON');
  });

  it('--verbose adds the stack to file errors', async () => {
    const missing = join(tmp(), 'missing.json');
    expect((await ctxlab(['run', missing])).stderr).not.toContain('    at ');
    const r = await ctxlab(['--verbose', 'run', missing]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no such file\n.*ENOENT[\s\S]*    at /);
  });
});
