// Starts the engine worker and wraps it with Comlink. Cancellation: a SharedArrayBuffer flag the
// kernels poll once per tile (no message round trip) where the page is cross-origin isolated,
// else a cancel message (which waits for the worker to reach its next await).
import * as Comlink from 'comlink';
import type { EngineService } from '../../engine/run/service.js';
import type { WorkerExtras } from '../engine.worker.js';

export type EngineApi = Comlink.Remote<EngineService & WorkerExtras>;

export interface EngineClient {
  /** Every call rejects with EngineWorkerDied once the worker has died (a crash, out of memory). */
  api: EngineApi;
  /** Whether cancel is immediate (shared flag) or a message. */
  sharedCancel: boolean;
  cancel(): void;
  /** Asks stoppable nodes (training, a search) to end after their current step and keep what they have. */
  stop(): void;
  terminate(): void;
}

/** The worker died: its `error` event fired (an uncaught error, out of memory). Calls to it never return. */
export class EngineWorkerDied extends Error {
  constructor(reason: string) {
    super(`the engine worker stopped: ${reason}`);
    this.name = 'EngineWorkerDied';
  }
}

const newWorker = () => new Worker(new URL('../engine.worker.ts', import.meta.url), { type: 'module', name: 'ctxlab-engine' });

export function startEngine(readData?: (path: string) => Promise<Uint8Array>, makeWorker: () => Worker = newWorker): EngineClient {
  const worker = makeWorker();
  // Comlink waits forever for the answer of a dead worker: every call races this instead.
  const died = new Promise<never>((_, reject) =>
    worker.addEventListener('error', (e) => {
      e.preventDefault();
      reject(new EngineWorkerDied(e.message || 'it crashed (out of memory?)'));
    }, { once: true }),
  );
  died.catch(() => {});
  const remote = Comlink.wrap<EngineService & WorkerExtras>(worker);
  const api = new Proxy(remote, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function' || prop === 'then') return value;
      return (...args: unknown[]) => Promise.race([(value as (...a: unknown[]) => Promise<unknown>)(...args), died]);
    },
  }) as EngineApi;
  const sharedCancel = typeof SharedArrayBuffer !== 'undefined' && globalThis.crossOriginIsolated === true;
  let flag: Int32Array | undefined;
  if (readData) api.setFileReader(Comlink.proxy(readData)).catch(() => {});
  if (sharedCancel) {
    flag = new Int32Array(new SharedArrayBuffer(4));
    api.setCancelBuffer(flag.buffer as SharedArrayBuffer).catch(() => {});
  }
  return {
    api,
    sharedCancel,
    stop() {
      // 0 → 2 only: a cancel already asked for stays a cancel (CancelToken's states).
      if (flag) Atomics.compareExchange(flag, 0, 0, 2);
      else api.stop().catch(() => {});
    },
    cancel() {
      if (flag) Atomics.store(flag, 0, 1);
      else api.cancel().catch(() => {});
    },
    terminate() {
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}

export { Comlink };
