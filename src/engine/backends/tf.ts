// Backend selection for tfjs: cpu, wasm (SIMD), webgpu. Reports what actually runs and why a
// fallback happened. Environment specifics (where the .wasm files are, how WebGPU is provided in
// Node) come in through BackendSetup, so this module has no DOM and no Node imports.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BackendName } from '../node.js';
import type { BackendInfo } from '../run/events.js';
import { registerFastWasmSlice } from './wasm-slice.js';
import { registerTransposeFreeWasmMatMul } from './wasm-matmul.js';

export interface BackendSetup {
  /** Where the tfjs-backend-wasm .wasm files are served (browser); unset in Node. */
  wasmPaths?: string;
  /** Makes `navigator.gpu` exist (Node: the `webgpu` package). Returns a reason when it cannot. */
  provideWebGPU?: () => Promise<string | undefined>;
  host: string;
}

// Production mode: no per-op debug checks, and no banner suggesting tfjs-node on stderr.
tf.env().set('PROD', true);

const FALLBACK: Record<BackendName, BackendName | undefined> = { webgpu: 'wasm', wasm: 'cpu', cpu: undefined };

let wasmLoaded = false;
let webgpuLoaded = false;

/** GPUSupportedLimits as plain data (its values are getters on the prototype). */
function limitsOf(l: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k in l) {
    const v = (l as unknown as Record<string, unknown>)[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

async function tryBackend(name: BackendName, setup: BackendSetup): Promise<{ ok: true; adapter?: BackendInfo['adapter'] } | { ok: false; reason: string }> {
  try {
    if (name === 'wasm' && !wasmLoaded) {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (setup.wasmPaths) wasm.setWasmPaths(setup.wasmPaths);
      registerFastWasmSlice();
      registerTransposeFreeWasmMatMul();
      wasmLoaded = true;
    }
    let adapter: BackendInfo['adapter'];
    if (name === 'webgpu') {
      const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
      if (!nav?.gpu && setup.provideWebGPU) {
        const why = await setup.provideWebGPU();
        if (why) return { ok: false, reason: why };
      }
      const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
      if (!gpu) return { ok: false, reason: 'WebGPU is not available here (no navigator.gpu)' };
      const a = await gpu.requestAdapter();
      if (!a) return { ok: false, reason: 'WebGPU has no adapter on this machine' };
      const info = (a as GPUAdapter & { info?: GPUAdapterInfo }).info;
      adapter = {
        vendor: info?.vendor || 'unknown',
        architecture: info?.architecture || 'unknown',
        description: info?.description || undefined,
        isFallbackAdapter: (a as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter,
        // What compile checks nodes' declared kernel needs against (compile/adapter-needs.ts).
        features: [...a.features].map(String),
        limits: limitsOf(a.limits),
      };
      if (!webgpuLoaded) {
        await import('@tensorflow/tfjs-backend-webgpu');
        webgpuLoaded = true;
      }
    }
    const ok = await tf.setBackend(name);
    if (!ok) return { ok: false, reason: `tfjs could not initialise the ${name} backend` };
    await tf.ready();
    return { ok: true, adapter };
  } catch (err) {
    return { ok: false, reason: `${name} failed to start: ${(err as Error).message}` };
  }
}

/** Activates `requested`, falling back webgpu → wasm → cpu; the info says what runs and why. */
export async function initBackend(requested: BackendName, setup: BackendSetup): Promise<{ tf: typeof tf; info: BackendInfo }> {
  let name: BackendName | undefined = requested;
  const reasons: string[] = [];
  while (name) {
    const r = await tryBackend(name, setup);
    if (r.ok) {
      const info: BackendInfo = { requested, name, host: setup.host };
      if (reasons.length) info.fallbackReason = reasons.join('; ');
      if (r.adapter) info.adapter = r.adapter;
      return { tf, info };
    }
    reasons.push(r.reason);
    name = FALLBACK[name];
  }
  throw new Error(`no tfjs backend could start: ${reasons.join('; ')}`);
}

export { tf };
