// Starts the engine in a Node worker_thread and talks to it through Comlink. Cancellation goes
// through a SharedArrayBuffer flag that kernels poll per tile, so it needs no message round trip.
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { EngineService } from '../run/service.js';
import { CancelToken } from '../run/runtime.js';

export interface EngineWorker {
  api: Comlink.Remote<EngineService>;
  cancel(): void;
  close(): Promise<void>;
}

export async function startEngineWorker(): Promise<EngineWorker> {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url);
  // From source (tests, tsx), the worker needs the TypeScript loader too.
  const execArgv = fromSource && !process.execArgv.some((a) => a.includes('tsx')) ? [...process.execArgv, '--import', 'tsx'] : process.execArgv;
  const worker = new Worker(url, { execArgv });
  const api = Comlink.wrap<EngineService>(nodeEndpoint(worker));
  const token = new CancelToken(new SharedArrayBuffer(4));
  await api.setCancelBuffer(token.flag.buffer as SharedArrayBuffer);
  return {
    api,
    cancel: () => token.cancel(),
    close: async () => {
      api[Comlink.releaseProxy]();
      await worker.terminate();
    },
  };
}
