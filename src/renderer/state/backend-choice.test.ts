import { describe, expect, it } from 'vitest';
import { defaultBackendFor } from './backend-choice.js';
import { isSoftwareAdapter } from '../../engine/backends/adapter.js';

/** An adapter whose info fields are prototype getters, as in browsers. */
function adapter(info: Record<string, unknown>, isFallbackAdapter?: boolean) {
  const proto = Object.fromEntries(Object.keys(info).map((k) => [k, undefined]));
  const i = Object.create(Object.defineProperties(proto, Object.fromEntries(Object.entries(info).map(([k, v]) => [k, { get: () => v }]))));
  return { info: i, isFallbackAdapter };
}
const gpu = (a: unknown) => ({ requestAdapter: async () => a as never });

describe('default backend', () => {
  it('recognises software adapters by flag or by name', () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'Microsoft Basic Render Driver' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ampere', isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ampere' })).toBe(false);
    // Dawn in Node on Mesa's lavapipe; and an NVIDIA card through Dawn's Vulkan backend (no architecture).
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: 'software' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: '' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'apple', architecture: 'metal-3', description: 'hardware warping unit' })).toBe(false);
  });

  it('starts on wasm, saying why, when WebGPU is missing, has no adapter, or only a software one', async () => {
    expect(await defaultBackendFor(undefined)).toMatchObject({ backend: 'wasm', reason: expect.stringMatching(/no WebGPU/) });
    expect(await defaultBackendFor(gpu(null))).toMatchObject({ backend: 'wasm', reason: expect.stringMatching(/no adapter/) });
    const sw = await defaultBackendFor(gpu(adapter({ vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true })));
    expect(sw.backend).toBe('wasm');
    expect(sw.reason).toMatch(/google swiftshader.*software renderer/);
    const hw = await defaultBackendFor(gpu(adapter({ vendor: 'nvidia', architecture: 'ampere' })));
    expect(hw).toMatchObject({ backend: 'webgpu', reason: expect.stringMatching(/nvidia ampere/) });
  });
});
