// The kernel pool's single-thread fallback: where SharedArrayBuffer is missing (a page that is not
// cross-origin isolated) the kernels run over an unshared memory on this thread, say why through
// `fallback`, and give the same bits as the threaded run.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fillGaussian } from '../../nodes/common/random.js';

const problem = (Dm: number, L: number, N: number) => {
  const g = (n: number, seed: number, s = 1) => fillGaussian(new Float32Array(n), seed, n).map((x) => x * s);
  return { u: g(Dm * L, 1), delta: g(Dm * L, 2, 0.5), A: g(Dm * N, 3).map((x) => -Math.abs(x) - 0.1), B: g(N * L, 4), C: g(N * L, 5), D: g(Dm, 6) };
};

async function scanWith(threads: number, fallback: (why: string) => void) {
  const { selectiveScanWasm } = await import('./scan.js');
  const dims = { Dm: 40, L: 300, N: 16, G: 1 };
  const y = new Float32Array(dims.Dm * dims.L);
  const s = new Float32Array(dims.Dm * dims.N);
  await selectiveScanWasm(problem(dims.Dm, dims.L, dims.N), dims, true, y, s, { threads, fallback });
  return y;
}

describe('wasm kernel pool', () => {
  afterAll(async () => {
    vi.unstubAllGlobals();
    vi.resetModules();
    await (await import('./pool.js')).closeKernelPool();
  });

  it('without SharedArrayBuffer: one thread, the reason told, the same bits as on 2 threads', async () => {
    const shared: string[] = [];
    const threaded = await scanWith(2, (w) => shared.push(w));
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
  });
});
