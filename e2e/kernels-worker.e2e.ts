// The fused attention kernels inside the editor's engine Web Worker: a pipeline run through the UI
// on backend wasm (the SIMD kernel, its Web Worker threads when the page is cross-origin isolated)
// and on webgpu (the WGSL kernel on SwiftShader), each kernel output compared in the pipeline with
// naive attention (the materialised tfjs ops: an independent computation) by compare nodes and
// checks. ReLU attention (the kernels' relu score mode) is compared outside the page with a plain
// loop over the run's own q/k/v. A kernel that fell back (the node's fallback badge,
// profile.fallbacks) fails the spec.
import { describe, expect, it } from 'vitest';
import { dropPipeline, run, selectBackend, useBrowserSession, type Session } from './helpers.js';

const H = 8;
const T = 200; // not a multiple of the 64-key tiles: ragged last tiles
const attn = (id: string, params: Record<string, unknown>, x: number, y: number) => ({ id, type: 'attention', params: { causal: true, ...params }, position: { x, y } });
const cmp = (id: string, y: number) => ({ id, type: 'compare', position: { x: 1100, y } });
const qkvTo = (node: string) => ['q', 'k', 'v'].map((p) => ({ from: `qkv.${p}`, to: `${node}.${p}` }));

/** GQA (8 heads over 2 kv heads): flash with ALiBi and flash-decoding (split-K merge) against naive attention. */
const doc = {
  format: 'context-lab/pipeline',
  version: 1,
  name: 'fused kernels in the engine worker',
  nodes: [
    { id: 'qkv', type: 'source.synthetic-qkv', params: { heads: H, kvHeads: 2, seqLen: T, headDim: 64, seed: 11 }, position: { x: 12, y: 12 } },
    { id: 'alibi', type: 'position', params: { variant: 'alibi' }, position: { x: 380, y: 12 } },
    attn('flash', { variant: 'flash' }, 740, 12),
    attn('naive_alibi', { variant: 'naive' }, 740, 260),
    attn('fd', { variant: 'flash-decoding', numSplits: 3 }, 740, 520),
    attn('naive', { variant: 'naive' }, 740, 780),
    attn('relu', { variant: 'relu' }, 740, 1040),
    cmp('cmp_flash', 120),
    cmp('cmp_fd', 640),
  ],
  edges: [
    { from: 'qkv.q', to: 'alibi.q' },
    { from: 'qkv.k', to: 'alibi.k' },
    ...['flash', 'naive_alibi'].flatMap((n) => [
      { from: 'alibi.q', to: `${n}.q` },
      { from: 'alibi.k', to: `${n}.k` },
      { from: 'qkv.v', to: `${n}.v` },
      { from: 'alibi.bias', to: `${n}.bias` },
    ]),
    ...qkvTo('fd'),
    ...qkvTo('naive'),
    ...qkvTo('relu'),
    { from: 'flash.out', to: 'cmp_flash.a' },
    { from: 'naive_alibi.out', to: 'cmp_flash.b' },
    { from: 'fd.out', to: 'cmp_fd.a' },
    { from: 'naive.out', to: 'cmp_fd.b' },
  ],
  checks: [
    { node: 'cmp_flash', metric: 'maxAbs', lt: 1e-5, why: 'the fused kernel with ALiBi slopes matches naive attention' },
    { node: 'cmp_fd', metric: 'maxAbs', lt: 1e-5, why: 'split-K parts merged by log-sum-exp match naive attention' },
  ],
};

interface Snapshot {
  status: string | undefined;
  fallbacks: Record<string, string[] | undefined>;
  nodeStatus: Record<string, string | undefined>;
  maxAbs: Record<string, number | undefined>;
  checks: { ok: boolean; text: string }[];
  backend: string | undefined;
}

type AppHandle = {
  metrics: {
    get(): {
      nodes: Record<string, { status?: string; profile?: { fallbacks?: string[] }; outputs?: { metrics?: { metrics?: Record<string, number> } } }>;
      run: { status?: string; checks: { ok: boolean; text: string }[]; backend?: { name?: string } };
    };
  };
};

async function snapshot(s: Session): Promise<Snapshot> {
  return s.page.evaluate(() => {
    const m = (window as unknown as { ctxlab_app: AppHandle }).ctxlab_app.metrics.get();
    const ids = ['flash', 'fd', 'relu', 'cmp_flash', 'cmp_fd'];
    return {
      status: m.run.status,
      fallbacks: Object.fromEntries(ids.map((id) => [id, m.nodes[id]?.profile?.fallbacks])),
      nodeStatus: Object.fromEntries(ids.map((id) => [id, m.nodes[id]?.status])),
      maxAbs: Object.fromEntries(['cmp_flash', 'cmp_fd'].map((id) => [id, m.nodes[id]?.outputs?.metrics?.metrics?.maxAbs])),
      checks: m.run.checks.map((c) => ({ ok: c.ok, text: c.text })),
      backend: m.run.backend?.name,
    };
  });
}

/** The relu node's output and the run's q/k/v, read back from the engine worker. */
async function reluValues(s: Session) {
  return s.page.evaluate(async () => {
    type V = { shape: number[]; data: ArrayLike<number> };
    const app = (window as unknown as { ctxlab_app: { runner: { fetchValue(n: string, p: string): Promise<V | undefined> } } }).ctxlab_app;
    const get = async (n: string, p: string) => {
      const v = await app.runner.fetchValue(n, p);
      return v ? { shape: v.shape, data: Array.from(v.data) } : undefined;
    };
    return { out: await get('relu', 'out'), q: await get('qkv', 'q'), k: await get('qkv', 'k'), v: await get('qkv', 'v') };
  });
}

/** Causal ReLU attention in float64: Σ_{j ≤ i} relu(q_i·k_j/√D)·v_j / (i + 1), GQA. */
function reluReference(q: { shape: number[]; data: number[] }, k: { shape: number[]; data: number[] }, v: { shape: number[]; data: number[] }) {
  const [Hq, Tq, D] = q.shape as [number, number, number];
  const [Hkv, Tk, Dv] = [k.shape[0]!, k.shape[1]!, v.shape[2]!];
  const out = new Float64Array(Hq * Tq * Dv);
  for (let h = 0; h < Hq; h++)
    for (let i = 0; i < Tq; i++) {
      const g = Math.floor(h / (Hq / Hkv));
      for (let j = 0; j <= i; j++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q.data[(h * Tq + i) * D + d]! * k.data[(g * Tk + j) * D + d]!;
        const w = Math.max(0, dot / Math.sqrt(D)) / (i + 1);
        for (let e = 0; e < Dv; e++) out[(h * Tq + i) * Dv + e] += w * v.data[(g * Tk + j) * Dv + e]!;
      }
    }
  return out;
}

async function expectKernelsRan(s: Session, backend: 'wasm' | 'webgpu') {
  const snap = await snapshot(s);
  expect(snap.backend).toBe(backend);
  const rv = await reluValues(s);
  expect(rv.out?.shape, 'relu.out').toEqual([H, T, 64]);
  const want = reluReference(rv.q!, rv.k!, rv.v!);
  let worst = 0;
  want.forEach((w, x) => (worst = Math.max(worst, Math.abs(w - rv.out!.data[x]!))));
  expect(worst, 'relu on the kernel vs a plain loop').toBeLessThan(1e-5);
  for (const id of ['flash', 'fd', 'relu']) {
    expect(snap.nodeStatus[id], id).toBe('done');
    expect(snap.fallbacks[id], `${id} fell back`).toBeUndefined();
    expect(await s.page.locator(`[data-testid="fallback-${id}"]`).count(), `${id}: fallback badge`).toBe(0);
  }
  for (const id of ['cmp_flash', 'cmp_fd']) {
    expect(snap.maxAbs[id], id).toBeTypeOf('number');
    expect(snap.maxAbs[id]!, id).toBeLessThan(1e-5);
  }
  expect(snap.checks.length).toBe(2);
  for (const c of snap.checks) expect(c.ok, c.text).toBe(true);
}

const s = useBrowserSession({ setup: (page) => dropPipeline(page, doc, 'kernels-worker.json') });

describe('fused attention kernels in the engine Web Worker', () => {
  it('wasm: the SIMD kernel on Web Worker threads over shared memory matches naive attention, no fallback', async () => {
    // The web build is cross-origin isolated, so the kernel's memory is shared and it uses every core.
    const env = await s.page.evaluate(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency }));
    expect(env.isolated).toBe(true);
    await selectBackend(s.page, 'wasm');
    expect(await run(s.page, 120_000)).toMatch(/^done/);
    await expectKernelsRan(s, 'wasm');
    // threads − 1 kernel workers (named by src/kernels/wasm/pool.ts) beside the engine worker,
    // whose own thread takes jobs too; tfjs-wasm's threads are workers of their own.
    const names = await Promise.all(s.page.workers().map((w) => w.evaluate('self.name').catch(() => '')));
    expect(names.filter((n) => n === 'wasm-kernel').length).toBe(env.cores - 1);
    expect(s.errors).toEqual([]);
  });

  it('webgpu: the WGSL kernel (SwiftShader) matches naive attention, no fallback', async () => {
    await selectBackend(s.page, 'webgpu');
    expect(await run(s.page, 240_000)).toMatch(/^done/);
    expect(await s.page.textContent('[data-testid="backend-info"]')).toMatch(/webgpu/);
    await expectKernelsRan(s, 'webgpu');
    expect(s.errors).toEqual([]);
  });
});
