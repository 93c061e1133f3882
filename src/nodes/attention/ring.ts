// Ring attention (Liu, Zaharia & Abbeel 2023). Q, K and V are cut by sequence into `devices`
// shards; device d keeps its query shard and, over `devices` steps, sees every K/V shard as they
// travel round the ring (at step s it holds shard (d − s) mod n). Before computing on the block it
// holds, it sends that block on to device d + 1 — double buffering: the next block is in flight
// while the current one is computed. Each device folds each block into its rows with the online
// softmax (m' = max(m, rowmax S), ℓ' = ℓ·e^(m−m') + Σe^(S−m'), O' = O·e^(m−m') + e^(S−m')·V), so the
// result is exact attention, while a device never holds more than its shard, one block in flight
// and its running state: O(T/devices · D).
//
// Where the engine runs in Node, each device is a worker_thread with its own memory (blocks travel
// between them over MessagePorts, copied by structured clone). Elsewhere (the browser's engine
// worker) the same device program runs in-process: devices are async functions on one thread and a
// send is a copy into the next device's inbox, so sends and compute take turns and do not overlap.
// On the wasm backend a device computes each block on the fused wasm kernel (one thread, its own
// instance), which returns the block's output and log-sum-exp per row, folded in exactly as above;
// elsewhere on a plain-JS loop. The device program is runRingDevice (device-programs.ts).
import { z } from 'zod';
import { f32, type Tensor } from '../../engine/tensor.js';
import type { RunContext } from '../../engine/node.js';
import type { MetricsValue } from '../../engine/values.js';
import { commonParams, defineVariant, exactFlops, scaleOf, type AttentionInputs } from './common.js';
import { checkDevices, closeDevices, deviceKernel, deviceMetrics, epochMs, runDevices, shard } from './devices.js';
import type { DeviceKernel, RingJob } from './device-programs.js';
import { naiveAttentionReference, type AttentionShape } from './reference.js';

const params = z.object({
  variant: z.literal('ring'),
  ...commonParams,
  devices: z.number().int().min(1).max(64).default(4).describe('simulated devices the sequence is sharded across (one worker_thread each where the engine runs in Node)'),
  transport: z
    .enum(['auto', 'in-process'])
    .default('auto')
    .describe("auto: a worker_thread per device where the engine runs in Node, else in-process; in-process: devices take turns on the engine's thread"),
  layout: z
    .enum(['contiguous', 'striped'])
    .default('contiguous')
    .describe('contiguous: device d holds one run of T/devices positions; striped (Brandon et al. 2023): it holds the positions ≡ d (mod devices), which spreads causal work evenly over the devices'),
});

type P = z.output<typeof params>;

/**
 * Device d's rows of a sequence of n rows: `count` rows from `first`, `stride` apart — one run
 * (contiguous) or every devices-th row from d (striped).
 */
export function ringShard(layout: P['layout'], n: number, devices: number, d: number): { first: number; count: number; stride: number } {
  if (layout === 'striped') return { first: d, count: d < n ? Math.floor((n - d - 1) / devices) + 1 : 0, stride: devices };
  const [a, b] = shard(n, devices, d);
  return { first: a, count: b - a, stride: 1 };
}

/** Device d's query shard and K/V shard, copied out of the [H, T, D] inputs. */
function ringJobs({ q, k, v }: AttentionInputs, p: P, s: AttentionShape, kernel: DeviceKernel): RingJob[] {
  const n = p.devices;
  const off = s.Tk - s.Tq;
  const maxCols = Math.max(...Array.from({ length: n }, (_, d) => ringShard(p.layout, s.Tk, n, d).count));
  const rowsOf = (src: Float32Array, heads: number, T: number, width: number, sh: { first: number; count: number; stride: number }) => {
    const dst = new Float32Array(heads * sh.count * width);
    for (let h = 0; h < heads; h++)
      for (let r = 0; r < sh.count; r++) {
        const at = (h * T + sh.first + r * sh.stride) * width;
        dst.set(src.subarray(at, at + width), (h * sh.count + r) * width);
      }
    return dst;
  };
  return Array.from({ length: n }, (_, d) => {
    const qs = ringShard(p.layout, s.Tq, n, d);
    const ks = ringShard(p.layout, s.Tk, n, d);
    return {
      program: 'ring' as const,
      kernel,
      device: d,
      devices: n,
      H: s.H,
      Hkv: s.Hkv,
      rows: qs.count,
      D: s.D,
      Dv: s.Dv,
      scale: scaleOf(p, s.D),
      causal: p.causal,
      qPos0: off + qs.first,
      qStride: qs.stride,
      q: rowsOf(q.data as Float32Array, s.H, s.Tq, s.D, qs),
      own: { k: rowsOf(k.data as Float32Array, s.Hkv, s.Tk, s.D, ks), v: rowsOf(v.data as Float32Array, s.Hkv, s.Tk, s.Dv, ks), kPos0: ks.first, stride: ks.stride, cols: ks.count },
      maxCols,
    };
  });
}

/** Stops the device workers (tests; the pool restarts on the next run). */
export const closeRingDevices = closeDevices;

/**
 * Bytes device d holds at most as runRingDevice counts them on the JS kernel (for the cost model):
 * its query shard and their positions, the running state and score row, and two K/V blocks with
 * their positions (its current one and the next). The wasm kernel's device holds a one-entry score
 * row instead, and the kernel's memory during each call (counted in the run's report).
 */
function devicePeakBytes(s: AttentionShape, rows: number, cols: number, maxCols: number): number {
  const q = s.H * rows * s.D * 4 + rows * 4;
  const state = s.H * rows * (2 + s.Dv) * 8 + Math.max(1, maxCols) * 8;
  const block = (c: number) => s.Hkv * c * (s.D + s.Dv) * 4 + c * 4;
  const steady = q + state + block(maxCols) + block(cols === maxCols ? maxCols : cols);
  return Math.max(steady, state + rows * 4 + s.H * rows * s.Dv * 4);
}

const NO_BIAS = 'attention (ring): the bias input is not supported by the ring variant; use flash for biased attention';

async function runOnDevices(ctx: RunContext, ins: AttentionInputs, p: P, s: AttentionShape): Promise<{ out: Tensor; devices: MetricsValue }> {
  if (ins.bias?.terms.length) throw new Error(NO_BIAS);
  checkDevices('ring', p.devices, s.Tq, s.Tk);
  const t0 = epochMs();
  const kernel = deviceKernel(ctx.backend);
  const jobs = ringJobs(ins, p, s, kernel);
  const n = p.devices;
  const links: [number, number][] = n < 2 ? [] : n === 2 ? [[0, 1]] : Array.from({ length: n }, (_, d) => [d, (d + 1) % n]);
  const { results, transport } = await runDevices(ctx, jobs, { transport: p.transport, links, steps: n, what: 'ring attention' });
  const wt = transport === 'worker_threads';
  // The devices' memory, as each counted it (all of it lives in this process: one heap per worker).
  const devicesPeak = results.reduce((a, r) => a + r.peakBytes, 0);
  ctx.track(devicesPeak);
  ctx.release(devicesPeak);
  const out = new Float32Array(s.H * s.Tq * s.Dv);
  results.forEach((r, d) => {
    const qs = ringShard(p.layout, s.Tq, p.devices, d);
    for (let h = 0; h < s.H; h++)
      for (let x = 0; x < qs.count; x++) out.set(r.out.subarray((h * qs.count + x) * s.Dv, (h * qs.count + x + 1) * s.Dv), (h * s.Tq + qs.first + x * qs.stride) * s.Dv);
  });
  const blockBytes = s.Hkv * Math.ceil(s.Tk / p.devices) * (s.D + s.Dv) * 4;
  const transferMs = Math.max(...results.map((r) => r.transferMs));
  const devices = deviceMetrics(results, t0, {
    transport,
    kernel,
    overlap: wt
      ? 'each device posts its block to the next before computing on it, so the copy travels while it computes: timing.transferMs is one bare block transfer, timing.sendMs + waitMs what the compute did not hide (waits also include idling behind a slower neighbour: causal masking loads contiguous shards unevenly; layout striped evens them out)'
      : 'none: in-process devices take turns on one thread (a send is a copy between two computes)',
    steps: p.devices,
    extra: { bytesSentPerStep: blockBytes },
    timing: { transferMs: Math.round(transferMs * 1000) / 1000 },
  });
  return { out: f32([s.H, s.Tq, s.Dv], out, ['H', 'T', 'D']), devices };
}

function ringCost(s: AttentionShape, p: P) {
  const n = p.devices;
  const maxCols = Math.ceil(s.Tk / n);
  let workspace = 0;
  for (let d = 0; d < n; d++) workspace += devicePeakBytes(s, ringShard(p.layout, s.Tq, n, d).count, ringShard(p.layout, s.Tk, n, d).count, maxCols);
  const perDevice = devicePeakBytes(s, Math.ceil(s.Tq / n), maxCols, maxCols);
  return {
    flops: exactFlops(s, p.causal),
    workspaceBytes: workspace,
    // Every K/V shard visits n − 1 other devices.
    bytesMoved: 4 * (s.H * s.Tq * (s.D + s.Dv) + s.Hkv * s.Tk * (s.D + s.Dv) * n),
    note: `${n} devices, ≤ ${(perDevice / 1024).toFixed(0)} KiB each`,
  };
}

export const ring = defineVariant(params, {
  doc: {
    title: 'Ring attention (across devices)',
    summary:
      'Exact attention with Q, K, V sharded by sequence across simulated devices; K/V blocks travel round the ring (each posted on before it is computed on: double buffering) while each device folds them into its rows with an online softmax, so each holds O(T/devices · D). Where the engine runs in Node (CLI, tests, exported modules) each device is a worker_thread with its own memory; in the editor (a browser Web Worker) the same device program runs in-process, devices taking turns. On the wasm backend each device computes its blocks on the fused wasm kernel (one thread, its own instance and wasm memory) and merges them by the log-sum-exp the kernel returns; elsewhere on a plain-JS loop. The `devices` output gives per-device peak memory (counted; in workers also measured: array-buffer bytes after a collection plus the wasm memory its kernel uses), bytes sent per step, compute/send/wait times per step, one bare block transfer (transferMs) and lanes for the Timeline. With layout `striped` (Striped Attention, Brandon et al. 2023) device d holds the positions ≡ d (mod devices) instead of one run, so under a causal mask every device computes about the same number of score entries (maxDeviceScoreEntries); the output is the same. Bias inputs are refused.',
    formula: "device d, step s: block j = (d − s) mod n; m' = max(m, rowmax(Q_d K_jᵀ)), ℓ' = ℓ·e^(m−m') + Σe^(S−m'), O' = O·e^(m−m') + e^(S−m')·V_j; O_d = O/ℓ",
    references: [
      { title: 'Ring Attention with Blockwise Transformers for Near-Infinite Context', year: 2023 },
      { title: 'Striped Attention: Faster Ring Attention for Causal Transformers', year: 2023 },
    ],
  },
  cost(s, p, c) {
    // What run would refuse, refused when the pipeline compiles (validate says it too).
    if (c?.bias) throw new Error(NO_BIAS);
    if (s.Tq > 0 && s.Tk > 0) checkDevices('ring', p.devices, s.Tq, s.Tk);
    return ringCost(s, p);
  },
  run: async (ctx, ins, p, s) => (await runOnDevices(ctx, ins, p, s)).out,
  runOnDevices,
  reference: ({ q, k, v }, p) => naiveAttentionReference(q, k, v, { causal: p.causal, scale: p.scale }),
});
