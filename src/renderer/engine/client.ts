// Starts the engine worker and wraps it with Comlink. Cancellation: a SharedArrayBuffer flag the
// kernels poll once per tile (no message round trip) where the page is cross-origin isolated,
// else a cancel message (which waits for the worker to reach its next await).
import * as Comlink from 'comlink';
import type { EngineService } from '../../engine/run/service.js';
import type { WorkerExtras } from '../engine.worker.js';

export type EngineApi = Comlink.Remote<EngineService & WorkerExtras>;

export interface EngineClient {
  api: EngineApi;
  /** Whether cancel is immediate (shared flag) or a message. */
  sharedCancel: boolean;
  cancel(): void;
  terminate(): void;
}

export function startEngine(readData?: (path: string) => Promise<Uint8Array>): EngineClient {
  const worker = new Worker(new URL('../engine.worker.ts', import.meta.url), { type: 'module', name: 'ctxlab-engine' });
  const api = Comlink.wrap<EngineService & WorkerExtras>(worker);
  const sharedCancel = typeof SharedArrayBuffer !== 'undefined' && globalThis.crossOriginIsolated === true;
  let flag: Int32Array | undefined;
  if (readData) void api.setFileReader(Comlink.proxy(readData));
  if (sharedCancel) {
    flag = new Int32Array(new SharedArrayBuffer(4));
    void api.setCancelBuffer(flag.buffer as SharedArrayBuffer);
  }
  return {
    api,
    sharedCancel,
    cancel() {
      if (flag) Atomics.store(flag, 0, 1);
      else void api.cancel();
    },
    terminate() {
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}

export { Comlink };
