// Simulated devices for the distributed attention variants (ring, dilated-distributed): how a
// sequence is cut into per-device shards; how the devices run (a worker_thread each, with its own
// heap and kernel instance, where the engine runs in Node; else async functions on one thread);
// and the `devices` metrics that the profile and the editor's device lanes read — per device its
// counted (and, in workers, measured) peak bytes, bytes sent, and its compute, send and wait spans;
// per step the slowest device's compute, send and wait times.
import { z } from 'zod';
import type { MetricValue, MetricsValue } from '../../engine/values.js';
import { CancelledError, type RunContext } from '../../engine/node.js';
import { wasmKernelUnavailable } from '../../kernels/wasm/attention.js';
import { runDeviceJob, type DeviceIO, type DeviceJob, type DeviceKernel, type DeviceResult } from './device-programs.js';

/** Span kinds in a device's lane (the numbers are what workers report, to keep messages small). */
export const SPAN_KINDS = ['compute', 'send', 'wait'] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];

const stepTimes = { computeMs: z.number(), sendMs: z.number(), waitMs: z.number() };

/** One device's row in the Timeline: its spans [kind, step, startMs, endMs], ms since the node started. */
export const deviceLane = z.object({
  device: z.number().int().describe('device index'),
  peakBytes: z.number().describe('its peak bytes'),
  bytesSent: z.number().describe('bytes it sent'),
  spans: z.array(z.tuple([z.enum(SPAN_KINDS), z.number().int(), z.number(), z.number()]).refine(([, , start, end]) => end >= start, 'a span ends before it starts')),
});
export const deviceLanes = z.array(deviceLane).min(1);

/** What a node across simulated devices reports on its `devices` port (the Timeline reads `timing.lanes` through it). */
export const deviceMetricsSchema = z.looseObject({
  devices: z.number().int().describe('simulated devices'),
  transport: z.enum(['worker_threads', 'in-process']).describe('a worker_thread per device, or devices taking turns in-process'),
  kernel: z.enum(['wasm', 'js']).describe("what each device computes its blocks with: the fused wasm kernel (one thread, its own instance and wasm memory) on the wasm backend, else a plain-JS blockwise loop"),
  overlap: z.string().describe('whether communication overlapped compute, and how to read the times'),
  maxDevicePeakBytes: z.number().describe('the largest peak any device held, counted: the byte lengths of the arrays its program holds (and, on the wasm kernel, the kernel memory a call used)'),
  totalBytesSent: z.number().describe('bytes all devices sent'),
  bytesSentPerStep: z.number().optional().describe('ring: the K/V block one device sends per step'),
  gatheredBytes: z.number().optional().describe("dilated-distributed: bytes the all-gathers delivered (each device's own rows not counted)"),
  scoreEntries: z.number().describe('score entries computed'),
  maxDeviceScoreEntries: z.number().describe('the most score entries one device computed (how evenly the work was spread)'),
  perDevice: z
    .array(z.object({ device: z.number().int(), peakBytes: z.number(), bytesSent: z.number(), scoreEntries: z.number() }))
    .describe('each device: peak bytes, bytes sent and score entries computed'),
  measured: z
    .object({
      maxDevicePeakBytes: z.number().describe("the most any device's worker held: its thread's array-buffer bytes above where the run started (process.memoryUsage().arrayBuffers, sampled at each step; garbage not yet collected included), plus its kernel's wasm memory in use"),
      perDevice: z.array(z.object({ device: z.number().int(), peakBytes: z.number(), kernelWasmBytes: z.number() })),
    })
    .optional()
    .describe('measured in each device worker (worker_threads only; changes from run to run)'),
  timing: z
    .looseObject({
      ...stepTimes,
      transferMs: z.number().optional().describe('ring: one block transfer with nothing to hide it'),
      perDevice: z.array(z.object({ device: z.number().int(), ...stepTimes })),
      steps: z.array(z.object({ step: z.number().int(), ...stepTimes })).describe("each step: the slowest device's times"),
      lanes: deviceLanes,
    })
    .describe('clock readings (they change from run to run)'),
});
export type DeviceMetrics = z.infer<typeof deviceMetricsSchema>;

/** The top-level names of the `devices` metrics (checks are validated against them). */
export const DEVICE_METRIC_KEYS = Object.keys(deviceMetricsSchema.shape);

/** What one device reports: spans as flat [kind, step, start, end] quadruples, times in epoch ms. */
export interface DeviceReport {
  device: number;
  peakBytes: number;
  bytesSent: number;
  spans: number[];
  measuredPeakBytes?: number;
  kernelWasmBytes?: number;
  /** Score entries it computed. */
  entries: number;
}

/** Milliseconds since the epoch, comparable across worker threads (each has its own timeOrigin). */
export const epochMs = () => performance.timeOrigin + performance.now();

/** Device d's share [start, end) of n items over `devices` devices: balanced, the first ones never shorter. */
export function shard(n: number, devices: number, d: number): [number, number] {
  return [Math.floor((d * n) / devices), Math.floor(((d + 1) * n) / devices)];
}

/** Refuses a device count the sequence cannot be cut into (every device needs a row). */
export function checkDevices(variant: string, devices: number, Tq: number, Tk: number): void {
  if (devices > Math.min(Tq, Tk))
    throw new Error(`attention (${variant}): params.devices = ${devices} is more than the sequence has rows (${Math.min(Tq, Tk)}); use at most that many devices`);
}

/**
 * The `devices` metrics: scalars for checks (maxDevicePeakBytes, bytesSentPerStep, …) and a row per
 * device, all of them counts that every run repeats; and under `timing`, what a clock measured: the
 * totals, a row per device, a row per step (the slowest device's times) and the `lanes` the
 * editor's timeline draws. `t0` (epoch ms) is the node's start: lane times are ms since then.
 */
export function deviceMetrics(
  reports: DeviceReport[],
  t0: number,
  info: { transport: string; kernel: DeviceKernel; overlap: string; steps: number; extra?: Record<string, MetricValue>; timing?: Record<string, MetricValue> },
): MetricsValue {
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const steps = Array.from({ length: info.steps }, () => [0, 0, 0]);
  const totals = reports.map(() => [0, 0, 0]);
  const lanes = reports.map((r, d) => {
    const spans: MetricValue[] = [];
    for (let x = 0; x + 3 < r.spans.length; x += 4) {
      const [kind, step, start, end] = [r.spans[x]!, r.spans[x + 1]!, r.spans[x + 2]!, r.spans[x + 3]!];
      const ms = end - start;
      totals[d]![kind]! += ms;
      const row = steps[step];
      if (row) row[kind] = Math.max(row[kind]!, ms);
      spans.push([SPAN_KINDS[kind]!, step, round(start - t0), round(end - t0)]);
    }
    return { device: r.device, peakBytes: r.peakBytes, bytesSent: r.bytesSent, spans };
  });
  const sum = (k: number) => steps.reduce((a, s) => a + s[k]!, 0);
  const measured: Record<string, MetricValue> = reports.every((r) => r.measuredPeakBytes !== undefined)
    ? {
        measured: {
          maxDevicePeakBytes: Math.max(...reports.map((r) => r.measuredPeakBytes!)),
          perDevice: reports.map((r) => ({ device: r.device, peakBytes: r.measuredPeakBytes!, kernelWasmBytes: r.kernelWasmBytes ?? 0 })),
        },
      }
    : {};
  return {
    kind: 'metrics',
    values: {
      devices: reports.length,
      transport: info.transport,
      kernel: info.kernel,
      overlap: info.overlap,
      maxDevicePeakBytes: Math.max(...reports.map((r) => r.peakBytes)),
      totalBytesSent: reports.reduce((a, r) => a + r.bytesSent, 0),
      scoreEntries: reports.reduce((a, r) => a + r.entries, 0),
      maxDeviceScoreEntries: Math.max(...reports.map((r) => r.entries)),
      ...info.extra,
      perDevice: reports.map((r) => ({ device: r.device, peakBytes: r.peakBytes, bytesSent: r.bytesSent, scoreEntries: r.entries })),
      ...measured,
      timing: {
        computeMs: round(sum(0)),
        sendMs: round(sum(1)),
        waitMs: round(sum(2)),
        ...info.timing,
        perDevice: reports.map((r, d) => ({ device: r.device, computeMs: round(totals[d]![0]!), sendMs: round(totals[d]![1]!), waitMs: round(totals[d]![2]!) })),
        steps: steps.map((s, step) => ({ step, computeMs: round(s[0]!), sendMs: round(s[1]!), waitMs: round(s[2]!) })),
        lanes,
      },
    },
  };
}

// ---- running the devices: a worker_thread each where the engine runs in Node, else in-process ----

/**
 * Which kernel a device computes its blocks with: the fused wasm kernel (one thread, its own
 * instance) when the run's backend is wasm and the kernel can start, else the plain-JS loop.
 */
export function deviceKernel(backend: string): DeviceKernel {
  return backend === 'wasm' && !wasmKernelUnavailable() ? 'wasm' : 'js';
}

interface DeviceWorker {
  postMessage(m: unknown, transfer?: unknown[]): void;
  on(ev: 'message', f: (m: any) => void): void;
  off(ev: 'message', f: (m: any) => void): void;
  on(ev: 'error', f: (e: Error) => void): void;
  off(ev: 'error', f: (e: Error) => void): void;
  once(ev: 'message', f: (m: any) => void): void;
  once(ev: 'error', f: (e: Error) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}

type WorkerThreads = typeof import('node:worker_threads');
const isNode = typeof process !== 'undefined' && !!process.versions?.node;
let pool: DeviceWorker[] = [];
/** One distributed node at a time owns the workers. */
let lock: Promise<unknown> = Promise.resolve();

async function workerThreads(): Promise<WorkerThreads | undefined> {
  if (!isNode) return undefined;
  try {
    const spec = 'node:worker_threads';
    return (await import(/* @vite-ignore */ spec)) as WorkerThreads;
  } catch {
    return undefined;
  }
}

/**
 * Starts a device worker: device-worker.js beside this module once bundled (dist/), or from
 * source (tests, tsx) device-worker.ts with the TypeScript loader registered first (Node 20 does
 * not honour `--import tsx` in a worker's execArgv).
 */
async function startWorker(wt: WorkerThreads): Promise<DeviceWorker> {
  const here = import.meta.url;
  const fromSource = here.endsWith('.ts');
  const entry = new URL(fromSource ? './device-worker.ts' : './device-worker.js', here);
  const w = (
    fromSource
      ? new wt.Worker(`import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(entry.href)});`, { eval: true, type: 'module' } as ConstructorParameters<WorkerThreads['Worker']>[1])
      : new wt.Worker(entry)
  ) as unknown as DeviceWorker;
  await new Promise<void>((resolve, reject) => {
    w.once('message', () => resolve());
    w.once('error', (err) => reject(new Error(`a device worker (${entry.pathname}) could not start: ${err.message}`)));
  });
  w.unref(); // an idle pool never keeps the process alive (ref'd while it works)
  return w;
}

/** Stops the device workers (tests; the pool restarts on the next run). */
export async function closeDevices(): Promise<void> {
  const old = pool;
  pool = [];
  await Promise.all(old.map((w) => w.terminate()));
}

/**
 * Runs one program per device and returns their results in device order. `links` are the pairs of
 * devices that talk (a MessageChannel each). `what` names the node in errors.
 */
export function runDevices(
  ctx: RunContext,
  jobs: DeviceJob[],
  opts: { transport: 'auto' | 'in-process'; links: [number, number][]; steps: number; what: string },
): Promise<{ results: DeviceResult[]; transport: 'worker_threads' | 'in-process' }> {
  const run = lock.then(async () => {
    const wt = opts.transport === 'auto' ? await workerThreads() : undefined;
    if (!wt) return { results: await runInProcess(ctx, jobs, opts.steps), transport: 'in-process' as const };
    return { results: await runInWorkers(ctx, wt, jobs, opts), transport: 'worker_threads' as const };
  });
  lock = run.catch(() => undefined);
  return run;
}

/** All devices as async functions on this thread; a send copies the message's arrays into the peer's inbox. */
async function runInProcess(ctx: RunContext, jobs: DeviceJob[], steps: number): Promise<DeviceResult[]> {
  const boxes = new Map<string, { queue: unknown[]; waiting?: (x: unknown) => void }>();
  const box = (from: number, to: number) => {
    const key = `${from}>${to}`;
    if (!boxes.has(key)) boxes.set(key, { queue: [] });
    return boxes.get(key)!;
  };
  const copy = (msg: any) => Object.fromEntries(Object.entries(msg).map(([k, x]) => [k, ArrayBuffer.isView(x) ? (x as Float32Array).slice() : x]));
  let done = 0;
  return Promise.all(
    jobs.map((job) => {
      const io: DeviceIO = {
        now: epochMs,
        send(to, msg) {
          const b = box(job.device, to);
          const w = b.waiting;
          if (w) {
            b.waiting = undefined;
            w(copy(msg));
          } else b.queue.push(copy(msg));
        },
        recv(from) {
          const b = box(from, job.device);
          return b.queue.length ? Promise.resolve(b.queue.shift()) : new Promise((r) => (b.waiting = r));
        },
        step() {
          ctx.checkCancelled();
          ctx.progress(++done / (steps * jobs.length));
        },
      };
      return runDeviceJob(io, job);
    }),
  );
}

async function runInWorkers(ctx: RunContext, wt: WorkerThreads, jobs: DeviceJob[], opts: { links: [number, number][]; steps: number; what: string }): Promise<DeviceResult[]> {
  const n = jobs.length;
  while (pool.length < n) pool.push(await startWorker(wt));
  const workers = pool.slice(0, n);
  const cancel = new SharedArrayBuffer(4);
  const links = jobs.map(() => [] as [number, MessagePort][]);
  for (const [a, b] of opts.links) {
    const ch = new wt.MessageChannel();
    links[a]!.push([b, ch.port1 as unknown as MessagePort]);
    links[b]!.push([a, ch.port2 as unknown as MessagePort]);
  }
  let done = 0;
  let failure: Error | undefined;
  const listeners: [DeviceWorker, (m: any) => void, (e: Error) => void][] = [];
  try {
    return await Promise.all(
      jobs.map(
        (job, d) =>
          new Promise<DeviceResult>((resolve, reject) => {
            const w = workers[d]!;
            const onMessage = (m: { type: string; result?: DeviceResult; error?: string }) => {
              if (m.type === 'step') {
                try {
                  ctx.checkCancelled();
                  ctx.progress(++done / (opts.steps * n));
                } catch (err) {
                  failure ??= err as Error;
                  Atomics.store(new Int32Array(cancel), 0, 1);
                  reject(err);
                }
              } else if (m.type === 'done') {
                if (m.error) reject(failure ?? new Error(`${opts.what}, device ${d}: ${m.error}`));
                else resolve(m.result!);
              }
            };
            const onError = (err: Error) => reject(new Error(`${opts.what}, device ${d} died: ${err.message}`));
            listeners.push([w, onMessage, onError]);
            w.on('message', onMessage);
            w.on('error', onError);
            w.ref();
            // The job's arrays are cloned, not transferred: a transferred buffer stays on this
            // thread's books, and the worker measures its own (process.memoryUsage().arrayBuffers).
            const ports = links[d]!.map(([, p]) => p);
            w.postMessage({ job, links: links[d], cancel }, ports);
          }),
      ),
    );
  } catch (err) {
    // Devices may be waiting on a message that will never come: these workers cannot be reused.
    Atomics.store(new Int32Array(cancel), 0, 1);
    await closeDevices();
    throw err instanceof CancelledError || failure instanceof CancelledError ? new CancelledError() : err;
  } finally {
    for (const [w, onMessage, onError] of listeners) {
      w.off('message', onMessage);
      w.off('error', onError);
      w.unref();
    }
  }
}
