import { describe, expect, it } from 'vitest';
import type { ServiceRunResult } from './service.js';
import { affectedNodes, fitLogLog, MIN_SWEEP_MS, runSweep, sweepFits, sweepSlope, sweepWarmup, type SweepHost, type SweepPoint } from './sweep.js';

describe('fitLogLog', () => {
  it('recovers the exponent and constant of a power law', () => {
    const xs = [1024, 2048, 4096, 8192];
    const quad = fitLogLog(xs, xs.map((x) => 3 * x * x))!;
    expect(quad.slope).toBeCloseTo(2, 10);
    expect(Math.exp(quad.intercept)).toBeCloseTo(3, 8);
    expect(quad.r2).toBeCloseTo(1, 10);
    expect(fitLogLog(xs, xs.map((x) => 5 * x))!.slope).toBeCloseTo(1, 10);
  });

  it('matches the least-squares formula on noisy points', () => {
    // log2 x = 0, 1, 2; log2 y = 0, 1, 3: slope = Σ(dx·dy)/Σdx² = (1·(-4/3) + 0 + 1·(5/3)) / 2 = 1.5 (base-free).
    const f = fitLogLog([1, 2, 4], [1, 2, 8])!;
    expect(f.slope).toBeCloseTo(1.5, 12);
    // r² = Sxy² / (Sxx·Syy) with Sxx = 2, Sxy = 3, Syy = 16/9 + 1/9 + 25/9 = 42/9 (in log2 units; the ratio is base-free).
    expect(f.r2).toBeCloseTo(9 / (2 * 42 / 9), 12);
  });

  it('skips missing and non-positive points and needs two distinct x', () => {
    expect(fitLogLog([1, 2, 4], [NaN, 0, 16])).toBeNull();
    expect(fitLogLog([1, 2, 4], [1, NaN, 16])!.slope).toBeCloseTo(2, 10);
    expect(fitLogLog([3, 3, 3], [1, 2, 3])).toBeNull();
  });
});

describe('sweepSlope (the rule shared by ctxlab sweep and the editor)', () => {
  const xs = [256, 512, 1024];
  it('fits from three points with a figure above 0', () => {
    expect(sweepSlope(xs, [1, 4, 16], MIN_SWEEP_MS).slope).toBeCloseTo(2, 12);
    expect(sweepSlope(xs, [1, 4, 16]).why).toBeUndefined();
  });

  it('gives no exponent from two points, where a line always fits exactly', () => {
    expect(sweepSlope([256, 512], [1, 4], MIN_SWEEP_MS)).toEqual({ slope: null, why: 'fewer than 3 points (finished runs with a figure above 0)' });
    expect(sweepSlope(xs, [1, 0, 16]).slope).toBeNull();
    expect(sweepSlope(xs, [1, NaN, 16]).slope).toBeNull();
  });

  it('gives no time exponent when every time is under the noise floor', () => {
    expect(sweepSlope(xs, [0.01, 0.02, 0.04], MIN_SWEEP_MS)).toEqual({ slope: null, why: 'every time under 0.05 ms' });
    expect(sweepSlope(xs, [0.01, 0.02, 0.06], MIN_SWEEP_MS).slope).toBeCloseTo(Math.log(6) / Math.log(4), 12);
  });

  it('says why when the swept values cannot be fitted', () => {
    expect(sweepSlope(null, [1, 2, 3])).toEqual({ slope: null, why: 'the swept values are not numbers' });
    expect(sweepSlope([4, 4, 4], [1, 2, 3])).toEqual({ slope: null, why: 'the swept values must be positive and differ' });
    expect(sweepSlope([-1, 2, 4], [1, 2, 3])).toEqual({ slope: null, why: 'the swept values must be positive and differ' });
  });
});

// Two independent branches (qkv → naive, flash → cmp; other → mamba) and a sink listed before its source.
const graph = {
  nodes: [{ id: 'cmp' }, { id: 'other' }, { id: 'qkv' }, { id: 'mamba' }, { id: 'naive' }, { id: 'flash' }],
  edges: [
    { from: 'qkv.q', to: 'naive.q' },
    { from: 'qkv.k', to: 'naive.k' },
    { from: 'qkv.q', to: 'flash.q' },
    { from: 'naive.out', to: 'cmp.b' },
    { from: 'flash.out', to: 'cmp.a' },
    { from: 'other.x', to: 'mamba.x' },
  ],
};

describe('affectedNodes', () => {
  it('keeps only the swept node and what is downstream of it, in topological order', () => {
    expect(affectedNodes(graph, 'qkv')).toEqual(['qkv', 'naive', 'flash', 'cmp']);
    expect(affectedNodes(graph, 'flash')).toEqual(['flash', 'cmp']);
    expect(affectedNodes(graph, 'other')).toEqual(['other', 'mamba']);
    expect(affectedNodes(graph, 'gone')).toEqual([]);
  });
});

/** A run whose nodes take `ms(value)` and hold `peak(value)` bytes; `fail` names a node that fails. */
function fakeRun(value: number, o: { fail?: string; status?: 'ok' | 'cancelled' } = {}): ServiceRunResult {
  const node = (nodeId: string, ms: number, peak: number) => ({ nodeId, type: 't', status: nodeId === o.fail ? 'failed' : 'done', wallMs: ms, peakBytes: peak, ...(nodeId === o.fail ? { error: 'boom' } : {}) });
  const nodes = [node('src', value / 100, 4 * value), node('att', (value / 100) ** 2, 4 * value * value), node('other', 0.5, 64)];
  const status = o.fail ? 'failed' : (o.status ?? 'ok');
  return {
    ok: true, status, executed: nodes.length, outputs: {}, artifacts: {}, checks: [],
    errors: o.fail ? [{ nodeId: o.fail, message: 'boom' }] : [],
    profile: { totalMs: value, nodes, backend: { requested: 'cpu', name: 'cpu' } },
  } as unknown as ServiceRunResult;
}

/** A host that records what ran; `run` answers from `answer` (default: a good run). */
function host(answer: (value: number, i: number) => ServiceRunResult | Error = (v) => fakeRun(v), stopAfter = Infinity) {
  const ran: number[] = [];
  const started: string[] = [];
  const h: SweepHost<number> = {
    run: async (value) => {
      ran.push(value);
      const a = answer(value, ran.length - 1);
      if (a instanceof Error) throw a;
      return a;
    },
    died: (err) => ((err as Error).message.startsWith('died') ? `worker: ${(err as Error).message}` : undefined),
    onStart: (value, warmup) => started.push(`${value}${warmup ? ' warm-up' : ''}`),
    stopped: () => ran.length >= stopAfter,
  };
  return { h, ran, started };
}

describe('runSweep (the loop ctxlab sweep and the editor share)', () => {
  it('runs an untimed warm-up at the smallest value, then every value in order', async () => {
    const { h, ran, started } = host();
    const points = await runSweep([512, 256, 1024], h);
    expect(ran).toEqual([256, 512, 256, 1024]);
    expect(started).toEqual(['256 warm-up', '512', '256', '1024']);
    expect(points.map((p) => [p.value, p.status])).toEqual([[512, 'ok'], [256, 'ok'], [1024, 'ok']]);
    expect(points[0]!.nodes.att).toMatchObject({ ms: 26.2144, peak: 4 * 512 * 512, status: 'done', type: 't' });
    expect(points[0]!.totalMs).toBe(512);
  });

  it('warms up at the first value when the values are not all numbers', () => {
    expect(sweepWarmup([4, 1, 2])).toBe(1);
    expect(sweepWarmup(['b', 'a'])).toBe('b');
    expect(sweepWarmup([3, 'a', 1])).toBe(3);
  });

  it('keeps refusals and node failures as points, with their reasons', async () => {
    const refused: ServiceRunResult = { ok: false, stage: 'refused', issues: [{ path: 'nodes[1]', message: 'refused before running: att' }] };
    const { h } = host((v, i) => (i === 0 ? fakeRun(v) : v === 64 ? refused : fakeRun(v, { fail: 'att' })));
    const points = await runSweep([32, 64], h);
    expect(points[0]).toMatchObject({ value: 32, status: 'failed', message: 'node "att": boom' });
    expect(points[0]!.nodes.att).toMatchObject({ status: 'failed', error: 'boom' });
    expect(points[1]).toMatchObject({ value: 64, status: 'refused', message: 'refused before running: att', nodes: {} });
  });

  it('ends at a cancelled run, or when the host says stop', async () => {
    const cancelled = host((v, i) => fakeRun(v, { status: i === 2 ? 'cancelled' : 'ok' }));
    expect((await runSweep([1, 2, 3, 4], cancelled.h)).map((p) => [p.value, p.status])).toEqual([[1, 'ok'], [2, 'cancelled']]);
    const stopped = host(undefined, 2); // stopped once the warm-up and the first value ran
    expect((await runSweep([1, 2, 3], stopped.h)).map((p) => p.value)).toEqual([1]);
    expect(stopped.ran).toEqual([1, 1]);
  });

  it('marks the value the engine worker died at and ends; other errors propagate', async () => {
    const dying = host((v) => (v === 3 ? new Error('died: out of memory') : fakeRun(v)));
    const points = await runSweep([1, 2, 3, 4], dying.h);
    expect(points.map((p) => [p.value, p.status, p.message])).toEqual([[1, 'ok', undefined], [2, 'ok', undefined], [3, 'failed', 'worker: died: out of memory']]);
    expect(dying.ran).toEqual([1, 1, 2, 3]);
    const atWarmup = host((v, i) => (i === 0 ? new Error('died') : fakeRun(v)));
    expect((await runSweep([8, 4], atWarmup.h)).map((p) => [p.value, p.status])).toEqual([[4, 'failed']]);
    await expect(runSweep([1, 2], host(() => new Error('a bug')).h)).rejects.toThrow('a bug');
  });
});

describe('sweepFits', () => {
  const points = (values: number[], fail?: (v: number) => string | undefined): SweepPoint[] =>
    values.map((v) => {
      const r = fakeRun(v, { fail: fail?.(v) });
      return { value: v, status: 'ok', totalMs: v, nodes: Object.fromEntries((r as { profile: { nodes: { nodeId: string; wallMs: number; peakBytes: number; status: string }[] } }).profile.nodes.map((n) => [n.nodeId, { ms: n.wallMs, peak: n.peakBytes, status: n.status, type: 't' }])) } as SweepPoint;
    });

  it('fits each affected node over the points where it finished, and none for the others', () => {
    const fits = sweepFits(points([256, 512, 1024, 2048]), ['src', 'att', 'other'], ['src', 'att']);
    expect(fits.src!.ms.slope).toBeCloseTo(1, 10);
    expect(fits.att!.ms.slope).toBeCloseTo(2, 10);
    expect(fits.att!.peak.slope).toBeCloseTo(2, 10);
    expect(fits.other).toEqual({ ms: { slope: null, why: 'the swept param does not reach it' }, peak: { slope: null, why: 'the swept param does not reach it' } });
  });

  it('leaves out the points where a node failed', () => {
    const fits = sweepFits(points([256, 512, 1024, 2048], (v) => (v === 512 ? 'att' : undefined)), ['att'], ['att']);
    expect(fits.att!.ms.slope).toBeCloseTo(2, 10);
    const two = sweepFits(points([256, 512, 1024], (v) => (v === 512 ? 'att' : undefined)), ['att'], ['att']);
    expect(two.att!.ms).toEqual({ slope: null, why: 'fewer than 3 points (finished runs with a figure above 0)' });
  });
});
