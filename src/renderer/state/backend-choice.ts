// Which backend the editor starts on: the user's last choice (kept across reloads), else WebGPU
// when there is a hardware adapter, else wasm with the reason. A software adapter (SwiftShader,
// llvmpipe, WARP) runs WebGPU on the CPU, an order of magnitude slower than wasm, so it does not
// count as WebGPU being available.
import type { BackendName } from '../../engine/node.js';
import { isSoftwareAdapter, type AdapterFacts } from '../../engine/backends/adapter.js';

const KEY = 'ctxlab.backend';
const NAMES: readonly BackendName[] = ['webgpu', 'wasm', 'cpu'];

export function storedBackend(): BackendName | undefined {
  try {
    const v = localStorage.getItem(KEY);
    return NAMES.includes(v as BackendName) ? (v as BackendName) : undefined;
  } catch {
    return undefined; // storage may be unavailable
  }
}

export function storeBackend(name: BackendName): void {
  try {
    localStorage.setItem(KEY, name);
  } catch {
    /* storage may be unavailable */
  }
}

const THREADS_KEY = 'ctxlab.wasmThreads';

/** The wasm kernels' thread count the user chose (kept across reloads); undefined: auto (the cores). */
export function storedThreads(): number | undefined {
  try {
    const n = Number(localStorage.getItem(THREADS_KEY));
    return Number.isInteger(n) && n >= 1 ? n : undefined;
  } catch {
    return undefined;
  }
}

export function storeThreads(n: number | undefined): void {
  try {
    if (n === undefined) localStorage.removeItem(THREADS_KEY);
    else localStorage.setItem(THREADS_KEY, String(n));
  } catch {
    /* storage may be unavailable */
  }
}

export interface BackendDefault {
  backend: BackendName;
  /** Why this backend, shown in the backend selector's tooltip. */
  reason: string;
}

type Gpu = { requestAdapter(): Promise<(AdapterFacts & { info?: AdapterFacts }) | null> };

/** The backend to start on when the user has not chosen one (asks WebGPU for its adapter). */
export async function defaultBackendFor(gpu: Gpu | undefined): Promise<BackendDefault> {
  if (!gpu) return { backend: 'wasm', reason: 'WASM: this browser has no WebGPU' };
  let adapter: Awaited<ReturnType<Gpu['requestAdapter']>>;
  try {
    adapter = await gpu.requestAdapter();
  } catch (err) {
    return { backend: 'wasm', reason: `WASM: WebGPU gave no adapter (${(err as Error).message})` };
  }
  if (!adapter) return { backend: 'wasm', reason: 'WASM: WebGPU has no adapter on this machine' };
  // GPUAdapterInfo's fields are getters on its prototype: read them one by one (a spread copies none).
  const i = adapter.info;
  const facts: AdapterFacts = { vendor: i?.vendor, architecture: i?.architecture, description: i?.description, device: i?.device, isFallbackAdapter: i?.isFallbackAdapter ?? adapter.isFallbackAdapter };
  const name = [facts.vendor, facts.architecture || facts.description].filter(Boolean).join(' ') || 'unknown';
  if (isSoftwareAdapter(facts))
    return { backend: 'wasm', reason: `WASM: the only WebGPU adapter (${name}) is a software renderer, which runs on the CPU and is far slower than WASM here. Choose WebGPU to use it anyway.` };
  return { backend: 'webgpu', reason: `WebGPU: hardware adapter ${name}` };
}

/** The user's stored choice, else the default for this machine. */
export async function initialBackend(): Promise<BackendDefault> {
  const stored = storedBackend();
  if (stored) return { backend: stored, reason: `${stored}: your last choice` };
  const gpu = typeof navigator !== 'undefined' ? (navigator as unknown as { gpu?: Gpu }).gpu : undefined;
  return defaultBackendFor(gpu);
}
