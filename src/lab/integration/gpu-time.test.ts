// GPU time beside wall time: on webgpu the WGSL attention kernel's passes are timed with timestamp
// queries (lavapipe and SwiftShader offer 'timestamp-query') and the node's profile carries gpuMs;
// a node that ran no WGSL kernel has none, and an adapter without the feature gives a reason, not a
// number. Without a WebGPU adapter this test fails with the backend's reason.
import { afterEach, describe, expect, it } from 'vitest';
import { fusedKernelHooks } from '../../nodes/attention/fused-backends.js';
import { PassTimer } from '../../kernels/webgpu/attention-timer.js';
import { runPipeline } from '../api.js';
import { qkvAttention } from '../testdata/fixtures.js';

afterEach(() => {
  fusedKernelHooks.shaderOverride = undefined;
});

describe('GPU time in the profile', () => {
  it('the WGSL kernel: gpuMs from timestamp queries, within the node wall time', async () => {
    const r = await runPipeline(qkvAttention({ seqLen: 70 }), { backend: 'webgpu' });
    expect(r.profile.backend.name, r.profile.backend.fallbackReason).toBe('webgpu');
    const flash = r.profile.nodes.find((n) => n.nodeId === 'flash')!;
    expect(flash.fallbacks).toBeUndefined();
    expect(flash.gpuMsUnavailable).toBeUndefined();
    expect(flash.gpuMs).toBeGreaterThan(0);
    expect(flash.gpuMs).toBeLessThanOrEqual(flash.wallMs);
    // naive runs tfjs ops only: no kernel of its own to time.
    const naive = r.profile.nodes.find((n) => n.nodeId === 'naive')!;
    expect(naive.gpuMs).toBeUndefined();
    expect(naive.gpuMsUnavailable).toBeUndefined();
  });

  it('a kernel that fell back to wasm reports no GPU time', async () => {
    fusedKernelHooks.shaderOverride = 'fn broken(';
    const r = await runPipeline(qkvAttention({ seqLen: 70 }), { backend: 'webgpu' });
    const flash = r.profile.nodes.find((n) => n.nodeId === 'flash')!;
    expect(flash.fallbacks).toHaveLength(1);
    expect(flash.gpuMs).toBeUndefined();
  });

  it('a device without timestamp-query: the reason, and no figure', async () => {
    const timer = new PassTimer({ features: new Set<string>() } as unknown as GPUDevice);
    expect(timer.next()).toBeUndefined();
    expect(await timer.read()).toEqual({ unavailable: "the adapter has no 'timestamp-query' feature" });
  });
});
