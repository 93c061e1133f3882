// A RunContext for benchmarks: the chosen backend, and the peak of tfjs memory plus tracked scratch,
// sampled at every tile (checkCancelled) — the same sampling the runtime's profiler uses.
import { initBackend } from '../src/engine/backends/tf.js';
import { nodeBackendSetup } from '../src/engine/node/setup.js';
import type { BackendName, RunContext } from '../src/engine/node.js';

export type BenchContext = RunContext & { peak: number };

export async function ctxFor(backend: BackendName): Promise<BenchContext> {
  const { tf, info } = await initBackend(backend, nodeBackendSetup('bench'));
  if (info.name !== backend) throw new Error(`${backend} unavailable: ${info.fallbackReason}`);
  let tracked = 0;
  let peak = 0;
  return {
    nodeId: 'bench', backend, tf,
    checkCancelled: () => {
      peak = Math.max(peak, tf.memory().numBytes + tracked);
    },
    progress: () => {},
    isConnected: () => false,
    track: (b) => {
      tracked += b;
      peak = Math.max(peak, tf.memory().numBytes + tracked);
    },
    release: (b) => (tracked -= b),
    emit: () => {},
    readFile: () => Promise.reject(new Error('no files in benchmarks')),
    openFile: () => Promise.reject(new Error('no files in benchmarks')),
    resolvePath: (p) => p,
    get peak() {
      return peak;
    },
    set peak(v: number) {
      peak = v;
    },
  } as BenchContext;
}

