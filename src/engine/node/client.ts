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
  /** Asks nodes that work in steps to finish early and keep what they have (see RunContext.stopRequested). */
  stop(): void;
  close(): Promise<void>;
}

/**
 * A `Comlink.proxy` argument (the CLI's event callback) travels as a MessagePort whose other end
 * stays here, listening. When the call fails before its message leaves — arguments that cannot be
 * cloned, a stack overflow while cloning — nothing ever closes that port and Node never exits.
 * Comlink's own proxy handler, except that the ports made during a call are handed to `capture`,
 * so the engine that made the call closes them in close().
 */
let capture: MessagePort[] | undefined;
const proxyHandler = Comlink.transferHandlers.get('proxy')!;
Comlink.transferHandlers.set('proxy', {
  canHandle: proxyHandler.canHandle,
  deserialize: proxyHandler.deserialize,
  serialize(obj: unknown) {
    const { port1, port2 } = new MessageChannel();
    Comlink.expose(obj, port1);
    capture?.push(port1);
    return [port2, [port2]];
  },
});

/** The worker died (an uncaught error, out of memory, an exit): every pending and later call rejects with this. */
export class EngineWorkerDied extends Error {
  override name = 'EngineWorkerDied';
}

/**
 * Starts `entry`, a worker_thread module that exposes an EngineService with its registry (the
 * node library's is src/lab/worker.ts; the engine itself knows no registry).
 */
export async function spawnEngineWorker(entry: URL): Promise<EngineWorker> {
  // From source (tests, tsx) the worker registers the TypeScript loader first; `--import tsx` in a
  // worker's execArgv is not honoured by Node 20.
  const worker = entry.pathname.endsWith('.ts')
    ? new Worker(
        `import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(entry.href)});`,
        { eval: true, type: 'module' } as ConstructorParameters<typeof Worker>[1],
      )
    : new Worker(entry);
  // A worker that dies (a crash, out of memory) rejects every pending call instead of hanging it.
  const failed = new Promise<never>((_, reject) => {
    worker.once('error', (err) => reject(new EngineWorkerDied(`engine worker failed: ${err.message}`)));
    worker.once('exit', (code) => reject(new EngineWorkerDied(`engine worker exited with code ${code}`)));
  });
  failed.catch(() => {});
  const remote = Comlink.wrap<EngineService>(nodeEndpoint(worker));
  const callbackPorts: MessagePort[] = [];
  const api = new Proxy(remote, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function' || prop === 'then') return value;
      return (...args: unknown[]) => {
        // Comlink serializes the arguments synchronously inside the call: the ports it makes are this call's.
        capture = callbackPorts;
        try {
          return Promise.race([(value as (...a: unknown[]) => Promise<unknown>)(...args), failed]);
        } finally {
          capture = undefined;
        }
      };
    },
  });
  const close = async () => {
    for (const port of callbackPorts.splice(0)) port.close();
    remote[Comlink.releaseProxy]();
    await worker.terminate();
  };
  const token = new CancelToken(new SharedArrayBuffer(4));
  try {
    await api.setCancelBuffer(token.flag.buffer as SharedArrayBuffer);
  } catch (err) {
    await close(); // a worker that failed to start is not left running
    throw err;
  }
  return { api, cancel: () => token.cancel(), stop: () => token.stop(), close };
}
