// The fused wasm kernel against a float64 oracle written from the rules' definitions (not from the
// kernel), on one thread and on the worker pool; its exp2 against Math; the committed .wasm against
// a rebuild from attention.c.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ctxlab } from '../../cli/testing.js';
import { fillGaussian } from '../../nodes/common/random.js';
import { planJobs, TileKind } from '../attention-spec.js';
import { closeKernelPool, fusedAttention, kernelExp2, measureWasmPeak, POS_INF, unsharedMemoryImport, type FusedAttentionSpec } from './attention.js';

const gauss = (n: number, seed: number) => fillGaussian(new Float32Array(n), seed, n);

/** softmax(q·k·scale + bias, masked by every rule)·v in float64 (or ReLU attention); rows that see nothing are 0. */
function oracle(s: FusedAttentionSpec, listed?: (h: number, r: number, j: number) => boolean): { out: Float32Array; lse: Float64Array } {
  const { H, Hkv, Tq, Tk, D, Dv } = s;
  const out = new Float32Array(H * Tq * Dv);
  const lse = new Float64Array(H * Tq);
  const qpos = s.qpos ?? Int32Array.from({ length: Tq }, (_, r) => Tk - Tq + r);
  const kpos = s.kpos ?? Int32Array.from({ length: Tk }, (_, j) => j);
  for (let h = 0; h < H; h++) {
    const g = Math.floor(h / (H / Hkv));
    for (let r = 0; r < Tq; r++) {
      const i = qpos[r]!;
      const sc = new Float64Array(Tk).fill(-Infinity);
      for (let j = 0; j < Tk; j++) {
        const kp = kpos[j]!;
        const ok =
          (listed?.(h, r, j) ?? true) &&
          (s.bands ?? []).every((b) => kp < b.gcol || i < b.grow || (i - kp <= b.lo && kp - i <= b.hi)) &&
          (s.intervals ?? []).every((iv) => Math.max(iv.qa[r]!, iv.ka[j]!) <= Math.min(iv.qb[r]!, iv.kb[j]!));
        if (!ok) continue;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += s.q[(h * Tq + r) * D + d]! * s.k[(g * Tk + j) * D + d]!;
        sc[j] = dot * s.scale - Number(s.rowSlopes?.[r] ?? s.slopes?.[h] ?? 0) * (i - kp) + (s.rank1 ?? []).reduce((a, t) => a + t.qw[r]! * t.kw[j]!, 0);
      }
      if (s.score === 'relu') {
        // Σ relu(score)·v over the visible keys / their count; lse: ln(count).
        const seen = [...sc.keys()].filter((j) => sc[j] !== -Infinity);
        lse[h * Tq + r] = seen.length ? Math.log(seen.length) : -Infinity;
        for (let e = 0; e < Dv && seen.length; e++)
          out[(h * Tq + r) * Dv + e] = seen.reduce((a, j) => a + Math.max(0, sc[j]!) * s.v[(g * Tk + j) * Dv + e]!, 0) / seen.length;
        continue;
      }
      const m = Math.max(...sc);
      if (m === -Infinity) {
        lse[h * Tq + r] = -Infinity;
        continue;
      }
      let sum = 0;
      for (let j = 0; j < Tk; j++) sum += sc[j] = Math.exp(sc[j]! - m);
      lse[h * Tq + r] = m + Math.log(sum);
      for (let e = 0; e < Dv; e++) {
        let a = 0;
        for (let j = 0; j < Tk; j++) a += sc[j]! * s.v[(g * Tk + j) * Dv + e]!;
        out[(h * Tq + r) * Dv + e] = a / sum;
      }
    }
  }
  return { out, lse };
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let x = 0; x < a.length; x++) {
    if (a[x] === b[x]) continue; // also −∞ = −∞
    m = Math.max(m, Math.abs(a[x]! - b[x]!));
  }
  return m;
}

const causal = { gcol: 0, grow: 0, lo: POS_INF, hi: 0 };

function base(H: number, Hkv: number, Tq: number, Tk: number, D: number, Dv: number, seed = 1): FusedAttentionSpec {
  return { q: gauss(H * Tq * D, seed), k: gauss(Hkv * Tk * D, seed + 1), v: gauss(Hkv * Tk * Dv, seed + 2), H, Hkv, Tq, Tk, D, Dv, scale: 1 / Math.sqrt(D) };
}

const seg = Int32Array.from({ length: 90 }, (_, j) => (j < 20 ? 0 : j < 57 ? 1 : 2));
const cases: [string, FusedAttentionSpec][] = [
  ['causal MHA, ragged tiles (T = 90, 16-key tiles)', { ...base(2, 2, 90, 90, 16, 16), bands: [causal], blockQ: 16, blockK: 16 }],
  ['non-causal GQA (4 heads, 1 kv head), Dv ≠ D, Dv not a multiple of 8', { ...base(4, 1, 37, 53, 12, 6), blockQ: 8, blockK: 8 }],
  ['decoding rows (Tq < Tk), causal sliding window 9', { ...base(2, 1, 7, 70, 8, 8), bands: [causal, { gcol: 0, grow: 0, lo: 8, hi: 0 }], blockK: 8 }],
  ['non-causal window ±5 with 3 global tokens (Longformer)', { ...base(2, 2, 60, 60, 8, 8), bands: [{ gcol: 3, grow: 3, lo: 5, hi: 5 }], blockQ: 8, blockK: 8 }],
  ['StreamingLLM: 4 sinks + 10 recent', { ...base(1, 1, 64, 64, 8, 8), bands: [{ gcol: 4, grow: 0, lo: 9, hi: 0 }], blockQ: 16, blockK: 8 }],
  ['ALiBi slopes, causal', { ...base(3, 3, 40, 40, 8, 8), bands: [causal], slopes: [0.5, 0.25, 0.125], blockK: 8 }],
  [
    'ALiBi slopes per row (one per 8-row block), GQA, causal',
    { ...base(2, 1, 40, 40, 8, 8), bands: [causal], rowSlopes: Float32Array.from({ length: 40 }, (_, r) => 0.5 / (1 + Math.floor(r / 8))), blockQ: 8, blockK: 8 },
  ],
  [
    'segments with a see-all segment and a cross-logit (interval + rank-1)',
    {
      ...base(2, 2, 90, 90, 8, 8),
      intervals: [{ qa: seg.map((x) => (x === 2 ? -POS_INF : x)), qb: seg.map((x) => (x === 2 ? POS_INF : x)), ka: seg, kb: seg }],
      rank1: [{ qw: Float32Array.from(seg, (x) => (x === 2 ? 1 : 0)), kw: Float32Array.from(seg, (x) => (x === 2 ? 0 : -0.7)) }],
      blockQ: 16,
      blockK: 16,
    },
  ],
  ['split-K (Flash-Decoding, 3 splits), causal GQA', { ...base(4, 2, 33, 80, 8, 8), bands: [causal], splits: 3, blockQ: 16, blockK: 8 }],
  [
    'listed tiles (BigBird-style): block 0 sees tiles {0}, others {0, own}',
    { ...base(1, 1, 32, 32, 8, 8), blockQ: 8, blockK: 8, tilesOf: (_h, r0) => (r0 === 0 ? [0] : [0, r0 / 8]) },
  ],
];

// ReLU attention: every rule above (GQA, bands, intervals, rank-1, ALiBi, split-K, listed tiles) in the
// relu score mode, and an interval rule under which some rows see no key (their output is 0).
const seesNothing = (r: number) => r % 7 === 3;
const reluCases: [string, FusedAttentionSpec][] = [
  ...cases.map(([name, spec]): [string, FusedAttentionSpec] => [`relu: ${name}`, { ...spec, score: 'relu' }]),
  [
    'relu: non-causal GQA, ALiBi, rows 3, 10, 17, … see no key',
    {
      ...base(4, 2, 30, 75, 8, 8, 5),
      score: 'relu',
      slopes: [0.3, 0.2, 0.1, 0.05],
      intervals: [{ qa: Int32Array.from({ length: 30 }, (_, r) => (seesNothing(r) ? 1 : 0)), qb: new Int32Array(30), ka: new Int32Array(75), kb: new Int32Array(75) }],
      blockQ: 8,
      blockK: 16,
    },
  ],
];

describe('fused wasm attention kernel', () => {
  afterAll(closeKernelPool);
  for (const threads of [1, 3])
    for (const [name, spec] of [...cases, ...reluCases])
      it(`${name} (${threads} thread${threads > 1 ? 's' : ''})`, async () => {
        const got = await fusedAttention(spec, { threads });
        // Listed tiles (blocks of 8): a key is visible when its tile is listed for the row's block.
        const want = oracle(spec, spec.tilesOf && ((h, r, j) => [...spec.tilesOf!(h, r - (r % 8), 8)].includes(Math.floor(j / 8))));
        expect(maxAbs(got.out, want.out)).toBeLessThan(1e-5);
        expect(maxAbs(got.lse, want.lse)).toBeLessThan(1e-4);
      });

  it('gathered rows (qRows/kRows, −1 a zero row) equal the kernel on the materialised rows', async () => {
    const src = base(1, 1, 50, 50, 8, 8, 9);
    const qRows = Int32Array.from([3, 4, 5, 9, 20, 21, -1, 40, 41, 42]);
    const kRows = Int32Array.from([0, 1, 2, 3, 7, 30, 31, -1, 45, 46, 47, 48, 49]);
    const rows = (x: Float32Array, idx: Int32Array, n: number) => Float32Array.from({ length: idx.length * n }, (_, e) => (idx[Math.floor(e / n)]! < 0 ? 0 : x[idx[Math.floor(e / n)]! * n + (e % n)]!));
    const qpos = qRows.map((r) => Math.max(r, 0));
    const kpos = kRows.map((r) => Math.max(r, 0));
    const shape = { H: 1, Hkv: 1, Tq: qRows.length, Tk: kRows.length, D: 8, Dv: 8, scale: src.scale, qpos, kpos, bands: [causal], blockQ: 8, blockK: 8 };
    const got = await fusedAttention({ ...shape, q: src.q, k: src.k, v: src.v, qRows, kRows }, { threads: 2 });
    const want = oracle({ ...shape, q: rows(src.q, qRows, 8), k: rows(src.k, kRows, 8), v: rows(src.v, kRows, 8) });
    expect(maxAbs(got.out, want.out)).toBeLessThan(1e-5);
    expect(maxAbs(got.lse, want.lse)).toBeLessThan(1e-4);
  });

  it('skips tiles the rules exclude: a causal window of 16 over T = 512 computes ~2 tiles per block', async () => {
    const r = await fusedAttention({ ...base(1, 1, 512, 512, 8, 8), bands: [causal, { gcol: 0, grow: 0, lo: 15, hi: 0 }], blockQ: 16, blockK: 16 }, { threads: 1 });
    expect(r.tilesTotal).toBe(32 * 32);
    expect(r.tilesComputed).toBe(32 * 2 - 1);
  });

  it('tile kinds: a segment mask uniform over a tile leaves only the band to evaluate on the causal diagonal', () => {
    // Two segments of 16 (tile-aligned), causal, 8-key tiles and 8-row blocks.
    const seg2 = Int32Array.from({ length: 32 }, (_, j) => (j < 16 ? 0 : 1));
    const spec = { ...base(1, 1, 32, 32, 8, 8), bands: [causal], intervals: [{ qa: seg2, qb: seg2, ka: seg2, kb: seg2 }], blockQ: 8, blockK: 8 };
    const kinds = (s: FusedAttentionSpec) => planJobs(s).jobs.sort((a, b) => a.r0 - b.r0).map((j) => j.codes.map((c) => [c >> 2, c & 3]));
    // Block 1 (rows 8–15): tile 0 full, tile 1 its diagonal (bands only); block 2: only its own segment's diagonal.
    expect(kinds(spec)).toEqual([[[0, TileKind.BANDS]], [[0, TileKind.FULL], [1, TileKind.BANDS]], [[2, TileKind.BANDS]], [[2, TileKind.FULL], [3, TileKind.BANDS]]]);
    // A segment boundary inside a block (rows 12–15 are in segment 1), or a rank-1 term, needs every rule.
    const seg3 = Int32Array.from({ length: 32 }, (_, j) => (j < 12 ? 0 : 1));
    expect(kinds({ ...spec, intervals: [{ qa: seg3, qb: seg3, ka: seg3, kb: seg3 }] })[1]).toEqual([[0, TileKind.PARTIAL], [1, TileKind.PARTIAL]]);
    expect(kinds({ ...spec, rank1: [{ qw: new Float32Array(32), kw: new Float32Array(32) }] })[1]).toEqual([[0, TileKind.PARTIAL], [1, TileKind.PARTIAL]]);
  });

  it('refuses per-row ALiBi slopes that differ within a query block', async () => {
    const spec = { ...base(1, 1, 16, 16, 8, 8), rowSlopes: Float32Array.from({ length: 16 }, (_, r) => r), blockQ: 8 };
    await expect(fusedAttention(spec, { threads: 1 })).rejects.toThrow('query rows 0 and 1 of one block have different ALiBi slopes');
  });

  it('a row that sees no key gives 0 and log-sum-exp −∞', async () => {
    const r = await fusedAttention({ ...base(1, 1, 4, 8, 8, 8), bands: [{ gcol: 0, grow: 0, lo: -100, hi: -100 }] }, { threads: 1 });
    expect([...r.out].every((x) => x === 0)).toBe(true);
    expect([...r.lse].every((x) => x === -Infinity)).toBe(true);
  });

  it('relu: a row that sees no key gives 0 and ln(count) −∞; the others ln(75)', async () => {
    const spec = reluCases.at(-1)![1];
    const r = await fusedAttention(spec, { threads: 1 });
    for (let h = 0; h < 4; h++)
      for (let x = 0; x < 30; x++) {
        if (seesNothing(x)) expect(r.out.subarray((h * 30 + x) * 8, (h * 30 + x + 1) * 8).every((y) => y === 0), `head ${h} row ${x}`).toBe(true);
        expect(r.lse[h * 30 + x], `head ${h} row ${x}`).toBeCloseTo(seesNothing(x) ? -Infinity : Math.log(75), 5);
      }
  });

  it('stops when tick throws (cancel), on one thread and on the pool; softmax and relu', async () => {
    const big = { ...base(2, 2, 1024, 1024, 32, 32), bands: [causal] };
    for (const spec of [big, { ...big, score: 'relu' as const }])
      for (const threads of [1, 2])
        await expect(
          fusedAttention(spec, {
            threads,
            tickMs: 0,
            tick: () => {
              throw new Error('cancelled here');
            },
          }),
        ).rejects.toThrow('cancelled here');
    // The kernel is usable afterwards.
    const small = { ...base(1, 1, 16, 16, 8, 8), bands: [causal] };
    expect(maxAbs((await fusedAttention(small, { threads: 2 })).out, oracle(small).out)).toBeLessThan(1e-5);
  });

  it('exp2: relative error ≤ 2e-7 over [−126, 1], 0 below −127', () => {
    const n = 1 << 18;
    const xs = Float32Array.from({ length: n }, (_, i) => -126 + (127 * i) / (n - 1));
    const ys = kernelExp2(xs);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(ys[i]! - 2 ** xs[i]!) / 2 ** xs[i]!);
    expect(worst).toBeLessThan(2e-7);
    expect([...kernelExp2(Float32Array.of(-127.5, -200, -Infinity, 0))]).toEqual([0, 0, 0, 1]);
  });

  it('runs over an unshared memory (a page without SharedArrayBuffer): the module with its memory import unshared', () => {
    const bytes = new Uint8Array(readFileSync('src/kernels/wasm/attention.wasm'));
    const memory = new WebAssembly.Memory({ initial: 32, maximum: 65536 });
    expect(() => new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })).toThrow();
    const ex = new WebAssembly.Instance(new WebAssembly.Module(unsharedMemoryImport(bytes)), { env: { memory } }).exports as Record<string, (...a: number[]) => number>;
    // run_queue's atomics (load of the cancel flag, fetch-add of the counter) on the unshared memory.
    const counter = 1024;
    new Int32Array(memory.buffer, counter, 2).set([5, 0]);
    expect(ex.run_queue!(0, 0, 0, 5, counter, counter + 4, 0)).toBe(0);
    expect(new Int32Array(memory.buffer, counter, 1)[0]).toBe(6);
    new Float32Array(memory.buffer, 2048, 4).set([0, 1, -1, 3]);
    ex.exp2_array!(2048, 4);
    expect([...new Float32Array(memory.buffer, 2048, 4)]).toEqual([1, 2, 0.5, 8]);
  });

  it('measures a positive wasm-SIMD peak', () => {
    expect(measureWasmPeak(20)).toBeGreaterThan(0);
  });
});

describe('the committed attention.wasm', () => {
  it('is what scripts/build-wasm.sh builds from attention.c and matmul.c (needs clang and lld)', () => {
    const has = spawnSync('sh', ['-c', 'command -v clang || command -v clang-14']).status === 0 && spawnSync('sh', ['-c', 'command -v wasm-ld || command -v wasm-ld-14']).status === 0;
    if (!has) throw new Error('clang and wasm-ld are needed to check the committed attention.wasm: apt-get install clang lld (Debian), then re-run');
    const out = mkdtempSync(join(tmpdir(), 'ctxlab-wasm-'));
    execFileSync('bash', ['scripts/build-wasm.sh', out], { stdio: 'pipe' });
    const dir = 'src/kernels/wasm';
    expect(readFileSync(join(out, 'attention.wasm')).equals(readFileSync(join(dir, 'attention.wasm'))), 'attention.wasm is stale: run scripts/build-wasm.sh').toBe(true);
    expect(readFileSync(join(out, 'attention.wasm.ts'), 'utf8')).toBe(readFileSync(join(dir, 'attention.wasm.ts'), 'utf8'));
    expect(readFileSync(join(out, 'matmul.wasm')).equals(readFileSync(join(dir, 'matmul.wasm'))), 'matmul.wasm is stale: run scripts/build-wasm.sh').toBe(true);
    expect(readFileSync(join(out, 'matmul.wasm.ts'), 'utf8')).toBe(readFileSync(join(dir, 'matmul.wasm.ts'), 'utf8'));
  });
});

describe('ctxlab --threads', () => {
  it('accepts a thread count for the kernel and refuses one below 1', async () => {
    const ok = await ctxlab(['run', 'pipelines/flash-vs-naive.json', '--backend', 'wasm', '--threads', '1', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const bad = await ctxlab(['run', 'pipelines/flash-vs-naive.json', '--threads', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--threads');
  }, 300_000);
});
