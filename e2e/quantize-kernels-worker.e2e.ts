// The group-quantize kernels inside the editor's engine Web Worker: a pipeline run through the UI
// with quantize/group nodes (4-bit along the last axis; 3-bit symmetric along the tokens, whose
// codes interleave across groups) and a KIVI cache — the wasm kernel on wasm (on the kernel thread
// pool: Web Workers over shared memory), the WGSL kernel on webgpu (SwiftShader). Each node's
// outputs are read back from the worker and compared here, in Node, with the node's plain-TS
// reference run on the same input (an independent computation). A kernel that fell back (the
// node's fallback badge, profile.fallbacks) fails the spec.
import { describe, expect, it } from 'vitest';
import { f32, type Tensor } from '../src/engine/tensor.js';
import { kvCache } from '../src/nodes/kv-cache/index.js';
import { quantize } from '../src/nodes/quantize/index.js';
import { expectClose, runReference } from '../src/nodes/testing.js';
import { dropPipeline, run, selectBackend, useBrowserSession, type Session } from './helpers.js';

const groups = {
  g4: { variant: 'group', bits: 4, groupSize: 64, axis: -1 },
  g3: { variant: 'group', bits: 3, groupSize: 32, axis: 1, symmetric: true },
};
const kivi = { variant: 'kivi', bits: 2, groupSize: 32, residualTokens: 64, prefillTokens: 100 };

/** K and V [4, 300, 64] (a partial token group under g3; KIVI's 44 residual keys are not a whole group). */
const doc = {
  format: 'context-lab/pipeline',
  version: 1,
  name: 'group quantize kernels in the engine worker',
  nodes: [
    { id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 4, seqLen: 300, headDim: 64, seed: 7 }, position: { x: 12, y: 12 } },
    ...Object.entries(groups).map(([id, params], i) => ({ id, type: 'quantize', params, position: { x: 400, y: 12 + 260 * i } })),
    { id: 'kivi', type: 'kv-cache', params: kivi, position: { x: 400, y: 540 } },
  ],
  edges: [
    { from: 'qkv.k', to: 'g4.in' },
    { from: 'qkv.k', to: 'g3.in' },
    { from: 'qkv.k', to: 'kivi.k' },
    { from: 'qkv.v', to: 'kivi.v' },
  ],
};

type Plain = { shape: number[]; dtype: string; data: number[] };
type AppHandle = {
  runner: { fetchValue(node: string, port: string): Promise<{ kind: string; shape: number[]; dtype: string; data: ArrayLike<number> } | undefined> };
  metrics: {
    get(): {
      nodes: Record<string, { status?: string; profile?: { fallbacks?: string[] } }>;
      run: { backend?: { name?: string; threads?: number } };
    };
  };
};

/** The run's backend, each node's status and fallbacks, and the named outputs as plain arrays. */
async function readBack(s: Session, ports: [string, string][]) {
  return s.page.evaluate(async (ports) => {
    const app = (window as unknown as { ctxlab_app: AppHandle }).ctxlab_app;
    const m = app.metrics.get();
    const values: Record<string, Plain> = {};
    for (const [node, port] of ports) {
      const v = await app.runner.fetchValue(node, port);
      if (v?.kind === 'tensor') values[`${node}.${port}`] = { shape: v.shape, dtype: v.dtype, data: Array.from(v.data) };
    }
    const ids = ['g4', 'g3', 'kivi'];
    return {
      backend: m.run.backend,
      status: Object.fromEntries(ids.map((id) => [id, m.nodes[id]?.status])),
      fallbacks: Object.fromEntries(ids.map((id) => [id, m.nodes[id]?.profile?.fallbacks])),
      values,
    };
  }, ports);
}

const PORTS: [string, string][] = [['qkv', 'k'], ['qkv', 'v'], ['g4', 'out'], ['g4', 'codes'], ['g4', 'scales'], ['g3', 'out'], ['g3', 'codes'], ['g3', 'scales'], ['kivi', 'k'], ['kivi', 'v']];

async function expectReference(s: Session, backend: 'wasm' | 'webgpu') {
  const got = await readBack(s, PORTS);
  expect(got.backend?.name).toBe(backend);
  for (const id of ['g4', 'g3', 'kivi']) {
    expect(got.status[id], id).toBe('done');
    expect(got.fallbacks[id], `${id} fell back`).toBeUndefined();
    expect(await s.page.locator(`[data-testid="fallback-${id}"]`).count(), `${id}: fallback badge`).toBe(0);
  }
  const t = (name: string): Tensor => {
    const v = got.values[name];
    if (!v) throw new Error(`no value ${name} read back`);
    return f32(v.shape, Float32Array.from(v.data));
  };
  const k = t('qkv.k');
  const v = t('qkv.v');
  // Bit for bit: the wasm kernel does the reference's f32 (KIVI: float64) operations in order, and
  // SwiftShader divides exactly, as lavapipe does in the Node tests (src/nodes/quantize/group-webgpu.test.ts).
  for (const [id, params] of Object.entries(groups)) {
    const want = runReference(quantize, { in: k }, params) as Record<string, Tensor>;
    for (const port of ['out', 'codes', 'scales']) {
      const g = got.values[`${id}.${port}`]!;
      expect(g.shape, `${id}.${port}`).toEqual(want[port]!.shape);
      expectClose(g.data, want[port]!.data, { atol: 0 }, `${id}.${port} on ${backend}`);
    }
  }
  // KIVI: wasm does the reference's float64 arithmetic, bit for bit; WGSL has none, so a scale and
  // the values dequantized with it may differ by an ulp (kivi.ts kiviQuantizeWebGPU; seen on
  // SwiftShader) — far below one code step (≥ 0.1 here), so a wrong code still fails.
  const want = runReference(kvCache, { k, v }, kivi) as Record<string, Tensor>;
  const tol = backend === 'wasm' ? { atol: 0 } : { atol: 1e-6, rtol: 1e-6 };
  for (const port of ['k', 'v']) expectClose(got.values[`kivi.${port}`]!.data, want[port]!.data, tol, `kivi.${port} on ${backend}`);
  return got;
}

const s = useBrowserSession({ setup: (page) => dropPipeline(page, doc, 'quantize-kernels-worker.json') });

describe('group-quantize kernels in the engine Web Worker', () => {
  it('wasm: the kernel on every core (Web Workers over shared memory) equals the reference, no fallback', async () => {
    const cores = await s.page.evaluate(() => navigator.hardwareConcurrency);
    await selectBackend(s.page, 'wasm');
    expect(await run(s.page, 120_000)).toMatch(/^done/);
    const got = await expectReference(s, 'wasm');
    expect(got.backend?.threads).toBe(cores);
    expect(s.errors).toEqual([]);
  });

  it('webgpu: the WGSL kernel (SwiftShader) equals the reference, no fallback', async () => {
    await selectBackend(s.page, 'webgpu');
    expect(await run(s.page, 240_000)).toMatch(/^done/);
    await expectReference(s, 'webgpu');
    expect(s.errors).toEqual([]);
  });
});
