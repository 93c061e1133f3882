// The wasm-SIMD selective scan against the plain-TS sequential recurrence (float64 state) on random
// problems of odd sizes (N not a multiple of 4, L not a multiple of 4, groups, every optional input
// on and off), the same bits on 1, 2 and 3 pool threads, its cancel path, and the committed scan.wasm
// against a rebuild from scan.c.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fillGaussian, rng } from '../../nodes/common/random.js';
import { selectiveScanSequential } from '../../nodes/ssm/scan.js';
import { closeKernelPool } from './pool.js';
import { selectiveScanWasm, type ScanKernelArrays } from './scan.js';

const gauss = (n: number, seed: number, scale = 1) => fillGaussian(new Float32Array(n), seed, n).map((x) => x * scale);
const uniform = (n: number, seed: number, lo: number, hi: number) => {
  const r = rng(seed, n);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
};

function problem(Dm: number, L: number, N: number, G: number, seed: number, opt: { D: boolean; z: boolean; bias: boolean }): ScanKernelArrays {
  return {
    u: gauss(Dm * L, seed),
    // Δ spans softplus's branches: well below 0, around 0, and above its threshold of 20 (a few).
    delta: gauss(Dm * L, seed + 1, 2).map((x, i) => (i % 97 === 5 ? 21 + x * x : x)),
    A: uniform(Dm * N, seed + 2, -4, -0.05),
    B: gauss(G * N * L, seed + 3),
    C: gauss(G * N * L, seed + 4),
    D: opt.D ? gauss(Dm, seed + 5) : undefined,
    z: opt.z ? gauss(Dm * L, seed + 6, 3) : undefined,
    deltaBias: opt.bias ? uniform(Dm, seed + 7, -4, 1) : undefined,
  };
}

async function compare(a: ScanKernelArrays, dims: { Dm: number; L: number; N: number; G: number }, softplus: boolean) {
  const { Dm, L, N } = dims;
  const yRef = new Float32Array(Dm * L);
  const sRef = new Float32Array(Dm * N);
  selectiveScanSequential(a, dims, softplus, yRef, sRef);
  const y = new Float32Array(Dm * L).fill(NaN);
  const s = new Float32Array(Dm * N).fill(NaN);
  await selectiveScanWasm(a, dims, softplus, y, s, { threads: 1 });
  // f32 state and sums against float64, relative to 1 + |y|: y = Σ x·C cancels (large states from
  // Δ past softplus's threshold), so a few f32 roundings show at ~2e-5 here; a wrong term shows at O(1).
  const err = (got: Float32Array, want: Float32Array) => {
    let m = 0;
    for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
    return m;
  };
  expect(err(y, yRef), 'y').toBeLessThan(5e-5);
  expect(err(s, sRef), 'state').toBeLessThan(5e-5);
  // Not a degenerate problem: the outputs are not all ~0.
  expect(Math.max(...yRef.map(Math.abs))).toBeGreaterThan(0.1);
}

describe('selective scan on the wasm SIMD kernel', () => {
  afterAll(closeKernelPool);
  const cases: [string, number, number, number, number, boolean, { D: boolean; z: boolean; bias: boolean }][] = [
    ['every input, softplus, N = 16, odd L', 12, 203, 16, 1, true, { D: true, z: true, bias: true }],
    ['N = 5 (padded lanes), G = 3, L = 1', 9, 1, 5, 3, true, { D: true, z: true, bias: true }],
    ['N = 7, G = 2, L = 130, no softplus (Δ ≥ 0 given)', 6, 130, 7, 2, false, { D: false, z: false, bias: false }],
    ['N = 1, Dm = 1, L = 3, only z', 1, 3, 1, 1, true, { D: false, z: true, bias: false }],
    ['N = 33, G = Dm = 4, L = 257, D and bias', 4, 257, 33, 4, true, { D: true, z: false, bias: true }],
  ];
  for (const [name, Dm, L, N, G, softplus, opt] of cases)
    it(name, async () => {
      const a = problem(Dm, L, N, G, Dm * 1000 + L + N, opt);
      if (!softplus) a.delta = a.delta.map((x) => Math.abs(x) * 0.3);
      await compare(a, { Dm, L, N, G }, softplus);
    });

  it('a long sequence (L = 4099, Mamba-shaped) stays within tolerance', async () => {
    await compare(problem(3, 4099, 16, 1, 77, { D: true, z: true, bias: true }), { Dm: 3, L: 4099, N: 16, G: 1 }, true);
  });

  it('the same bits on 1, 2 and 3 threads (channel runs on the pool, each thread its own scratch), no fallback', async () => {
    // Dm = 301 channels of L = 515, N = 13: many runs of a few channels, the last one short.
    const dims = { Dm: 301, L: 515, N: 13, G: 7 };
    const a = problem(dims.Dm, dims.L, dims.N, dims.G, 9, { D: true, z: true, bias: true });
    const out: { y: Float32Array; s: Float32Array }[] = [];
    const reasons: string[] = [];
    for (const threads of [1, 2, 3]) {
      const y = new Float32Array(dims.Dm * dims.L).fill(NaN);
      const s = new Float32Array(dims.Dm * dims.N).fill(NaN);
      await selectiveScanWasm(a, dims, true, y, s, { threads, fallback: (r) => reasons.push(r) });
      out.push({ y, s });
    }
    expect(reasons).toEqual([]);
    for (const o of out.slice(1)) {
      expect(Buffer.from(o.y.buffer).equals(Buffer.from(out[0]!.y.buffer)), 'y').toBe(true);
      expect(Buffer.from(o.s.buffer).equals(Buffer.from(out[0]!.s.buffer)), 'state').toBe(true);
    }
    // …and the multi-threaded run agrees with the reference as the single-threaded one does.
    const yRef = new Float32Array(dims.Dm * dims.L);
    selectiveScanSequential(a, dims, true, yRef, new Float32Array(dims.Dm * dims.N));
    let worst = 0;
    for (let i = 0; i < yRef.length; i++) worst = Math.max(worst, Math.abs(out[2]!.y[i]! - yRef[i]!) / (1 + Math.abs(yRef[i]!)));
    expect(worst).toBeLessThan(5e-5);
  });

  for (const threads of [1, 2])
    it(`ticks from 0 to 1 and stops when the tick throws (cancel), ${threads} thread(s)`, async () => {
      const dims = { Dm: 64, L: 64, N: 16, G: 1 };
      const a = problem(64, 64, 16, 1, 5, { D: true, z: true, bias: true });
      const fractions: number[] = [];
      await selectiveScanWasm(a, dims, true, new Float32Array(64 * 64), new Float32Array(64 * 16), { threads, tick: (f) => fractions.push(f) });
      expect(fractions[0]).toBe(0);
      expect(fractions[fractions.length - 1]).toBe(1);
      // A tick after every run of this thread (tickMs 0): the second one throws.
      let n = 0;
      await expect(
        selectiveScanWasm(a, dims, true, new Float32Array(64 * 64), new Float32Array(64 * 16), {
          threads,
          tickMs: 0,
          tick: () => {
            if (++n === 2) throw new Error('cancelled');
          },
        }),
      ).rejects.toThrow('cancelled');
      expect(n).toBe(2);
      // The kernel is usable after a cancel.
      await compare(problem(6, 40, 5, 2, 3, { D: true, z: false, bias: false }), { Dm: 6, L: 40, N: 5, G: 2 }, true);
    });

  it('refuses arrays shorter than the dims', async () => {
    const a = problem(4, 10, 4, 1, 1, { D: false, z: false, bias: false });
    await expect(selectiveScanWasm({ ...a, u: a.u.subarray(0, 39) }, { Dm: 4, L: 10, N: 4, G: 1 }, true, new Float32Array(40), new Float32Array(16))).rejects.toThrow(
      /"u" holds 39 values, expected 40/,
    );
  });
});

describe('the committed scan.wasm', () => {
  it('is what scripts/build-wasm.sh builds from scan.c (needs clang and lld)', () => {
    const has = spawnSync('sh', ['-c', 'command -v clang || command -v clang-14']).status === 0 && spawnSync('sh', ['-c', 'command -v wasm-ld || command -v wasm-ld-14']).status === 0;
    if (!has) throw new Error('clang and wasm-ld are needed to check the committed scan.wasm: apt-get install clang lld (Debian), then re-run');
    const out = mkdtempSync(join(tmpdir(), 'ctxlab-wasm-'));
    execFileSync('bash', ['scripts/build-wasm.sh', out], { stdio: 'pipe' });
    const dir = 'src/kernels/wasm';
    expect(readFileSync(join(out, 'scan.wasm')).equals(readFileSync(join(dir, 'scan.wasm'))), 'scan.wasm is stale: run scripts/build-wasm.sh').toBe(true);
    expect(readFileSync(join(out, 'scan.wasm.ts'), 'utf8')).toBe(readFileSync(join(dir, 'scan.wasm.ts'), 'utf8'));
  });
});
