/// <reference path="./comlink-node.d.ts" />
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
  // From source (tests, tsx) the worker registers the TypeScript loader first; `--import tsx` in a
  // worker's execArgv is not honoured by Node 20.
  const worker = fromSource
    ? new Worker(
        `import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)});`,
        { eval: true, type: 'module' } as ConstructorParameters<typeof Worker>[1],
      )
    : new Worker(new URL('./worker.js', import.meta.url));
  // A worker that dies (a crash, out of memory) rejects every pending call instead of hanging it.
  const failed = new Promise<never>((_, reject) => {
    worker.once('error', (err) => reject(new Error(`engine worker failed: ${err.message}`)));
    worker.once('exit', (code) => reject(new Error(`engine worker exited with code ${code}`)));
  });
  failed.catch(() => {});
  const remote = Comlink.wrap<EngineService>(nodeEndpoint(worker));
  const api = new Proxy(remote, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function' || prop === 'then') return value;
      return (...args: unknown[]) => Promise.race([(value as (...a: unknown[]) => Promise<unknown>)(...args), failed]);
    },
  });
  const token = new CancelToken(new SharedArrayBuffer(4));
  await api.setCancelBuffer(token.flag.buffer as SharedArrayBuffer);
  return {
    api,
    cancel: () => token.cancel(),
    close: async () => {
      remote[Comlink.releaseProxy]();
      await worker.terminate();
    },
  };
}
