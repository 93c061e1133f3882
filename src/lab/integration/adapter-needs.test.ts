// Adapter needs are known at compile time: the attention node declares what its WGSL kernel needs
// for its shapes (NodeDef.adapterNeeds) and the plan, given the adapter's limits, says which node
// will fall back to what and why — before anything runs. An adapter with every need met: no warning.
import { describe, expect, it } from 'vitest';
import { planRunSync } from '../../engine/compile/plan-run.js';
import { formatIssue } from '../../engine/compile/compile.js';
import { webgpuAttentionNeeds } from '../../kernels/webgpu/attention.js';
import { registry } from '../../nodes/index.js';
import { initBackend } from '../../engine/backends/tf.js';
import { nodeBackendSetup } from '../../engine/node/setup.js';
import { qkvAttention } from '../testdata/fixtures.js';

// WebGPU's default limits (the spec's guaranteed minimums): enough for the kernel at these sizes.
const defaults = {
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxStorageBuffersPerShaderStage: 8,
  maxStorageBufferBindingSize: 134217728,
};

const warningsOf = (doc: unknown, limits: Record<string, number>) => {
  const r = planRunSync(doc, registry, { adapter: { features: [], limits } });
  if (!r.ok) throw new Error(r.issues.map(formatIssue).join('; '));
  return r.warnings;
};

describe('adapter needs at compile time', () => {
  it('default limits meet the kernel at head dim 64: no warning', () => {
    expect(warningsOf(qkvAttention({ headDim: 64 }), defaults)).toEqual([]);
  });

  it('workgroup memory below the need: the warning names the node, the fallback and the figures', () => {
    const need = webgpuAttentionNeeds({ H: 2, Hkv: 2, Tq: 32, Tk: 32, D: 128, Dv: 128 }).limits.find((l) => l.name === 'maxComputeWorkgroupStorageSize')!.min;
    expect(need).toBe(8 * (128 + 128) * 4 + 32);
    const w = warningsOf(qkvAttention({ headDim: 128 }), { ...defaults, maxComputeWorkgroupStorageSize: need - 1 });
    // naive runs tfjs ops: only the flash node is named.
    expect(w).toHaveLength(1);
    expect(w[0]!.nodeId).toBe('flash');
    expect(w[0]!.path).toBe('nodes[2]');
    expect(formatIssue(w[0]!)).toBe(
      `nodes[2] [flash]: flash (attention): on this adapter WGSL fused attention will fall back to wasm fused attention: K/V chunks of 8 keys at head dims 128/128 in workgroup memory needs maxComputeWorkgroupStorageSize ≥ ${need}; the adapter allows ${need - 1}`,
    );
    expect(warningsOf(qkvAttention({ headDim: 128 }), { ...defaults, maxComputeWorkgroupStorageSize: need })).toEqual([]);
  });

  it('too few invocations per workgroup and a missing storage binding limit: both named in one warning', () => {
    const { maxStorageBufferBindingSize: _, ...noBinding } = defaults;
    const w = warningsOf(qkvAttention({ seqLen: 64, headDim: 8 }), { ...noBinding, maxComputeInvocationsPerWorkgroup: 4 });
    expect(w).toHaveLength(1);
    // 64: the real-GPU blocking's workgroup (GPU_BLOCKING), the larger of the two the kernel uses.
    expect(w[0]!.message).toMatch(/workgroups of 64 invocations needs maxComputeInvocationsPerWorkgroup ≥ 64; the adapter allows 4; .*its largest buffer \(0\.0 MiB\) needs maxStorageBufferBindingSize ≥ \d+; the adapter allows none$/);
  });

  it('without an adapter (cpu, wasm) nothing is checked', () => {
    const r = planRunSync(qkvAttention({ headDim: 128 }), registry);
    expect(r.ok && r.warnings).toEqual([]);
  });

  it("the webgpu backend reports its adapter's limits and features (what runs are checked against)", async () => {
    const { info } = await initBackend('webgpu', nodeBackendSetup('vitest'));
    expect(info.name, info.fallbackReason).toBe('webgpu');
    expect(info.adapter?.limits?.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(16384);
    expect(info.adapter?.limits?.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(134217728);
    expect(info.adapter?.features).toContain('timestamp-query'); // lavapipe and SwiftShader offer it
  });
});
