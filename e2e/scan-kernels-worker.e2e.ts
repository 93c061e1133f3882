// The fused selective-scan kernels inside the editor's engine Web Worker: a pipeline run through the
// UI with a Mamba block whose scan runs on the backend — the wasm SIMD kernel on wasm (its channels on
// every core: the kernel pool's Web Workers over shared memory), the WGSL kernel on webgpu (SwiftShader) — compared in the pipeline with the same block on the sequential recurrence
// (plain TS: an independent computation) by a compare node and a check. A scan kernel that fell back
// (the node's fallback badge, profile.fallbacks) fails the spec.
import { describe, expect, it } from 'vitest';
import { dropPipeline, run, selectBackend, useBrowserSession, type Session } from './helpers.js';

const mamba = (id: string, scan: string, y: number) => ({
  id,
  type: 'ssm.mamba-block',
  params: { dModel: 16, dState: 12, dConv: 4, expand: 2, seed: 3, scan },
  position: { x: 400, y },
});

/** L = 150, N = 12 (padded state lanes): the block on the backend's scan against the sequential recurrence. */
const doc = {
  format: 'context-lab/pipeline',
  version: 1,
  name: 'fused scan in the engine worker',
  nodes: [
    { id: 'x', type: 'source.synthetic-qkv', params: { heads: 2, seqLen: 150, headDim: 16, seed: 5 }, position: { x: 12, y: 12 } },
    mamba('fused', 'chunked', 12),
    mamba('sequential', 'sequential', 300),
    { id: 'cmp', type: 'compare', position: { x: 800, y: 120 } },
  ],
  edges: [
    { from: 'x.q', to: 'fused.x' },
    { from: 'x.q', to: 'sequential.x' },
    { from: 'fused.out', to: 'cmp.a' },
    { from: 'sequential.out', to: 'cmp.b' },
  ],
  checks: [{ node: 'cmp', metric: 'maxAbs', lt: 1e-4, why: 'the Mamba block on the fused scan kernel matches the sequential recurrence' }],
};

type AppHandle = {
  metrics: {
    get(): {
      nodes: Record<string, { status?: string; profile?: { fallbacks?: string[] }; outputs?: { metrics?: { metrics?: Record<string, number> } } }>;
      run: { status?: string; checks: { ok: boolean; text: string }[]; backend?: { name?: string; threads?: number } };
    };
  };
};

async function expectKernelRan(s: Session, backend: 'wasm' | 'webgpu') {
  const snap = await s.page.evaluate(() => {
    const m = (window as unknown as { ctxlab_app: AppHandle }).ctxlab_app.metrics.get();
    return {
      backend: m.run.backend?.name,
      threads: m.run.backend?.threads,
      status: m.nodes.fused?.status,
      fallbacks: m.nodes.fused?.profile?.fallbacks,
      maxAbs: m.nodes.cmp?.outputs?.metrics?.metrics?.maxAbs,
      checks: m.run.checks.map((c) => ({ ok: c.ok, text: c.text })),
    };
  });
  expect(snap.backend).toBe(backend);
  expect(snap.status).toBe('done');
  expect(snap.fallbacks, 'the scan fell back').toBeUndefined();
  expect(await s.page.locator('[data-testid="fallback-fused"]').count(), 'fallback badge').toBe(0);
  expect(snap.maxAbs).toBeTypeOf('number');
  expect(snap.maxAbs!).toBeLessThan(1e-4);
  expect(snap.checks.length).toBe(1);
  expect(snap.checks[0]!.ok, snap.checks[0]!.text).toBe(true);
  return snap;
}

const s = useBrowserSession({ setup: (page) => dropPipeline(page, doc, 'scan-kernels-worker.json') });

describe('fused selective-scan kernels in the engine Web Worker', () => {
  it('wasm: the SIMD scan kernel on every core matches the sequential recurrence, no fallback', async () => {
    const cores = await s.page.evaluate(() => navigator.hardwareConcurrency);
    await selectBackend(s.page, 'wasm');
    expect(await run(s.page, 120_000)).toMatch(/^done/);
    // A pool that could not start would show as a fallback ("… on 1 thread(s) instead of N").
    expect((await expectKernelRan(s, 'wasm')).threads).toBe(cores);
    expect(s.errors).toEqual([]);
  });

  it('webgpu: the WGSL scan kernel (SwiftShader) matches the sequential recurrence, no fallback', async () => {
    await selectBackend(s.page, 'webgpu');
    expect(await run(s.page, 240_000)).toMatch(/^done/);
    expect(await s.page.textContent('[data-testid="backend-info"]')).toMatch(/webgpu/);
    await expectKernelRan(s, 'webgpu');
    expect(s.errors).toEqual([]);
  });
});
