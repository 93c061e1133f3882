// Ring attention: equal to flash (and the exact oracle) on cpu and wasm (and webgpu once), causal or not, grouped-query,
// on worker_threads and in-process; its devices' memory, bytes sent and lanes.
import { afterAll, describe, expect, it } from 'vitest';
import { f32, type Tensor } from '../../engine/tensor.js';
import type { MetricValue, MetricsValue } from '../../engine/values.js';
import { expectClose, expectParity, runNode } from '../testing.js';
import { syntheticQkv } from '../sources/synthetic-qkv.js';
import { attention } from './index.js';
import { closeRingDevices } from './ring.js';
import { deviceMetricsSchema } from './devices.js';
import { compile } from '../../engine/compile/compile.js';
import { registry } from '../index.js';

afterAll(() => closeRingDevices());

const qkv = (heads: number, kvHeads: number, seqLen: number, headDim: number, seed = 5) =>
  syntheticQkv({ heads, kvHeads, seqLen, headDim, seed, sinkStrength: 4, sinkTokens: 4, locality: 2 });

const outOf = (r: Record<string, unknown>) => (r.out as Tensor).data;
const devicesOf = (r: Record<string, unknown>) => (r.devices as MetricsValue).values;

describe('ring attention: hand-computed values', () => {
  // H = 1, T = 2, D = 1, scale 1, two devices: device 1's query (q = 0) sees keys 1 and 2 equally.
  const q = f32([1, 2, 1], [1, 0]);
  const k = f32([1, 2, 1], [1, 2]);
  const v = f32([1, 2, 1], [10, 20]);
  for (const transport of ['auto', 'in-process'] as const) {
    it(`${transport}: causal [10, 15]; non-causal row 0 = (10 + 20e)/(1 + e)`, async () => {
      expectClose(outOf(await runNode(attention, { q, k, v }, { variant: 'ring', devices: 2, scale: 1, transport })), [10, 15], { atol: 1e-6 });
      expectClose(outOf(await runNode(attention, { q, k, v }, { variant: 'ring', devices: 2, scale: 1, causal: false, transport })), [17.310585786300049, 15], { atol: 1e-5 });
    });
  }
});

describe('ring attention equals flash to 1e-5', () => {
  const cases = [
    { name: 'causal MHA, 4 devices', H: 2, Hkv: 2, T: 96, D: 16, params: { devices: 4 } },
    { name: 'causal GQA (4 heads, 2 kv), 3 devices, T not a multiple', H: 4, Hkv: 2, T: 77, D: 8, params: { devices: 3 } },
    { name: 'non-causal GQA (4 heads, 1 kv), 5 devices', H: 4, Hkv: 1, T: 64, D: 8, params: { devices: 5, causal: false } },
    { name: 'one device, custom scale', H: 2, Hkv: 1, T: 40, D: 8, params: { devices: 1, scale: 0.3 } },
    { name: 'striped, causal GQA (4 heads, 2 kv), 3 devices, T not a multiple', H: 4, Hkv: 2, T: 77, D: 8, params: { devices: 3, layout: 'striped' } },
    { name: 'striped, non-causal MHA, 4 devices', H: 2, Hkv: 2, T: 64, D: 16, params: { devices: 4, layout: 'striped', causal: false } },
  ];
  for (const backend of ['cpu', 'wasm'] as const)
    for (const transport of ['auto', 'in-process'] as const)
      for (const c of cases)
        it(`${backend}, ${transport}: ${c.name}`, async () => {
          const ins = qkv(c.H, c.Hkv, c.T, c.D);
          const { devices: _, layout: __, ...flashParams } = c.params as typeof c.params & { layout?: string };
          const ring = await runNode(attention, ins, { variant: 'ring', transport, ...c.params }, { backend });
          const flash = await runNode(attention, ins, { variant: 'flash', blockSize: 16, ...flashParams }, { backend });
          expectClose(outOf(ring), outOf(flash), { atol: 1e-5 }, `ring vs flash on ${backend}`);
          await expectParity(attention, backend, ins, { variant: 'ring', transport, ...c.params }, { atol: 1e-5 });
          const report = devicesOf(ring);
          expect(report.transport).toBe(transport === 'auto' ? 'worker_threads' : 'in-process');
          // On wasm every device computes on the fused kernel (its own instance in a worker), else on the JS loop.
          expect(report.kernel).toBe(backend === 'wasm' ? 'wasm' : 'js');
          const measured = report.measured as { perDevice: { kernelWasmBytes: number; peakBytes: number }[] } | undefined;
          if (transport === 'in-process') expect(measured).toBeUndefined();
          else
            for (const d of measured!.perDevice) {
              expect(d.peakBytes).toBeGreaterThan(0);
              if (backend === 'wasm') expect(d.kernelWasmBytes).toBeGreaterThan(0);
              else expect(d.kernelWasmBytes).toBe(0);
            }
        });

  it('webgpu: causal GQA, 3 devices, equals flash there too', async () => {
    const ins = qkv(4, 2, 77, 8);
    const ring = await runNode(attention, ins, { variant: 'ring', devices: 3 }, { backend: 'webgpu' });
    const flash = await runNode(attention, ins, { variant: 'flash', blockSize: 16 }, { backend: 'webgpu' });
    expectClose(outOf(ring), outOf(flash), { atol: 1e-5 }, 'ring vs flash on webgpu');
  });

  it('fewer queries than keys (the last rows): query shards keep their absolute positions', async () => {
    const { q, k, v } = qkv(2, 2, 64, 8);
    const qLast = f32([2, 10, 8], new Float32Array([...q.data.subarray(54 * 8, 64 * 8), ...q.data.subarray(118 * 8, 128 * 8)]));
    const flash = await runNode(attention, { q: qLast, k, v }, { variant: 'flash', blockSize: 16 });
    for (const layout of ['contiguous', 'striped'])
      for (const backend of ['cpu', 'wasm'] as const) {
        const ring = await runNode(attention, { q: qLast, k, v }, { variant: 'ring', devices: 4, layout }, { backend });
        expectClose(outOf(ring), outOf(flash), { atol: 1e-5 }, `${layout} on ${backend}`);
      }
  });
});

describe('ring attention: what the devices report', () => {
  const H = 2;
  const Hkv = 1;
  const T = 512;
  const D = 16;
  const ins = qkv(H, Hkv, T, D);
  const report = async (devices: number, transport: 'auto' | 'in-process' = 'auto') =>
    devicesOf(await runNode(attention, ins, { variant: 'ring', devices, transport }));

  it('per-device peak memory falls as 1/devices, and equals what the devices hold', async () => {
    const peaks: number[] = [];
    for (const n of [1, 2, 4, 8]) peaks.push((await report(n)).maxDevicePeakBytes as number);
    // One device holds no block in flight; from two on, each doubling halves the peak.
    expect(peaks[1]! / peaks[0]!).toBeLessThan(0.65);
    for (let x = 2; x < peaks.length; x++) {
      expect(peaks[x]! / peaks[x - 1]!).toBeGreaterThan(0.45);
      expect(peaks[x]! / peaks[x - 1]!).toBeLessThan(0.55);
    }
    // 4 devices, 128 rows each: q 2·128·16·4 and its 128 positions·4, state 2·128·(2 + 16)·8 + a
    // 128-key score row·8, and two K/V blocks (its own and the next) of 1·128·(16 + 16)·4 with their 128 positions·4.
    const expected = H * 128 * D * 4 + 128 * 4 + H * 128 * (2 + D) * 8 + 128 * 8 + 2 * (Hkv * 128 * (D + D) * 4 + 128 * 4);
    expect(peaks[2]).toBe(expected);
  });

  it('on wasm (the fused kernel in each worker) per-device memory falls as 1/devices, counted and measured', async () => {
    const big = qkv(4, 2, 1024, 32);
    const counted: number[] = [];
    const measured: number[] = [];
    for (const n of [2, 4, 8]) {
      const r = devicesOf(await runNode(attention, big, { variant: 'ring', devices: n }, { backend: 'wasm' }));
      expect([r.transport, r.kernel]).toEqual(['worker_threads', 'wasm']);
      counted.push(r.maxDevicePeakBytes as number);
      measured.push((r.measured as { maxDevicePeakBytes: number }).maxDevicePeakBytes);
    }
    for (let x = 1; x < 3; x++) {
      expect(counted[x]! / counted[x - 1]!).toBeGreaterThan(0.45);
      expect(counted[x]! / counted[x - 1]!).toBeLessThan(0.55);
      // Measured in the worker (array buffers after a collection, plus the kernel's wasm memory in
      // use): it also holds a block that arrived early (the ring has no flow control), so it is
      // above the count, but it halves too.
      expect(measured[x]! / measured[x - 1]!).toBeLessThan(0.7);
      expect(measured[x]!).toBeGreaterThanOrEqual(counted[x]! * 0.9);
    }
  });

  it('striped layout spreads causal work evenly: the busiest device computes ~1/devices of the entries', async () => {
    const entries = async (layout: string) => {
      const r = await report4(layout);
      const per = (r.perDevice as { scoreEntries: number }[]).map((d) => d.scoreEntries);
      expect(Math.max(...per)).toBe(r.maxDeviceScoreEntries);
      expect(per.reduce((a, b) => a + b, 0)).toBe(r.scoreEntries);
      return r;
    };
    const report4 = async (layout: string) => devicesOf(await runNode(attention, ins, { variant: 'ring', devices: 4, layout }, { backend: 'wasm' }));
    const [contiguous, striped] = [await entries('contiguous'), await entries('striped')];
    // The same total: H·T(T+1)/2 causal entries.
    expect(contiguous.scoreEntries).toBe((H * T * (T + 1)) / 2);
    expect(striped.scoreEntries).toBe(contiguous.scoreEntries);
    // Contiguous: the last device sees 3 full blocks and its diagonal, 7/32 of T² per head against a mean of 4/32.
    const mean = (contiguous.scoreEntries as number) / 4;
    expect((contiguous.maxDeviceScoreEntries as number) / mean).toBeGreaterThan(1.7);
    expect((striped.maxDeviceScoreEntries as number) / mean).toBeLessThan(1.01);
  });

  it('its report parses with the schema the devices port declares (both transports)', async () => {
    expect(attention.outputs.devices.metrics).toBe(deviceMetricsSchema);
    for (const transport of ['auto', 'in-process'] as const) {
      const r = deviceMetricsSchema.safeParse(await report(3, transport));
      expect(r.error?.issues ?? []).toEqual([]);
      expect(r.data!.timing.lanes).toHaveLength(3);
    }
  });

  it('bytes sent: each device passes n − 1 blocks of Hkv·T/n·(D + Dv)·4 bytes', async () => {
    const r = await report(4);
    const block = Hkv * (T / 4) * (D + D) * 4;
    expect(r.bytesSentPerStep).toBe(block);
    for (const d of r.perDevice as { bytesSent: number }[]) expect(d.bytesSent).toBe(3 * block);
    expect(r.totalBytesSent).toBe(4 * 3 * block);
  });

  it('one lane per device: n compute spans, n − 1 sends and waits, in time order', async () => {
    for (const transport of ['auto', 'in-process'] as const) {
      const r = (await report(4, transport)).timing as Record<string, MetricValue>;
      const lanes = r.lanes as { device: number; spans: [string, number, number, number][] }[];
      expect(lanes.map((l) => l.device)).toEqual([0, 1, 2, 3]);
      for (const lane of lanes) {
        const count = (kind: string) => lane.spans.filter((s) => s[0] === kind).length;
        expect([count('compute'), count('send'), count('wait')]).toEqual([4, 3, 3]);
        for (const [, , start, end] of lane.spans) expect(end).toBeGreaterThanOrEqual(start);
        const computes = lane.spans.filter((s) => s[0] === 'compute');
        for (let x = 1; x < computes.length; x++) expect(computes[x]![2]).toBeGreaterThanOrEqual(computes[x - 1]![3]);
      }
      expect((r.steps as MetricValue[]).length).toBe(4);
      expect(r.computeMs).toBeGreaterThan(0);
      expect(r.transferMs).toBeGreaterThan(0);
    }
  });

  it('refuses more devices than rows and a bias input, naming the param', async () => {
    const small = qkv(1, 1, 4, 8);
    await expect(runNode(attention, small, { variant: 'ring', devices: 5 })).rejects.toThrow(/params\.devices = 5/);
    const bias = { kind: 'bias' as const, terms: [{ type: 'alibi' as const, slopes: [0.5] }] };
    await expect(runNode(attention, { ...small, bias }, { variant: 'ring', devices: 2 })).rejects.toThrow(/ring.*bias/);
  });

  it('the compiler refuses what the run would (validate says so before anything runs)', () => {
    const doc = (devices: number, bias: boolean) => ({
      format: 'context-lab/pipeline',
      version: 1,
      nodes: [
        { id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 2, seqLen: 8, headDim: 8, seed: 1 } },
        ...(bias ? [{ id: 'alibi', type: 'position', params: { variant: 'alibi' } }] : []),
        { id: 'att', type: 'attention', params: { variant: 'ring', devices } },
      ],
      edges: [
        ...['q', 'k', 'v'].map((p) => ({ from: `qkv.${p}`, to: `att.${p}` })),
        ...(bias ? [{ from: 'qkv.q', to: 'alibi.q' }, { from: 'qkv.k', to: 'alibi.k' }, { from: 'alibi.bias', to: 'att.bias' }] : []),
      ],
    });
    const issues = (d: unknown) => {
      const r = compile(d, registry);
      return r.ok ? [] : r.issues.map((i) => `${i.nodeId}: ${i.message}`);
    };
    expect(issues(doc(8, false))).toEqual([]);
    expect(issues(doc(9, false))).toEqual([expect.stringMatching(/^att: .*params\.devices = 9/)]);
    expect(issues(doc(2, true))).toEqual([expect.stringMatching(/^att: .*ring.*bias/)]);
  });

  it('runs again and again on the same workers without piling up listeners', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const small = qkv(1, 1, 32, 8);
      for (let x = 0; x < 12; x++) await runNode(attention, small, { variant: 'ring', devices: 2 });
      await new Promise((r) => setTimeout(r, 10)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('a cancel stops the workers; the next run starts fresh ones', async () => {
    const { testContext } = await import('../testing.js');
    const ctx = await testContext('cpu', ['out']);
    let calls = 0;
    ctx.checkCancelled = () => {
      if (++calls > 2) throw new (class extends Error {})('run cancelled');
    };
    await expect(attention.run(ctx, ins as never, attention.params.parse({ variant: 'ring', devices: 4 }))).rejects.toThrow(/cancelled/);
    const again = await runNode(attention, ins, { variant: 'ring', devices: 4 });
    const flash = await runNode(attention, ins, { variant: 'flash', blockSize: 64 });
    expectClose(outOf(again), outOf(flash), { atol: 1e-5 });
  });
});
