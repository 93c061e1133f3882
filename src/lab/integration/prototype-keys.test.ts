// Node ids, ports, sink names and metric paths are user strings: `__proto__`, `constructor`,
// `hasOwnProperty`… must behave as ordinary keys everywhere (compile, run, metrics.json, checks).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { runPipeline, writeOutputs } from '../api.js';
import { compile } from '../../engine/compile/compile.js';
import { evaluateChecks } from '../../engine/run/checks.js';
import { qkvAttention } from '../testdata/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'ctxlab-proto-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const protoNames = () => Object.getOwnPropertyNames(Object.prototype).sort();

/** Two compares and two sinks named after Object.prototype's keys. */
function doc() {
  return {
    format: 'context-lab/pipeline',
    version: 1,
    name: 'prototype keys',
    nodes: [
      { id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 1, seqLen: 16, headDim: 4 } },
      { id: 'naive', type: 'attention', params: { variant: 'naive' } },
      { id: 'flash', type: 'attention', params: { variant: 'flash', blockSize: 16 } },
      { id: '__proto__', type: 'compare' },
      { id: 'constructor', type: 'compare' },
      { id: 'hasOwnProperty', type: 'sink.npy', params: { name: '__proto__' } },
      { id: 'isPrototypeOf', type: 'sink.npy', params: { name: 'constructor' } },
    ],
    edges: [
      ...['naive', 'flash'].flatMap((a) => ['q', 'k', 'v'].map((p) => ({ from: `qkv.${p}`, to: `${a}.${p}` }))),
      { from: 'flash.out', to: '__proto__.a' }, { from: 'naive.out', to: '__proto__.b' },
      { from: 'naive.out', to: 'constructor.a' }, { from: 'flash.out', to: 'constructor.b' },
      { from: 'naive.out', to: 'hasOwnProperty.in' }, { from: 'flash.out', to: 'isPrototypeOf.in' },
    ],
    checks: [
      { node: '__proto__', metric: 'maxAbs', lt: 1e-4 },
      { node: 'constructor', metric: 'maxAbs', lt: 1e-4 },
    ],
  };
}

describe('prototype keys as ids, ports and names', () => {
  it('compile: a port named after an Object.prototype key is not a port', () => {
    for (const port of ['constructor', '__proto__', 'hasOwnProperty', 'toString']) {
      const d = qkvAttention();
      const to = compile({ ...d, edges: [...d.edges.filter((e) => e.to !== 'cmp.a'), { from: 'flash.out', to: `cmp.${port}` }] }, registry);
      expect(!to.ok && to.issues.map((i) => i.message).join('\n'), port).toMatch(new RegExp(`node "cmp" \\(compare\\) has no input "${port}"`));
      const from = compile({ ...d, edges: [...d.edges.filter((e) => e.to !== 'cmp.a'), { from: `flash.${port}`, to: 'cmp.a' }] }, registry);
      expect(!from.ok && from.issues.map((i) => i.message).join('\n'), port).toMatch(new RegExp(`node "flash" \\(attention\\) has no output "${port}"`));
    }
  });

  it('run: sink names and compare ids keep their outputs, metrics, checks and files', async () => {
    const before = protoNames();
    const run = await runPipeline(doc(), { backend: 'cpu' });
    expect(run.errors).toEqual([]);
    expect(Object.keys(run.artifacts).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.keys(run.metrics).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.keys(JSON.parse(JSON.stringify(run.metrics))).sort()).toEqual(['__proto__', 'constructor']);
    expect(run.checks.map((c) => c.ok)).toEqual([true, true]);
    expect(run.checks[0]!.text).toMatch(/^__proto__\.maxAbs = /);
    const dir = join(tmp, 'out');
    await writeOutputs(run, dir);
    expect(readdirSync(dir).sort()).toEqual(['__proto__.npy', 'constructor.npy', 'metrics.json', 'profile.json']);
    expect(Object.keys(JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'))).sort()).toEqual(['__proto__', 'constructor']);
    // A metric path or node that names a prototype key finds nothing instead of Object.prototype's members.
    const bad = evaluateChecks(
      [
        { node: 'constructor', port: 'metrics', metric: 'constructor', lt: 1, factor: 1 },
        { node: 'hasOwnProperty', port: 'metrics', metric: 'maxAbs', lt: 1, factor: 1 },
        { node: '__proto__', port: 'constructor', metric: 'maxAbs', lt: 1, factor: 1 },
      ],
      run.outputs,
    );
    expect(bad.map((c) => [c.ok, c.text])).toEqual([
      [false, 'check: metric constructor.constructor is undefined, not a number'],
      [false, 'check: node "hasOwnProperty" has no output "metrics" in this run'],
      [false, 'check: node "__proto__" has no output "constructor" in this run'],
    ]);
    expect(protoNames()).toEqual(before);
    expect(({} as Record<string, unknown>).nodeId).toBeUndefined();
  });
});
