// The kernel pool: the engine's thread-count option reaches the kernels and the run's profile; and
// its single-thread fallback: where SharedArrayBuffer is missing (a page that is not cross-origin
// isolated) the kernels run over an unshared memory on this thread, say why through `fallback`, and
// give the same bits as the threaded run.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { nodeBackendSetup } from '../../engine/node/setup.js';
import { EngineService } from '../../engine/run/service.js';
import { fillGaussian } from '../../nodes/common/random.js';
import { registry } from '../../nodes/index.js';

const problem = (Dm: number, L: number, N: number) => {
  const g = (n: number, seed: number, s = 1) => fillGaussian(new Float32Array(n), seed, n).map((x) => x * s);
  return { u: g(Dm * L, 1), delta: g(Dm * L, 2, 0.5), A: g(Dm * N, 3).map((x) => -Math.abs(x) - 0.1), B: g(N * L, 4), C: g(N * L, 5), D: g(Dm, 6) };
};

/** 3-bit codes of rows that interleave (inner axis 5): neighbouring groups share code words. */
async function quantizeWith(threads: number, fallback: (why: string) => void) {
  const { groupQuantizeWasm } = await import('./quantize.js');
  const { axisLayout } = await import('../quantize-layout.js');
  const x = fillGaussian(new Float32Array(4 * 500 * 5), 8, 4, 500, 5);
  const r = await groupQuantizeWasm(x, axisLayout(4, 500, 5, 32), { bits: 3, symmetric: false, threads, fallback });
  return [r.out, r.codes, r.scales];
}

async function scanWith(threads: number, fallback: (why: string) => void) {
  const { selectiveScanWasm } = await import('./scan.js');
  const dims = { Dm: 40, L: 300, N: 16, G: 1 };
  const y = new Float32Array(dims.Dm * dims.L);
  const s = new Float32Array(dims.Dm * dims.N);
  await selectiveScanWasm(problem(dims.Dm, dims.L, dims.N), dims, true, y, s, { threads, fallback });
  return y;
}

describe('the thread count of a run', () => {
  const doc = {
    format: 'context-lab/pipeline',
    version: 1,
    name: 'threads',
    nodes: [
      { id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 2, seqLen: 200, headDim: 32, seed: 1 }, position: { x: 0, y: 0 } },
      { id: 'g4', type: 'quantize', params: { variant: 'group', bits: 4, groupSize: 32, axis: 1 }, position: { x: 300, y: 0 } },
      { id: 'mamba', type: 'ssm.mamba-block', params: { dModel: 32, dState: 16, expand: 2, seed: 2, scan: 'chunked' }, position: { x: 300, y: 200 } },
    ],
    edges: [
      { from: 'qkv.k', to: 'g4.in' },
      { from: 'qkv.q', to: 'mamba.x' },
    ],
  };

  it('ServiceRunOptions.threads reaches the wasm kernels and the profile (backend.threads, the peak); none on cpu', async () => {
    const service = new EngineService(registry, { setup: nodeBackendSetup('test'), readFile: async () => new Uint8Array(), resolvePath: (_b, p) => p, now: () => performance.now() });
    for (const threads of [1, 3]) {
      const r = await service.run(doc, { backend: 'wasm', threads, cache: false });
      expect(r.ok && r.status, JSON.stringify(!r.ok && r.issues)).toBe('ok');
      if (!r.ok) return;
      expect(r.profile.backend.threads).toBe(threads);
      // The roofline's ceiling is per thread × the threads of this run (measured again for a new count).
      expect(r.profile.peak?.method).toMatch(new RegExp(`× ${threads} thread`));
      for (const n of r.profile.nodes) expect(n.fallbacks, n.nodeId).toBeUndefined();
    }
    const cpu = await service.run(doc, { backend: 'cpu', cache: false });
    expect(cpu.ok && cpu.profile.backend.threads).toBeUndefined();
    await (await import('./pool.js')).closeKernelPool();
  }, 120_000);
});

describe('wasm kernel pool', () => {
  afterAll(async () => {
    vi.unstubAllGlobals();
    vi.resetModules();
    await (await import('./pool.js')).closeKernelPool();
  });

  it('without SharedArrayBuffer: one thread, the reason told, the same bits as on 2 threads (scan, quantize)', async () => {
    const shared: string[] = [];
    const threaded = await scanWith(2, (w) => shared.push(w));
    const threadedQ = await quantizeWith(2, (w) => shared.push(w));
    expect(shared).toEqual([]);
    await (await import('./pool.js')).closeKernelPool();

    vi.resetModules();
    vi.stubGlobal('SharedArrayBuffer', undefined);
    const pool = await import('./pool.js');
    expect(pool.singleThreadReason()).toMatch(/SharedArrayBuffer is unavailable/);
    expect(await pool.kernelThreads(2)).toBe(1);
    const reasons: string[] = [];
    const single = await scanWith(2, (w) => reasons.push(w));
    expect(reasons).toEqual([expect.stringMatching(/^wasm selective scan on 1 thread\(s\) instead of 2: SharedArrayBuffer is unavailable/)]);
    expect(Buffer.from(single.buffer).equals(Buffer.from(threaded.buffer))).toBe(true);
    // The quantizer's atomic OR of shared code words, on the unshared memory.
    const singleQ = await quantizeWith(2, (w) => reasons.push(w));
    expect(reasons[1]).toMatch(/^wasm group quantize on 1 thread\(s\) instead of 2: SharedArrayBuffer is unavailable/);
    singleQ.forEach((a, i) => expect(Buffer.from(a.buffer).equals(Buffer.from(threadedQ[i]!.buffer)), ['out', 'codes', 'scales'][i]).toBe(true));
  });
});
