// Which implementation runs the scan "on the backend" (scan: 'chunked'): the WGSL kernel on webgpu,
// the wasm-SIMD kernel on wasm, the chunked tfjs scan on cpu (the reference backend). A kernel that
// cannot run here (an adapter limit, a shader that does not compile, no wasm SIMD) falls back to the
// chunked tfjs scan and says why through ctx.fallback — never silently.
import type * as tfc from '@tensorflow/tfjs-core';
import type { RunContext } from '../../engine/node.js';
import { scanKernelBytes, selectiveScanWasm, wasmScanUnavailable } from '../../kernels/wasm/scan.js';
import { KernelUnsupported } from '../../kernels/webgpu/attention.js';
import { selectiveScanWebGPU } from '../../kernels/webgpu/scan.js';
import { selectiveScanChunked, type ScanArrays, type ScanDims, type ScanTensors } from './scan.js';

/**
 * Test and benchmark hooks: WGSL to compile instead of the scan kernel's (forces the fallback path),
 * and a switch that turns the kernels off (the chunked tfjs scan runs: the bench baseline).
 */
export const scanKernelHooks: { shaderOverride?: string; disabled?: boolean } = {};

type Dims = Omit<ScanDims, 'batch' | 'batched'>;
type Progress = (fraction: number) => void;

/** Whether the wasm kernel runs the scan here; reports the fallback when the backend is wasm and it cannot. */
export function wasmScanHere(ctx: RunContext): boolean {
  if (ctx.backend !== 'wasm' || scanKernelHooks.disabled) return false;
  const why = wasmScanUnavailable();
  if (why) ctx.fallback?.(`wasm selective scan → chunked tfjs scan: ${why}`);
  return !why;
}

/** One batch element on the wasm kernel from host arrays (u, Δ, z [Dm, L]; B, C [G, N, L]). */
export async function scanArraysOnWasm(ctx: RunContext, a: ScanArrays, d: Dims, deltaSoftplus: boolean, y: Float32Array, state: Float32Array, progress: Progress): Promise<void> {
  const f = (x: ArrayLike<number> | undefined) => (x === undefined ? undefined : x instanceof Float32Array ? x : Float32Array.from(x));
  const bytes = scanKernelBytes(d, { z: !!a.z, D: !!a.D, bias: !!a.deltaBias });
  ctx.track(bytes);
  try {
    await selectiveScanWasm(
      { u: f(a.u)!, delta: f(a.delta)!, A: f(a.A)!, B: f(a.B)!, C: f(a.C)!, D: f(a.D), z: f(a.z), deltaBias: f(a.deltaBias) },
      d, deltaSoftplus, y, state,
      { tick: (x) => (ctx.checkCancelled(), progress(x)), fallback: (why) => ctx.fallback?.(why) },
    );
  } finally {
    ctx.release(bytes);
  }
}

/**
 * The scan of one batch element from sequence-major tfjs tensors (u, Δ, z [L, Dm]; B, C [L, G, N]),
 * on this backend's kernel: y [L, Dm] and the last state [Dm, N] as tensors (the caller disposes
 * them). webgpu: the WGSL kernel, on the device's buffers; wasm: the SIMD kernel (the tensors live in
 * host memory there); cpu, or a kernel that cannot run: the chunked tfjs scan.
 */
export async function scanTensorsOnBackend(
  ctx: RunContext,
  t: ScanTensors,
  d: Dims,
  opts: { deltaSoftplus: boolean; chunkSize: number; progress: Progress },
): Promise<{ y: tfc.Tensor2D; state: tfc.Tensor2D }> {
  const { tf } = ctx;
  if (ctx.backend === 'webgpu' && !scanKernelHooks.disabled) {
    try {
      const r = await selectiveScanWebGPU(tf, t, d, {
        deltaSoftplus: opts.deltaSoftplus,
        shaderOverride: scanKernelHooks.shaderOverride,
        tick: (x) => (ctx.checkCancelled(), opts.progress(x)),
      });
      ctx.gpuTime?.(r.gpu);
      return { y: r.y, state: r.state };
    } catch (err) {
      if (!(err instanceof KernelUnsupported)) throw err;
      ctx.fallback?.(`WGSL selective scan → chunked tfjs scan: ${err.message}`);
    }
  } else if (wasmScanHere(ctx)) {
    // Channel-major host arrays for the kernel: [L, Dm] → [Dm, L], [L, G, N] → [G, N, L].
    const host = tf.tidy(() => ({
      u: tf.transpose(t.u), delta: tf.transpose(t.delta), z: t.z && tf.transpose(t.z),
      B: tf.transpose(t.B, [1, 2, 0]), C: tf.transpose(t.C, [1, 2, 0]),
    }));
    const read = async (x: tfc.Tensor | undefined) => (x ? ((await x.data()) as Float32Array) : undefined);
    let a: ScanArrays;
    try {
      a = {
        u: (await read(host.u))!, delta: (await read(host.delta))!, z: await read(host.z), B: (await read(host.B))!, C: (await read(host.C))!,
        A: (await read(t.A))!, D: await read(t.D), deltaBias: await read(t.deltaBias),
      };
    } finally {
      tf.dispose(Object.values(host).filter((x) => x !== undefined) as tfc.Tensor[]);
    }
    const y = new Float32Array(d.Dm * d.L);
    const state = new Float32Array(d.Dm * d.N);
    await scanArraysOnWasm(ctx, a, d, opts.deltaSoftplus, y, state, opts.progress);
    return tf.tidy(() => ({ y: tf.transpose(tf.tensor2d(y, [d.Dm, d.L])) as tfc.Tensor2D, state: tf.tensor2d(state, [d.Dm, d.N]) }));
  }
  return selectiveScanChunked(tf, t, d, {
    deltaSoftplus: opts.deltaSoftplus,
    chunkSize: opts.chunkSize,
    onChunk: (i, n) => (ctx.checkCancelled(), opts.progress(i / n)),
  });
}
