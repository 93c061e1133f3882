// Node-specific backend setup: WebGPU through the `webgpu` package (Dawn), on Mesa's lavapipe
// (Vulkan) where installed, or a real GPU's Vulkan driver. See PLATFORM.md.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendSetup } from '../backends/tf.js';

export async function provideNodeWebGPU(): Promise<string | undefined> {
  try {
    if (!process.env.XDG_RUNTIME_DIR) {
      const dir = join(tmpdir(), 'ctxlab-xdg');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      process.env.XDG_RUNTIME_DIR = dir;
    }
    const { create, globals } = (await import('webgpu')) as unknown as {
      create: (flags: string[]) => GPU;
      globals: Record<string, unknown>;
    };
    Object.assign(globalThis, globals);
    const gpu = create([]);
    const adapter = await gpu.requestAdapter();
    if (!adapter)
      return 'no WebGPU adapter in Node: install a Vulkan driver (Debian: mesa-vulkan-drivers from bookworm-backports, see .ci/run)';
    const g = globalThis as unknown as { navigator?: { gpu?: GPU } };
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    return undefined;
  } catch (err) {
    return `the webgpu package could not start Dawn: ${(err as Error).message}`;
  }
}

export function nodeBackendSetup(host = 'in-process'): BackendSetup {
  return { host, provideWebGPU: provideNodeWebGPU };
}
