// A kernel the adapter cannot run is never a silent fallback: with the WGSL attention shader forced
// to fail to compile, the run on webgpu still succeeds (the wasm kernel runs) and the node's profile
// says which kernel fell back to which, and why. Without a WebGPU adapter this test fails with the
// backend's reason.
import { afterEach, describe, expect, it } from 'vitest';
import { fusedKernelHooks } from '../../nodes/attention/fused-backends.js';
import { runPipeline } from '../api.js';
import { qkvAttention } from '../testdata/fixtures.js';

afterEach(() => {
  fusedKernelHooks.shaderOverride = undefined;
});

describe('kernel fallbacks in the profile', () => {
  it('a WGSL shader that does not compile: the node says so, and the output is still exact', async () => {
    fusedKernelHooks.shaderOverride = 'fn broken(';
    const r = await runPipeline(qkvAttention({ seqLen: 70 }), { backend: 'webgpu' });
    expect(r.profile.backend.name, r.profile.backend.fallbackReason).toBe('webgpu');
    expect(r.status).toBe('ok');
    const flash = r.profile.nodes.find((n) => n.nodeId === 'flash')!;
    expect(flash.fallbacks).toHaveLength(1);
    expect(flash.fallbacks![0]).toMatch(/^WGSL fused attention → wasm fused attention: the WGSL attention kernel does not compile on this adapter: line \d+: /);
    // naive has no fused kernel: nothing fell back.
    expect(r.profile.nodes.find((n) => n.nodeId === 'naive')!.fallbacks).toBeUndefined();
    expect(r.metrics.cmp!.maxAbs).toBeLessThan(1e-5);
  });

  it('the kernel compiles: no fallback is reported', async () => {
    const r = await runPipeline(qkvAttention({ seqLen: 70 }), { backend: 'webgpu' });
    const flash = r.profile.nodes.find((n) => n.nodeId === 'flash')!;
    expect(flash.fallbacks).toBeUndefined();
    expect(r.metrics.cmp!.maxAbs).toBeLessThan(1e-5);
    // The roofline on webgpu: the WGSL micro-benchmark's peak, and the node's share of it.
    expect(r.profile.peak?.method, r.profile.peakError).toMatch(/^WGSL/);
    expect(flash.peakFlopsPct).toBeCloseTo((100 * flash.gflops!) / r.profile.peak!.gflops, 9);
  });
});
