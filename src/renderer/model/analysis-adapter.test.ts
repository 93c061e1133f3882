// The editor's analysis with the run's WebGPU adapter: a node whose declared kernel needs exceed the
// adapter's limits gets a warning naming the fallback (the Problems view lists warnings); without an
// adapter (cpu, wasm) there is none.
import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { qkvAttention } from '../../lab/testdata/fixtures.js';
import type { Pipeline } from '../../engine/schema/pipeline.js';
import { analyze } from './analysis.js';

const doc = qkvAttention({ headDim: 128 }) as unknown as Pipeline;
const limits = { maxComputeWorkgroupStorageSize: 8000, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxStorageBuffersPerShaderStage: 8, maxStorageBufferBindingSize: 1 << 27 };

describe('analysis with the adapter', () => {
  it('names the node whose WGSL kernel would fall back', () => {
    const a = analyze(doc, registry, { features: [], limits });
    expect(a.ok).toBe(true);
    expect(a.warnings.map((w) => [w.nodeId, w.message])).toEqual([
      ['flash', 'on this adapter WGSL fused attention will fall back to wasm fused attention: K/V chunks of 8 keys at head dims 128/128 in workgroup memory needs maxComputeWorkgroupStorageSize ≥ 8224; the adapter allows 8000'],
    ]);
  });

  it('no adapter, or one with room: no warning', () => {
    expect(analyze(doc, registry).warnings).toEqual([]);
    expect(analyze(doc, registry, { features: [], limits: { ...limits, maxComputeWorkgroupStorageSize: 8224 } }).warnings).toEqual([]);
  });
});
