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
import { z } from 'zod';
import { f32, type Tensor } from '../../engine/tensor.js';
import { CancelledError, type RunContext } from '../../engine/node.js';
import type { MetricsValue } from '../../engine/values.js';
import { commonParams, defineVariant, exactFlops, scaleOf, type AttentionInputs } from './common.js';
import { checkDevices, deviceMetrics, epochMs, shard, type DeviceReport } from './devices.js';
import { naiveAttentionReference, type AttentionShape } from './reference.js';

const params = z.object({
  variant: z.literal('ring'),
  ...commonParams,
  devices: z.number().int().min(1).max(64).default(4).describe('simulated devices the sequence is sharded across (one worker_thread each where the engine runs in Node)'),
  transport: z
    .enum(['auto', 'in-process'])
    .default('auto')
    .describe("auto: a worker_thread per device where the engine runs in Node, else in-process; in-process: devices take turns on the engine's thread"),
});

type P = z.output<typeof params>;

/** A K/V shard as it travels: [Hkv, cols, D] keys, [Hkv, cols, Dv] values, starting at key position kPos0. */
interface Block {
  k: Float32Array;
  v: Float32Array;
  kPos0: number;
  cols: number;
  /** When the sender posted it (epoch ms): the transfer probe's clock. */
  sentAt?: number;
}

/** What one device is given: its query shard and its own K/V shard. */
interface RingJob {
  device: number;
  devices: number;
  H: number;
  Hkv: number;
  rows: number;
  D: number;
  Dv: number;
  scale: number;
  causal: boolean;
  /** Absolute position of the shard's first query row. */
  qPos0: number;
  q: Float32Array;
  own: Block;
  /** Columns of the largest block (score scratch). */
  maxCols: number;
}

/** How a device talks to its neighbours: send to d + 1, receive from d − 1, report a step. */
interface RingIO {
  now(): number;
  send(b: Block): void;
  recv(): Promise<Block>;
  step(step: number): void;
}

interface RingResult extends DeviceReport {
  out: Float32Array;
  entries: number;
  /** One block's transfer with nothing to hide it behind: post, travel, receipt (ms). */
  transferMs: number;
}

// attendBlock and runRingDevice are shipped to the workers as source text (Function.toString):
// they use nothing outside their arguments, no inner functions, and plain loops.

/**
 * Folds one K/V block into a device's running (m, ℓ, acc) for every head and row (online softmax,
 * float64 state). Returns the score entries computed (causally masked blocks are skipped).
 */
export function attendBlock(
  q: Float32Array,
  b: Block,
  m: Float64Array,
  l: Float64Array,
  acc: Float64Array,
  scores: Float64Array,
  g: { H: number; Hkv: number; rows: number; D: number; Dv: number; scale: number; causal: boolean; qPos0: number },
): number {
  const { H, Hkv, rows, D, Dv, scale, causal, qPos0 } = g;
  const { k, v, kPos0, cols } = b;
  let entries = 0;
  for (let h = 0; h < H; h++) {
    const kh = Math.floor(h / (H / Hkv));
    for (let r = 0; r < rows; r++) {
      const i = qPos0 + r;
      const n = causal ? Math.min(cols, i - kPos0 + 1) : cols;
      if (n <= 0) continue;
      const qo = (h * rows + r) * D;
      let max = -Infinity;
      for (let j = 0; j < n; j++) {
        const ko = (kh * cols + j) * D;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[qo + d]! * k[ko + d]!;
        const s = dot * scale;
        scores[j] = s;
        if (s > max) max = s;
      }
      const row = h * rows + r;
      const mNew = Math.max(m[row]!, max);
      const corr = Math.exp(m[row]! - mNew);
      const ao = row * Dv;
      for (let c = 0; c < Dv; c++) acc[ao + c] = acc[ao + c]! * corr;
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const p = Math.exp(scores[j]! - mNew);
        sum += p;
        const vo = (kh * cols + j) * Dv;
        for (let c = 0; c < Dv; c++) acc[ao + c] = acc[ao + c]! + p * v[vo + c]!;
      }
      l[row] = l[row]! * corr + sum;
      m[row] = mNew;
      entries += n;
    }
  }
  return entries;
}

/**
 * One device's program: `devices` steps of send-then-compute, then O = acc / ℓ. Its memory is
 * counted from the byte lengths of what it holds: the query shard, the running state, the score
 * row, the block it computes on and, from its arrival until the current block is released, the
 * next one (the double buffer).
 */
export async function runRingDevice(io: RingIO, job: RingJob, attend: typeof attendBlock): Promise<RingResult> {
  const { H, rows, Dv, devices } = job;
  const spans: number[] = [];
  const m = new Float64Array(H * rows).fill(-Infinity);
  const l = new Float64Array(H * rows);
  const acc = new Float64Array(H * rows * Dv);
  const scores = new Float64Array(Math.max(1, job.maxCols));
  let block = job.own;
  let live = job.q.byteLength + block.k.byteLength + block.v.byteLength + m.byteLength + l.byteLength + acc.byteLength + scores.byteLength;
  let peak = live;
  let bytesSent = 0;
  let entries = 0;
  // Before the ring starts, one block's transfer measured bare: every device posts a copy of its
  // block and waits for its neighbour's; the transfer runs from when both were ready (the later of
  // the neighbour's post and this device's wait) to its receipt. Compared with the waits below, it
  // says how much of the communication the compute hid.
  let transferMs = 0;
  if (devices > 1) {
    const t = io.now();
    io.send({ k: block.k, v: block.v, kPos0: block.kPos0, cols: block.cols, sentAt: t });
    const probe = await io.recv();
    transferMs = io.now() - Math.max(t, probe.sentAt ?? t);
    if (live + probe.k.byteLength + probe.v.byteLength > peak) peak = live + probe.k.byteLength + probe.v.byteLength;
  }
  for (let step = 0; step < devices; step++) {
    const last = step === devices - 1;
    if (!last) {
      const t = io.now();
      io.send(block);
      spans.push(1, step, t, io.now());
      bytesSent += block.k.byteLength + block.v.byteLength;
    }
    const t = io.now();
    entries += attend(job.q, block, m, l, acc, scores, job);
    spans.push(0, step, t, io.now());
    if (!last) {
      const w = io.now();
      const next = await io.recv();
      spans.push(2, step, w, io.now());
      live += next.k.byteLength + next.v.byteLength;
      if (live > peak) peak = live;
      live -= block.k.byteLength + block.v.byteLength;
      block = next;
    }
    io.step(step);
  }
  live -= block.k.byteLength + block.v.byteLength + job.q.byteLength;
  const out = new Float32Array(H * rows * Dv);
  live += out.byteLength;
  if (live > peak) peak = live;
  for (let row = 0; row < H * rows; row++)
    for (let c = 0; c < Dv; c++) out[row * Dv + c] = l[row]! > 0 ? acc[row * Dv + c]! / l[row]! : 0;
  return { device: job.device, peakBytes: peak, bytesSent, spans, out, entries, transferMs };
}

/** Device d's query shard and K/V shard, copied out of the [H, T, D] inputs. */
function ringJobs({ q, k, v }: AttentionInputs, p: P, s: AttentionShape): RingJob[] {
  const n = p.devices;
  const off = s.Tk - s.Tq;
  const maxCols = Math.max(...Array.from({ length: n }, (_, d) => shard(s.Tk, n, d)).map(([a, b]) => b - a));
  const rowsOf = (src: Float32Array, heads: number, T: number, width: number, a: number, b: number) => {
    const dst = new Float32Array(heads * (b - a) * width);
    for (let h = 0; h < heads; h++) dst.set(src.subarray((h * T + a) * width, (h * T + b) * width), h * (b - a) * width);
    return dst;
  };
  return Array.from({ length: n }, (_, d) => {
    const [qa, qb] = shard(s.Tq, n, d);
    const [ka, kb] = shard(s.Tk, n, d);
    return {
      device: d,
      devices: n,
      H: s.H,
      Hkv: s.Hkv,
      rows: qb - qa,
      D: s.D,
      Dv: s.Dv,
      scale: scaleOf(p, s.D),
      causal: p.causal,
      qPos0: off + qa,
      q: rowsOf(q.data as Float32Array, s.H, s.Tq, s.D, qa, qb),
      own: { k: rowsOf(k.data as Float32Array, s.Hkv, s.Tk, s.D, ka, kb), v: rowsOf(v.data as Float32Array, s.Hkv, s.Tk, s.Dv, ka, kb), kPos0: ka, cols: kb - ka },
      maxCols,
    };
  });
}

/** All devices as async functions on this thread; a send copies the block into the next inbox. */
async function runInProcess(ctx: RunContext, jobs: RingJob[]): Promise<RingResult[]> {
  const n = jobs.length;
  const inbox = jobs.map(() => ({ queue: [] as Block[], waiting: undefined as ((b: Block) => void) | undefined }));
  let stepsDone = 0;
  return Promise.all(
    jobs.map((job) => {
      const mine = inbox[job.device]!;
      const next = inbox[(job.device + 1) % n]!;
      const io: RingIO = {
        now: epochMs,
        send(b) {
          const copy = { ...b, k: b.k.slice(), v: b.v.slice() };
          if (next.waiting) {
            const w = next.waiting;
            next.waiting = undefined;
            w(copy);
          } else next.queue.push(copy);
        },
        recv: () => (mine.queue.length ? Promise.resolve(mine.queue.shift()!) : new Promise<Block>((r) => (mine.waiting = r))),
        step() {
          ctx.checkCancelled();
          ctx.progress(++stepsDone / (n * n));
        },
      };
      return runRingDevice(io, job, attendBlock);
    }),
  );
}

// ---- worker_threads: one worker per device, kept between runs (unref'd: an idle pool never keeps
// the process alive). A run that fails or is cancelled terminates them: a device left waiting for a
// block that will never come cannot be reused.

const WORKER_SOURCE = () => `
const { parentPort } = require('node:worker_threads');
const attendBlock = (${attendBlock.toString()});
const runRingDevice = (${runRingDevice.toString()});
parentPort.on('message', async (m) => {
  const inbox = [];
  let waiting;
  m.recvPort.on('message', (b) => { if (waiting) { const w = waiting; waiting = undefined; w(b); } else inbox.push(b); });
  const cancel = new Int32Array(m.cancel);
  const io = {
    now: () => performance.timeOrigin + performance.now(),
    send: (b) => m.sendPort.postMessage(b),
    recv: () => inbox.length ? Promise.resolve(inbox.shift()) : new Promise((r) => { waiting = r; }),
    step: (step) => {
      if (Atomics.load(cancel, 0)) throw new Error('cancelled');
      parentPort.postMessage({ type: 'step', step });
    },
  };
  try {
    const r = await runRingDevice(io, m.job, attendBlock);
    parentPort.postMessage({ type: 'done', result: r }, [r.out.buffer]);
  } catch (e) {
    parentPort.postMessage({ type: 'done', error: String((e && e.message) || e) });
  } finally {
    m.recvPort.close();
    m.sendPort.close();
  }
});
`;

interface DeviceWorker {
  postMessage(m: unknown, transfer?: unknown[]): void;
  on(ev: 'message', f: (m: any) => void): void;
  off(ev: 'message', f: (m: any) => void): void;
  on(ev: 'error', f: (e: Error) => void): void;
  off(ev: 'error', f: (e: Error) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
let pool: DeviceWorker[] = [];

async function workerThreads(): Promise<typeof import('node:worker_threads') | undefined> {
  if (!isNode || typeof SharedArrayBuffer === 'undefined') return undefined;
  try {
    const spec = 'node:worker_threads';
    return (await import(/* @vite-ignore */ spec)) as typeof import('node:worker_threads');
  } catch {
    return undefined;
  }
}

async function devicePool(wt: typeof import('node:worker_threads'), n: number): Promise<DeviceWorker[]> {
  const source = WORKER_SOURCE();
  while (pool.length < n) {
    const w = new wt.Worker(source, { eval: true }) as unknown as DeviceWorker;
    w.unref();
    pool.push(w);
  }
  return pool.slice(0, n);
}

/** Stops the device workers (tests; the pool restarts on the next run). */
export async function closeRingDevices(): Promise<void> {
  const old = pool;
  pool = [];
  await Promise.all(old.map((w) => w.terminate()));
}

async function runInWorkers(ctx: RunContext, wt: typeof import('node:worker_threads'), jobs: RingJob[]): Promise<RingResult[]> {
  const n = jobs.length;
  const workers = await devicePool(wt, n);
  const cancel = new SharedArrayBuffer(4);
  const channels = jobs.map(() => new wt.MessageChannel()); // channel d: device d → device d + 1
  let stepsDone = 0;
  let failure: Error | undefined;
  const listeners: [DeviceWorker, (m: any) => void, (e: Error) => void][] = [];
  try {
    const results = await Promise.all(
      jobs.map(
        (job, d) =>
          new Promise<RingResult>((resolve, reject) => {
            const w = workers[d]!;
            const onMessage = (m: { type: string; result?: RingResult; error?: string }) => {
              if (m.type === 'step') {
                try {
                  ctx.checkCancelled();
                  ctx.progress(++stepsDone / (n * n));
                } catch (err) {
                  failure ??= err as Error;
                  Atomics.store(new Int32Array(cancel), 0, 1);
                  reject(err);
                }
              } else if (m.error) reject(failure ?? new Error(`ring attention, device ${d}: ${m.error}`));
              else resolve(m.result!);
            };
            const onError = (err: Error) => reject(new Error(`ring attention, device ${d} died: ${err.message}`));
            listeners.push([w, onMessage, onError]);
            w.on('message', onMessage);
            w.on('error', onError);
            w.ref();
            const own = job.own;
            w.postMessage({ job, sendPort: channels[d]!.port1, recvPort: channels[(d + n - 1) % n]!.port2, cancel }, [
              channels[d]!.port1,
              channels[(d + n - 1) % n]!.port2,
              job.q.buffer,
              own.k.buffer,
              own.v.buffer,
            ]);
          }),
      ),
    );
    return results;
  } catch (err) {
    // Devices may be waiting on a block that will never come: these workers cannot be reused.
    Atomics.store(new Int32Array(cancel), 0, 1);
    await closeRingDevices();
    throw err instanceof CancelledError || failure instanceof CancelledError ? new CancelledError() : err;
  } finally {
    for (const [w, onMessage, onError] of listeners) {
      w.off('message', onMessage);
      w.off('error', onError);
      w.unref();
    }
  }
}

/** Bytes device d holds at most (what runRingDevice counts), for the cost model. */
function devicePeakBytes(s: AttentionShape, rows: number, cols: number, maxCols: number): number {
  const q = s.H * rows * s.D * 4;
  const state = s.H * rows * (2 + s.Dv) * 8 + Math.max(1, maxCols) * 8;
  const block = s.Hkv * maxCols * (s.D + s.Dv) * 4;
  const steady = q + state + (cols === maxCols ? 2 * block : block + s.Hkv * cols * (s.D + s.Dv) * 4);
  return Math.max(steady, state + s.H * rows * s.Dv * 4 + block);
}

const NO_BIAS = 'attention (ring): the bias input is not supported by the ring variant; use flash for biased attention';

async function runOnDevices(ctx: RunContext, ins: AttentionInputs, p: P, s: AttentionShape): Promise<{ out: Tensor; devices: MetricsValue }> {
  if (ins.bias?.terms.length) throw new Error(NO_BIAS);
  checkDevices('ring', p.devices, s.Tq, s.Tk);
  const t0 = epochMs();
  const jobs = ringJobs(ins, p, s);
  const wt = p.transport === 'auto' ? await workerThreads() : undefined;
  const results = wt ? await runInWorkers(ctx, wt, jobs) : await runInProcess(ctx, jobs);
  // The devices' memory, as each counted it (all of it lives in this process: one heap per worker).
  const devicesPeak = results.reduce((a, r) => a + r.peakBytes, 0);
  ctx.track(devicesPeak);
  ctx.release(devicesPeak);
  const out = new Float32Array(s.H * s.Tq * s.Dv);
  results.forEach((r, d) => {
    const [qa, qb] = shard(s.Tq, p.devices, d);
    for (let h = 0; h < s.H; h++) out.set(r.out.subarray(h * (qb - qa) * s.Dv, (h + 1) * (qb - qa) * s.Dv), (h * s.Tq + qa) * s.Dv);
  });
  const blockBytes = s.Hkv * Math.ceil(s.Tk / p.devices) * (s.D + s.Dv) * 4;
  const transferMs = Math.max(...results.map((r) => r.transferMs));
  const devices = deviceMetrics(results, t0, {
    transport: wt ? 'worker_threads' : 'in-process',
    overlap: wt
      ? 'each device posts its block to the next before computing on it, so the copy travels while it computes: timing.transferMs is one bare block transfer, timing.sendMs + waitMs what the compute did not hide (waits also include idling behind a slower neighbour: causal masking loads devices unevenly)'
      : 'none: in-process devices take turns on one thread (a send is a copy between two computes)',
    steps: p.devices,
    extra: { bytesSentPerStep: blockBytes, scoreEntries: results.reduce((a, r) => a + r.entries, 0) },
    timing: { transferMs: Math.round(transferMs * 1000) / 1000 },
  });
  return { out: f32([s.H, s.Tq, s.Dv], out, ['H', 'T', 'D']), devices };
}

function ringCost(s: AttentionShape, p: P) {
  const n = p.devices;
  const maxCols = Math.ceil(s.Tk / n);
  let workspace = 0;
  for (let d = 0; d < n; d++) {
    const [qa, qb] = shard(s.Tq, n, d);
    const [ka, kb] = shard(s.Tk, n, d);
    workspace += devicePeakBytes(s, qb - qa, kb - ka, maxCols);
  }
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
      'Exact attention with Q, K, V sharded by sequence across simulated devices; K/V blocks travel round the ring (each posted on before it is computed on: double buffering) while each device folds them into its rows with an online softmax, so each holds O(T/devices · D). Where the engine runs in Node (CLI, tests, exported modules) each device is a worker_thread with its own memory; in the editor (a browser Web Worker) the same device program runs in-process, devices taking turns. The `devices` output gives per-device peak memory, bytes sent per step, compute/send/wait times per step, one bare block transfer (transferMs) and lanes for the Timeline. Bias inputs are refused.',
    formula: "device d, step s: block j = (d − s) mod n; m' = max(m, rowmax(Q_d K_jᵀ)), ℓ' = ℓ·e^(m−m') + Σe^(S−m'), O' = O·e^(m−m') + e^(S−m')·V_j; O_d = O/ℓ",
    references: [{ title: 'Ring Attention with Blockwise Transformers for Near-Infinite Context', year: 2023 }],
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
