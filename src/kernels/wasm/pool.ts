// One pool of wasm kernel threads for every kernel (attention, scan, quantize): worker_threads in
// Node, Web Workers in a browser (a blob: module). A kernel is its module instantiated over one
// shared WebAssembly.Memory on this thread and, on first use, in each worker; a call hands its items
// (jobs, channel or group ranges) out from an atomic counter in that memory, this thread taking
// items too (so a small call finishes here before a worker has woken) and ticking between them.
// Without SharedArrayBuffer, or when the workers cannot start, a kernel runs on this thread alone
// and the caller is told why. The pool knows nothing of what the kernels compute.
import { decodeBase64, heapBaseOf, lazyKernel } from './module.js';

/** The name of the kernel Web Workers (self.name there; devtools show it). */
export const KERNEL_WORKER_NAME = 'wasm-kernel';

/** A kernel module over its own shared memory (unshared where SharedArrayBuffer is missing). */
export interface SharedKernel<E> {
  /** Its key in the workers' instance tables. */
  id: number;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** This thread's instance. */
  exports: E;
  /** First free byte after the module's static data, 64-byte aligned. */
  heapBase: number;
}

let kernels = 0;

/**
 * A kernel made on first use; `unavailable()` says why it cannot start (e.g. no wasm SIMD), else
 * undefined. `pages`: the memory's initial size in 64 KiB pages.
 */
export function sharedKernel<E extends { __heap_base: WebAssembly.Global }>(base64: string, what: string, pages = 16) {
  return lazyKernel(what, (): SharedKernel<E> => {
    const bytes = decodeBase64(base64);
    // Without SharedArrayBuffer (a page that is not cross-origin isolated) a shared memory cannot be
    // made: the same code then runs over an unshared memory, on this thread only.
    const shared = sharedMemoryAvailable();
    const module = new WebAssembly.Module(shared ? bytes : unsharedMemoryImport(bytes));
    const memory = new WebAssembly.Memory({ initial: pages, maximum: 65536, shared });
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as E;
    return { id: kernels++, module, memory, exports, heapBase: heapBaseOf(exports) };
  });
}

const sharedMemoryAvailable = () => typeof SharedArrayBuffer !== 'undefined';

/**
 * The module with its memory import unshared (limits flag 0x03 → 0x01): the kernels' atomics are
 * valid on an unshared memory (the threads proposal allows them; only wait/notify would trap).
 */
export function unsharedMemoryImport(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const b = bytes.slice();
  let p = 8; // magic and version
  const leb = () => {
    let r = 0;
    for (let s = 0; ; s += 7) {
      const x = b[p++]!;
      r |= (x & 127) << s;
      if (!(x & 128)) return r;
    }
  };
  while (p < b.length) {
    const id = b[p++]!;
    const size = leb();
    const end = p + size;
    if (id === 2) {
      // The import section: the build allows env.memory only (scripts/build-wasm.sh checks).
      for (let i = leb(); i > 0; i--) {
        for (let name = 0; name < 2; name++) {
          const len = leb(); // module name, then field name
          p += len;
        }
        if (b[p++] !== 2) break; // not a memory
        if (b[p] === 3) b[p] = 1;
        return b;
      }
    }
    p = end;
  }
  throw new Error('the kernel module has no memory import to unshare');
}

// ---- thread count ----

let configuredThreads: number | undefined;
/** The wasm backend's thread count (undefined: CTXLAB_WASM_THREADS in Node, else the cores available). */
export function setWasmKernelThreads(n: number | undefined): void {
  configuredThreads = n;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

async function hostCores(): Promise<number> {
  if (!isNode) return Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 1);
  const spec = 'node:os';
  const os = (await import(/* @vite-ignore */ spec)) as typeof import('node:os');
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/** The count asked for: the option, setWasmKernelThreads, in Node CTXLAB_WASM_THREADS, else the cores available. */
export async function askedThreads(requested?: number): Promise<number> {
  const env = isNode ? Number(process.env.CTXLAB_WASM_THREADS) || undefined : undefined;
  return Math.max(1, Math.floor(requested ?? configuredThreads ?? env ?? (await hostCores())));
}

/** Why the kernels run on one thread here whatever the count asked (undefined: they can use many). */
export function singleThreadReason(): string | undefined {
  if (!sharedMemoryAvailable()) return 'SharedArrayBuffer is unavailable (the page is not cross-origin isolated), so its threads cannot share memory';
  return poolError;
}

/** The thread count a run uses: askedThreads, or 1 when the kernels cannot share memory (singleThreadReason). */
export async function kernelThreads(requested?: number): Promise<number> {
  return singleThreadReason() ? 1 : askedThreads(requested);
}

// ---- the workers ----

/** What a worker runs: each kernel's module over its memory, one export call (or a range queue) per message. */
const WORKER_BODY = `
const kernels = {};
const call = (m) => {
  const k = kernels[m.id], f = k.ex[m.fn];
  if (!m.range) return f(...m.args);
  // Items from the shared counter until none is left or the cancel flag is set: item i covers
  // [i·chunk, min((i + 1)·chunk, total)), passed between args and post.
  const { counter, cancel, n, chunk, total, post } = m.range;
  const sync = new Int32Array(k.memory.buffer);
  let done = 0;
  for (let i = Atomics.add(sync, counter >> 2, 1); i < n && !Atomics.load(sync, cancel >> 2); i = Atomics.add(sync, counter >> 2, 1), done++)
    f(...m.args, i * chunk, Math.min(total, (i + 1) * chunk), ...post);
  return done;
};
on((m) => {
  if (m.type === 'init') {
    kernels[m.id] = { memory: m.memory, ex: new WebAssembly.Instance(m.module, { env: { memory: m.memory } }).exports };
    post({ type: 'ready' });
  } else if (m.type === 'run') {
    let done = 0, error;
    try { done = call(m); } catch (e) { error = String(e && e.message || e); }
    post({ type: 'done', done, error });
  }
});
`;
const NODE_WORKER = `const { parentPort } = require('node:worker_threads');
const on = (f) => parentPort.on('message', f), post = (m) => parentPort.postMessage(m);${WORKER_BODY}`;
const WEB_WORKER = `const on = (f) => { self.onmessage = (e) => f(e.data); }, post = (m) => self.postMessage(m);${WORKER_BODY}`;

interface RangeMessage {
  counter: number;
  cancel: number;
  n: number;
  chunk: number;
  total: number;
  post: number[];
}

interface PoolWorker {
  /** Instantiates the kernel in the worker unless it already has. */
  ensure(k: SharedKernel<unknown>): Promise<void>;
  /** Resolves with the items the worker ran (range calls; a queue export's own return value). */
  run(k: SharedKernel<unknown>, fn: string, args: number[], range?: RangeMessage): Promise<number>;
  /** Node: whether the worker keeps the process alive (only while it works). */
  hold(on: boolean): void;
  terminate(): void;
}

let workers: PoolWorker[] = [];
/** Why the pool could not start (the kernels then run on this thread). */
let poolError: string | undefined;

/**
 * A pool worker over a raw worker: each message it is sent gets exactly one answer (ready, done),
 * and calls are serial (see exclusive), so one pending reply at a time; an error event rejects it.
 */
function poolWorker(post: (m: unknown) => void, listen: (onMessage: (m: any) => void, onError: (e: Error) => void) => void, rest: Pick<PoolWorker, 'hold' | 'terminate'>): PoolWorker {
  let pending: { ok(m: any): void; fail(e: Error): void } | undefined;
  const take = () => {
    const p = pending;
    pending = undefined;
    return p;
  };
  listen(
    (m) => take()?.ok(m),
    (e) => take()?.fail(e),
  );
  const ask = (m: unknown) =>
    new Promise<any>((ok, fail) => {
      pending = { ok, fail };
      post(m);
    });
  const has = new Set<number>();
  return {
    ...rest,
    async ensure(k) {
      if (has.has(k.id)) return;
      await ask({ type: 'init', id: k.id, module: k.module, memory: k.memory });
      has.add(k.id);
    },
    async run(k, fn, args, range) {
      const r = await ask({ type: 'run', id: k.id, fn, args, range });
      if (r.error) throw new Error(`wasm kernel worker: ${r.error}`);
      return Number(r.done) || 0;
    },
  };
}

async function startWorker(): Promise<PoolWorker> {
  if (isNode) {
    const spec = 'node:worker_threads';
    const { Worker } = (await import(/* @vite-ignore */ spec)) as typeof import('node:worker_threads');
    const w = new Worker(NODE_WORKER, { eval: true });
    w.unref(); // an idle pool never keeps the process alive (held while it works)
    return poolWorker(
      (m) => w.postMessage(m),
      (onMessage, onError) => w.on('message', onMessage).on('error', onError),
      { hold: (on) => void (on ? w.ref() : w.unref()), terminate: () => void w.terminate() },
    );
  }
  const url = URL.createObjectURL(new Blob([WEB_WORKER], { type: 'text/javascript' }));
  const w = new Worker(url, { name: KERNEL_WORKER_NAME });
  URL.revokeObjectURL(url);
  return poolWorker(
    (m) => w.postMessage(m),
    (onMessage, onError) => {
      w.onmessage = (e) => onMessage(e.data);
      w.onerror = (e) => onError(new Error(`a kernel Web Worker failed: ${e.message || 'blocked (see the worker-src policy of the page)'}`));
    },
    { hold: () => {}, terminate: () => w.terminate() },
  );
}

/** n workers that have instantiated k (the pool grows as asked; it never shrinks but on close). */
async function ensureWorkers(k: SharedKernel<unknown>, n: number): Promise<PoolWorker[]> {
  while (workers.length < n) workers.push(await startWorker());
  const used = workers.slice(0, n);
  for (const w of used) {
    w.hold(true); // while it instantiates: a Node worker that is unref'd would not keep init alive
    try {
      await w.ensure(k);
    } finally {
      w.hold(false);
    }
  }
  return used;
}

/** Stops the pool's workers (tests, benchmarks that change thread counts). */
export async function closeKernelPool(): Promise<void> {
  const all = workers;
  workers = [];
  for (const w of all) w.terminate();
}

/** One kernel call at a time: each call owns its kernel's memory layout, and the workers are shared. */
let queue: Promise<unknown> = Promise.resolve();
export function exclusive<T>(f: () => Promise<T>): Promise<T> {
  const run = queue.then(f);
  queue = run.catch(() => undefined);
  return run;
}

// ---- a call ----

/** Items each thread ran in the last call (this thread first): benchmarks read it to see the threads share the work. */
export const poolStats: { lastItems: number[] } = { lastItems: [] };

export interface ThreadOptions {
  /** Threads; default: the configured count (setWasmKernelThreads), else the cores available. */
  threads?: number;
  /** Called at least every ~tickMs with the fraction done; may throw (cancel) to stop the kernel. */
  tick?(fraction: number): void;
  /** Milliseconds between ticks (default 50; 0: after every item). */
  tickMs?: number;
  /** Told why the kernel runs on fewer threads than asked (no SharedArrayBuffer, workers that failed to start). */
  fallback?(reason: string): void;
}

export interface PoolCall {
  /** Names the kernel in the fallback message ("fused wasm attention on 1 thread(s) instead of 2: …"). */
  what: string;
  /** Items to run: this thread takes them from the counter with `local`, the workers with `worker`. */
  n: number;
  /** The byte addresses of two i32s in the kernel's memory: the next item and the cancel flag, both 0. */
  counter: number;
  cancel: number;
  /** Threads in all (this one included): at most n are used. */
  threads: number;
  /** Runs item i on this thread. */
  local(i: number): void;
  /**
   * Worker t (1 ≤ t < threads): `queue`, an export that takes items from the counter itself
   * (fn(...args)); or `range`, an export fn(...args, i0, i1, ...post) over items of `chunk` of `total`.
   */
  worker(t: number): { fn: string; args: number[] } & ({ queue: true } | { chunk: number; total: number; post?: number[] });
}

/**
 * Runs a call's items on this thread and on threads − 1 workers; resolves when every item is done.
 * A tick that throws sets the cancel flag (workers stop after their current item) and rethrows.
 */
export async function runOnPool(k: SharedKernel<unknown>, call: PoolCall, opts: ThreadOptions = {}): Promise<void> {
  const { n } = call;
  const tickMs = opts.tickMs ?? 50;
  const sync = new Int32Array(k.memory.buffer, call.counter, 1);
  const helpers = Math.min(call.threads, n) - 1;
  let used: PoolWorker[] = [];
  if (helpers > 0)
    try {
      used = await ensureWorkers(k, helpers);
    } catch (err) {
      poolError = `its worker threads could not start (${(err as Error).message})`;
      await closeKernelPool();
    }
  const asked = await askedThreads(opts.threads);
  if (asked > 1 && used.length + 1 < Math.min(asked, n)) opts.fallback?.(`${call.what} on ${used.length + 1} thread(s) instead of ${asked}: ${singleThreadReason()}`);
  const all = Promise.all(
    used.map((w, i) => {
      w.hold(true);
      const m = call.worker(i + 1);
      const range = 'queue' in m ? undefined : { counter: call.counter, cancel: call.cancel, n, chunk: m.chunk, total: m.total, post: m.post ?? [] };
      return w.run(k, m.fn, m.args, range);
    }),
  );
  let mine = 0;
  let finished = false;
  void all.then(
    () => (finished = true),
    () => (finished = true),
  );
  try {
    let last = performance.now();
    for (let i = Atomics.add(sync, 0, 1); i < n; i = Atomics.add(sync, 0, 1)) {
      call.local(i);
      mine++;
      const now = performance.now();
      if (opts.tick && now - last >= tickMs) {
        last = now;
        opts.tick(Math.min(1, (i + 1) / n));
      }
    }
    // The workers' last items: tick (a cancel lands) every tickMs until they are done.
    while (!finished) {
      opts.tick?.(1);
      await Promise.race([all, new Promise((r) => setTimeout(r, tickMs))]);
    }
    poolStats.lastItems = [mine, ...(await all)];
  } catch (err) {
    Atomics.store(new Int32Array(k.memory.buffer, call.cancel, 1), 0, 1); // workers stop after their current item
    await all.catch(() => undefined);
    throw err;
  } finally {
    for (const w of used) w.hold(false);
  }
}
