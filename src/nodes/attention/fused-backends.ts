// Which fused attention kernel runs a compiled spec on the run's backend: the WGSL kernel on
// webgpu, the wasm-SIMD kernel on wasm. A kernel that cannot run here (an adapter limit, a shader
// that does not compile) falls back to the next one — webgpu's to the wasm kernel — and the reason
// goes to the node's profile through ctx.fallback; never silently.
import type { RunContext } from '../../engine/node.js';
import { withGatheredRows, type FusedAttentionResult, type FusedAttentionSpec } from '../../kernels/attention-spec.js';
import { registerPeakMeasure, measureHostCopy } from '../../engine/backends/peak.js';
import { fusedAttention, kernelThreads, measureWasmPeak, wasmKernelUnavailable, type RunOptions } from '../../kernels/wasm/attention.js';
import { fusedAttentionWebGPU, KernelUnsupported, webgpuBackendOf, type WebGPURunOptions } from '../../kernels/webgpu/attention.js';

/**
 * Test and benchmark hooks: WGSL to compile instead of the kernel's (forces the fallback path), a
 * switch that turns the fused kernels off (the variants' tfjs compositions run: the bench baseline),
 * another register blocking for the WGSL kernel, and an observer of each WGSL run's result.
 */
export const fusedKernelHooks: {
  shaderOverride?: string;
  disabled?: boolean;
  blocking?: WebGPURunOptions['blocking'];
  firstTiles?: number;
  observe?: (r: FusedAttentionResult) => void;
} = {};

/** Whether exact attention runs on a fused kernel here (else the variant's tfjs composition runs). */
export function fusedKernelAvailable(ctx: RunContext): boolean {
  if (fusedKernelHooks.disabled) return false;
  if (ctx.backend === 'wasm') {
    const why = wasmKernelUnavailable();
    if (why) ctx.fallback?.(`fused wasm attention → the variant's tfjs composition: ${why}`);
    return !why;
  }
  if (ctx.backend === 'webgpu') return webgpuBackendOf(ctx.tf) !== undefined || !wasmKernelUnavailable();
  return false;
}

export async function runFusedKernel(ctx: RunContext, spec: FusedAttentionSpec, opts: RunOptions): Promise<FusedAttentionResult> {
  if (ctx.backend === 'webgpu') {
    let reason: string;
    if (webgpuBackendOf(ctx.tf)) {
      try {
        const r = await fusedAttentionWebGPU(ctx.tf, withGatheredRows(spec), {
          tick: opts.tick,
          shaderOverride: fusedKernelHooks.shaderOverride,
          blocking: fusedKernelHooks.blocking,
          firstTiles: fusedKernelHooks.firstTiles,
        });
        ctx.gpuTime?.(r.gpu);
        fusedKernelHooks.observe?.(r);
        return r;
      } catch (err) {
        if (!(err instanceof KernelUnsupported)) throw err;
        reason = err.message;
      }
    } else reason = `tfjs's webgpu backend is not active (${ctx.tf.getBackend()})`;
    const wasmWhy = wasmKernelUnavailable();
    if (wasmWhy) throw new Error(`${reason}; and ${wasmWhy}`);
    ctx.fallback?.(`WGSL fused attention → wasm fused attention: ${reason}`);
  }
  return fusedAttention(spec, { ...opts, fallback: (why) => ctx.fallback?.(why) });
}

// The wasm backend's roofline: the SIMD kernel's multiply-add peak on every thread the kernel uses.
registerPeakMeasure('wasm', async () => {
  const why = wasmKernelUnavailable();
  if (why) throw new Error(why);
  const threads = await kernelThreads();
  return {
    gflops: measureWasmPeak(60) * threads,
    gbps: measureHostCopy(),
    method: `wasm SIMD f32x4 multiply + add (12 chains) × ${threads} thread(s); typed-array copy of 16 MiB`,
  };
});
