// The roofline's ceiling: each backend's f32 multiply-add peak (GFLOP/s) and copy bandwidth (GB/s,
// bytes read + written), measured once per session by a short micro-benchmark on that backend, so
// a node's achieved GFLOP/s and GB/s can be read as a share of what the machine can do here.
// cpu (tfjs-cpu runs plain JS): a JS loop of independent f32 multiply-add chains. webgpu: a WGSL
// kernel of the same on tfjs's own device, and a buffer-to-buffer copy. wasm: the SIMD kernel's own
// measurement, registered by the node library (the engine does not import kernels).
import type * as tfc from '@tensorflow/tfjs-core';
import type { BackendName } from '../node.js';

export interface BackendPeak {
  /** f32 multiply-add peak, GFLOP/s (a multiply-add counts 2). */
  gflops: number;
  /** Copy bandwidth, GB/s of bytes read plus written. */
  gbps: number;
  /** How it was measured, for people ("JS scalar f32 multiply-add, 1 thread"). */
  method: string;
}

type Measure = (tf: typeof tfc) => Promise<BackendPeak>;
const measures: Partial<Record<BackendName, Measure>> = { cpu: async () => measureJs(), webgpu: measureWebGPU };
const cache = new Map<string, Promise<BackendPeak>>();

/** Replaces a backend's measurement (the wasm SIMD kernel registers its own). */
export function registerPeakMeasure(backend: BackendName, m: Measure): void {
  measures[backend] = m;
}

/**
 * The backend's peak, measured on first use in this session (and again for another thread count:
 * wasm's peak is per thread × its threads); undefined when it has no measurement.
 */
export function backendPeak(backend: BackendName, tf: typeof tfc, threads?: number): Promise<BackendPeak> | undefined {
  const m = measures[backend];
  if (!m) return undefined;
  const key = threads ? `${backend}/${threads}` : backend;
  let p = cache.get(key);
  if (!p) {
    p = m(tf);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/** Runs f with doubling work until one run takes ≥ minMs, then keeps the best rate of a few runs. */
function bestRate(f: (n: number) => void, perUnit: number, minMs = 10, rounds = 2): number {
  let n = 1;
  for (;;) {
    const t0 = performance.now();
    f(n);
    if (performance.now() - t0 >= minMs || n >= 2 ** 30) break;
    n *= 2;
  }
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    f(n);
    best = Math.max(best, (n * perUnit) / (performance.now() - t0) / 1e6);
  }
  return best;
}

/** Host memory copy bandwidth through typed arrays (what every host-side kernel pays). */
export function measureHostCopy(): number {
  const src = new Float32Array(4 << 20).fill(1); // 16 MiB: past the L2 caches
  const dst = new Float32Array(src.length);
  return bestRate((n) => {
    for (let i = 0; i < n; i++) dst.set(src);
  }, 2 * src.byteLength);
}

function measureJs(): BackendPeak {
  // 8 independent chains over a Float32Array (as tfjs-cpu's loops read and write), 2 flops each.
  const acc = new Float32Array(8).fill(1);
  const gflops = bestRate((n) => {
    let a0 = acc[0]!, a1 = acc[1]!, a2 = acc[2]!, a3 = acc[3]!, a4 = acc[4]!, a5 = acc[5]!, a6 = acc[6]!, a7 = acc[7]!;
    for (let i = 0; i < n * 1024; i++) {
      a0 = a0 * 0.999 + 0.001; a1 = a1 * 0.999 + 0.001; a2 = a2 * 0.999 + 0.001; a3 = a3 * 0.999 + 0.001;
      a4 = a4 * 0.999 + 0.001; a5 = a5 * 0.999 + 0.001; a6 = a6 * 0.999 + 0.001; a7 = a7 * 0.999 + 0.001;
    }
    acc.set([a0, a1, a2, a3, a4, a5, a6, a7]);
  }, 1024 * 16);
  return { gflops, gbps: measureHostCopy(), method: 'JS scalar multiply-add (8 chains, 1 thread); typed-array copy of 16 MiB' };
}

const FMA_SHADER = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> iters: u32;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  var a = vec4<f32>(f32(gid.x) * 1e-9, 1.0, 2.0, 3.0);
  var b = a + 0.5;
  var c = a + 0.25;
  var d = a + 0.125;
  let m = vec4<f32>(0.999);
  let k = vec4<f32>(0.001);
  for (var i = 0u; i < iters; i++) {
    a = a * m + k; b = b * m + k; c = c * m + k; d = d * m + k;
  }
  out[gid.x] = a + b + c + d;
}`;

async function measureWebGPU(tf: typeof tfc): Promise<BackendPeak> {
  const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
  if (!device) throw new Error(`the webgpu peak needs tfjs's webgpu backend (active: ${tf.getBackend()})`);
  const groups = Math.min(4096, device.limits.maxComputeWorkgroupsPerDimension);
  const invocations = groups * 64;
  const out = device.createBuffer({ size: invocations * 16, usage: GPUBufferUsage.STORAGE });
  const uni = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const copyBytes = Math.min(64 << 20, device.limits.maxBufferSize);
  const src = device.createBuffer({ size: copyBytes, usage: GPUBufferUsage.COPY_SRC });
  const dst = device.createBuffer({ size: copyBytes, usage: GPUBufferUsage.COPY_DST });
  try {
    const module = device.createShaderModule({ code: FMA_SHADER });
    const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: out } }, { binding: 1, resource: { buffer: uni } }] });
    const timed = async (record: (e: GPUCommandEncoder) => void) => {
      const e = device.createCommandEncoder();
      record(e);
      const t0 = performance.now();
      device.queue.submit([e.finish()]);
      await device.queue.onSubmittedWorkDone();
      return performance.now() - t0;
    };
    const fma = (n: number) => (e: GPUCommandEncoder) => {
      device.queue.writeBuffer(uni, 0, new Uint32Array([n, 0, 0, 0]));
      const pass = e.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(groups);
      pass.end();
    };
    // Grow the loop until a dispatch takes ≥ 20 ms (submission overhead then does not count).
    let n = 16;
    while ((await timed(fma(n))) < 20 && n < 1 << 24) n *= 2;
    let gflops = 0;
    for (let r = 0; r < 3; r++) gflops = Math.max(gflops, (invocations * n * 32) / (await timed(fma(n))) / 1e6);
    let copies = 1;
    while ((await timed((e) => { for (let i = 0; i < copies; i++) e.copyBufferToBuffer(src, 0, dst, 0, copyBytes); })) < 20 && copies < 256) copies *= 2;
    let gbps = 0;
    for (let r = 0; r < 3; r++)
      gbps = Math.max(gbps, (2 * copyBytes * copies) / (await timed((e) => { for (let i = 0; i < copies; i++) e.copyBufferToBuffer(src, 0, dst, 0, copyBytes); })) / 1e6);
    return { gflops, gbps, method: `WGSL vec4 multiply-add (4 chains, ${invocations} invocations); buffer copy of ${(copyBytes / 2 ** 20).toFixed(0)} MiB` };
  } finally {
    for (const b of [out, uni, src, dst]) b.destroy();
  }
}
