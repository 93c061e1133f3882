// What the lab reads of a WebGPU adapter: whether it renders in software (SwiftShader, lavapipe,
// llvmpipe, WARP). Such an adapter runs WebGPU on the CPU: the editor does not start on it, and
// the WGSL kernels use the blocking measured best on it rather than a real GPU's.

export interface AdapterFacts {
  vendor?: string;
  architecture?: string;
  description?: string;
  device?: string;
  isFallbackAdapter?: boolean;
}

// Dawn reports Mesa's lavapipe as vendor 'mesa', architecture 'software'; Chromium's SwiftShader as 'swiftshader'.
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|basic render|^software$/i;

/** Whether a WebGPU adapter renders in software (the adapter says so, or its name is a known software renderer). */
export function isSoftwareAdapter(a: AdapterFacts): boolean {
  if (a.isFallbackAdapter) return true;
  return [a.vendor, a.architecture, a.description, a.device].some((s) => !!s && SOFTWARE.test(s));
}
