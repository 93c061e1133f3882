import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../engine/io/npy.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { syntheticQkv } from '../../nodes/sources/synthetic-qkv.js';
import * as Comlink from 'comlink';
import { registry } from '../../nodes/index.js';
import { compile, type Plan } from '../../engine/compile/compile.js';
import { nodeExecEnv } from '../../engine/node/host.js';
import { startEngineWorker } from '../engine-worker.js';
import { qkvAttention } from '../testdata/fixtures.js';
import type { RunEvent } from '../../engine/run/events.js';
import { CancelToken, executePlan, ResultCache } from '../../engine/run/runtime.js';

function plan(doc: unknown): Plan {
  const r = compile(doc, registry);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.plan;
}

describe('runtime', () => {
  it('runs a plan, profiles every node and frees values after their last reader', async () => {
    const env = await nodeExecEnv('cpu');
    const r = await executePlan(plan(qkvAttention()), env);
    expect(r.status).toBe('ok');
    expect(r.executed).toBe(4);
    const cmp = r.outputs.cmp!.metrics!;
    expect(cmp.kind === 'metrics' && (cmp.values.maxAbs as number)).toBeLessThan(1e-5);
    // Only the outputs of nodes without consumers are kept by default.
    expect(Object.keys(r.outputs)).toEqual(['cmp']);
    const flash = r.profile.nodes.find((n) => n.nodeId === 'flash')!;
    expect(flash).toMatchObject({ status: 'done', type: 'attention', variant: 'flash', outputBytes: 2 * 32 * 8 * 4 });
    expect(flash.flops).toBe((4 * 32 * 32 * 8 * 2) / 2);
    expect(flash.wallMs).toBeGreaterThan(0);
    expect(flash.gflops).toBeGreaterThan(0);
    expect(r.profile.measuredPeakBytes).toBeGreaterThan(0);
    expect(r.profile.memory.at(-1)!.bytes).toBeLessThan(r.profile.measuredPeakBytes);
    // The memory timeline reaches the measured peak, at increasing times.
    expect(Math.max(...r.profile.memory.map((m) => m.bytes))).toBe(r.profile.measuredPeakBytes);
    expect(r.profile.memory.every((m, i, all) => i === 0 || m.tMs >= all[i - 1]!.tMs)).toBe(true);
  });

  it('re-runs only what depends on a changed param (the cache counts executions)', async () => {
    const env = await nodeExecEnv('cpu');
    const cache = new ResultCache();
    const first = await executePlan(plan(qkvAttention({ blockSize: 32 })), env, { cache });
    expect(first.executed).toBe(4);
    const same = await executePlan(plan(qkvAttention({ blockSize: 32 })), env, { cache });
    expect(same.executed).toBe(0);
    expect(same.profile.nodes.every((n) => n.status === 'cached')).toBe(true);
    const changed = await executePlan(plan(qkvAttention({ blockSize: 16 })), env, { cache });
    expect(changed.executed).toBe(2); // flash and cmp; qkv and naive come from the cache
    expect(changed.profile.nodes.filter((n) => n.status === 'done').map((n) => n.nodeId)).toEqual(['flash', 'cmp']);
    const upstream = await executePlan(plan(qkvAttention({ blockSize: 16, seqLen: 40 })), env, { cache });
    expect(upstream.executed).toBe(4);
  });

  it('fails a node that does not produce an output something reads, instead of crashing downstream', async () => {
    const p = plan(qkvAttention());
    const naive = p.steps.find((s) => s.id === 'naive')!;
    naive.def = { ...naive.def, run: async () => ({}) };
    const r = await executePlan(p, await nodeExecEnv('cpu'));
    expect(r.errors).toMatchObject([{ nodeId: 'naive', message: 'attention did not produce its connected output "out"' }]);
    expect(r.profile.nodes.find((n) => n.nodeId === 'cmp')!.status).toBe('skipped');
  });

  it('checks shapes known only at run time (from .npy files) with the node\'s own rules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctxlab-shapes-'));
    writeFileSync(join(dir, 'q.npy'), encodeNpy(f32([2, 8, 4], new Float32Array(64))));
    writeFileSync(join(dir, 'k.npy'), encodeNpy(f32([2, 8, 5], new Float32Array(80))));
    const doc = {
      format: 'context-lab/pipeline', version: 1, name: 'npy shapes',
      nodes: [
        { id: 'q', type: 'source.npy', params: { path: 'q.npy' } },
        { id: 'k', type: 'source.npy', params: { path: 'k.npy' } },
        { id: 'attn', type: 'attention', params: { variant: 'flash' } },
      ],
      edges: [{ from: 'q.out', to: 'attn.q' }, { from: 'k.out', to: 'attn.k' }, { from: 'q.out', to: 'attn.v' }],
    };
    const r = compile(doc, registry, { baseDir: dir });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const result = await executePlan(r.plan, await nodeExecEnv('cpu'));
    expect(result.errors).toMatchObject([{ nodeId: 'attn', message: '"k" dim D = 5 does not match D = 4 from another input' }]);
  });

  it('gives a leading batch dimension of 1 back on the outputs that follow it, through a chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctxlab-batch-'));
    const { q, k } = syntheticQkv({ heads: 2, kvHeads: 1, seqLen: 8, headDim: 4, seed: 3 } as never);
    const doc = (batched: boolean) => {
      const write = (name: string, t: Tensor) => writeFileSync(join(dir, `${name}${batched}.npy`), encodeNpy(batched ? { ...t, shape: [1, ...t.shape] } : t));
      write('q', q);
      write('k', k);
      return {
        format: 'context-lab/pipeline', version: 1, name: 'batch',
        nodes: [
          { id: 'q', type: 'source.npy', params: { path: `q${batched}.npy` } },
          { id: 'k', type: 'source.npy', params: { path: `k${batched}.npy` } },
          { id: 'rope', type: 'position', params: { variant: 'rope' } },
          { id: 'attn', type: 'attention', params: { variant: 'flash' } },
        ],
        edges: [
          { from: 'q.out', to: 'rope.q' }, { from: 'k.out', to: 'rope.k' },
          { from: 'rope.q', to: 'attn.q' }, { from: 'rope.k', to: 'attn.k' }, { from: 'k.out', to: 'attn.v' },
        ],
      };
    };
    const outOf = async (batched: boolean) => {
      const r = compile(doc(batched), registry, { baseDir: dir });
      if (!r.ok) throw new Error(JSON.stringify(r.issues));
      return (await executePlan(r.plan, await nodeExecEnv('cpu'), { keep: 'all' })).outputs;
    };
    const [plain, batched] = [await outOf(false), await outOf(true)];
    expect((batched.rope!.q as Tensor).shape).toEqual([1, 2, 8, 4]);
    expect((batched.rope!.frequencies as Tensor).shape).toEqual([2]);
    expect((batched.attn!.out as Tensor).shape).toEqual([1, 2, 8, 4]);
    expect((batched.attn!.out as Tensor).data).toEqual((plain.attn!.out as Tensor).data);
  });

  it('marks a failing node and still finishes independent branches', async () => {
    const doc = qkvAttention();
    doc.nodes.push({ id: 'file', type: 'source.npy', params: { path: 'does-not-exist.npy' } } as never);
    doc.nodes.push({ id: 'cmp2', type: 'compare' } as never);
    doc.edges.push({ from: 'file.out', to: 'cmp2.a' }, { from: 'naive.out', to: 'cmp2.b' });
    const events: RunEvent[] = [];
    const r = await executePlan(plan(doc), await nodeExecEnv('cpu'), { onEvent: (e) => events.push(e) });
    expect(r.status).toBe('failed');
    expect(r.errors).toMatchObject([{ nodeId: 'file', message: expect.stringContaining('does-not-exist.npy') }]);
    expect(events.find((e) => e.type === 'node-failed')).toMatchObject({ nodeId: 'file' });
    expect(events.find((e) => e.type === 'node-skipped')).toMatchObject({ nodeId: 'cmp2', reason: 'upstream node "file" failed' });
    expect(r.outputs.cmp?.metrics).toBeDefined();
  });

  it('stops inside a long node when cancelled', async () => {
    const env = await nodeExecEnv('cpu');
    const cancel = new CancelToken();
    const doc = qkvAttention({ seqLen: 768, headDim: 64, blockSize: 64 });
    const events: RunEvent[] = [];
    const run = executePlan(plan(doc), env, {
      cancel,
      onEvent: (e) => {
        events.push(e);
        // Cancel as soon as flash reports progress: it is mid-node, between tiles.
        if (e.type === 'node-progress' && e.nodeId === 'flash') cancel.cancel();
      },
    });
    const r = await run;
    expect(r.status).toBe('cancelled');
    const flash = r.profile.nodes.find((n) => n.nodeId === 'flash')!;
    expect(flash.error).toBe('cancelled');
    expect(events.some((e) => e.type === 'node-finished' && e.nodeId === 'flash')).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'run-finished', status: 'cancelled' });
  });
});

describe('engine worker (worker_thread + Comlink)', () => {
  it('streams events, reports the backend, and cancels through the shared flag', async () => {
    const engine = await startEngineWorker();
    try {
      const events: RunEvent[] = [];
      // Events travel on the callback's own channel: they may still be arriving when run() resolves.
      let finished!: () => void;
      const sawFinish = new Promise<void>((res) => (finished = res));
      const r = await engine.api.run(qkvAttention(), { backend: 'wasm' }, Comlink.proxy((e: RunEvent) => {
        events.push(e);
        if (e.type === 'run-finished') finished();
      }));
      await sawFinish;
      expect(r.ok && r.status).toBe('ok');
      const types = events.filter((e) => e.type !== 'memory' && e.type !== 'node-progress').map((e) => e.type);
      expect(types[0]).toBe('run-started');
      expect(types.at(-1)).toBe('run-finished');
      expect(types.filter((t) => t === 'node-finished')).toHaveLength(4);
      expect(r.ok && r.profile.backend).toMatchObject({ requested: 'wasm', name: 'wasm', host: 'node worker_thread' });

      // A long run (naive at T = 4096, 8 heads, on cpu takes many seconds), cancelled once it is inside the node.
      let sawNaive = false;
      const long = engine.api.run(qkvAttention({ seqLen: 4096, headDim: 64 }), { backend: 'cpu', cache: false },
        Comlink.proxy((e: RunEvent) => {
          if (e.type === 'node-started' && e.nodeId === 'naive') sawNaive = true;
        }));
      while (!sawNaive) await new Promise((res) => setTimeout(res, 10));
      await new Promise((res) => setTimeout(res, 50));
      engine.cancel();
      const c = await long;
      expect(c.ok && c.status).toBe('cancelled');
      expect(c.ok && c.profile.nodes.find((n) => n.nodeId === 'naive')?.error).toBe('cancelled');
    } finally {
      await engine.close();
    }
  });
});
