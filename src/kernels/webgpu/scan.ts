// Mamba's selective scan in WGSL on tfjs-backend-webgpu's device. Inputs and outputs are tfjs
// tensors, sequence-major as the chunked tfjs scan takes them (u, Δ, z [L, Dm]; B, C [L, G, N]):
// inside a Mamba block they never leave the GPU, and tf.memory() and the profiler count them.
// Parallel over (channel, state): a workgroup of 64 invocations holds CPW = 64/NP channels × NP state
// lanes (NP = N rounded up to a power of two, at most 64; N > 64 loops over states in steps of NP).
// Each invocation runs its states' recurrence over l sequentially (exact, like selective_scan_ref),
// tiles of TL positions leave x·C partial sums in workgroup memory, and the workgroup reduces them
// over the state lanes into y. The state lives in the `state` output between dispatches, so the
// sequence is dispatched in runs of positions sized to ~50 ms each, with the caller's tick between
// them (cancel, progress): a wait for the queue, never a host read.
import type * as tfc from '@tensorflow/tfjs-core';
import { webgpuBackendOf } from './attention.js';
import { flushTfjs, KernelUnsupported, runPass } from './pass.js';
import { PassTimer, type GpuTime } from './attention-timer.js';

const WG = 64;
const TL = 32;
/** States per invocation at most: N ≤ 256. */
const KMAX = 4;
const PARAMS = ['Dm', 'L', 'N', 'G', 'NP', 'CPW', 'l0', 'l1', 'softplus', 'hasD', 'hasZ', 'hasBias'] as const;

export const scanShader = /* wgsl */ `
struct Params { ${PARAMS.map((f) => `${f}: u32`).join(', ')} }
@group(0) @binding(0) var<storage, read> u: array<f32>;
@group(0) @binding(1) var<storage, read> delta: array<f32>;
@group(0) @binding(2) var<storage, read> z: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<storage, read> C: array<f32>;
// A [Dm·N], then D [Dm], then deltaBias [Dm].
@group(0) @binding(5) var<storage, read> chan: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;
@group(0) @binding(7) var<storage, read_write> state: array<f32>;
@group(0) @binding(8) var<uniform> p: Params;

const WG = ${WG}u;
const TL = ${TL}u;
var<workgroup> part: array<f32, ${WG * TL}>;

// torch's softplus (threshold 20) as max(x, 0) + log1p(e^−|x|), log1p(t) = 2·atanh(t/(2 + t)) by its
// series (exact for small t, where log(1 + t) in f32 would lose t).
fn softplus(x: f32) -> f32 {
  if (x > 20.0) { return x; }
  let t = exp(-abs(x));
  let s = t / (2.0 + t);
  let s2 = s * s;
  var q = 1.0 / 15.0;
  q = q * s2 + 1.0 / 13.0; q = q * s2 + 1.0 / 11.0; q = q * s2 + 1.0 / 9.0;
  q = q * s2 + 1.0 / 7.0; q = q * s2 + 1.0 / 5.0; q = q * s2 + 1.0 / 3.0; q = q * s2 + 1.0;
  return max(x, 0.0) + 2.0 * s * q;
}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let Dm = p.Dm; let N = p.N;
  let c = tid / p.NP;
  let j = tid % p.NP;
  let d = wid.x * p.CPW + c;
  let live = d < Dm;
  let dd = min(d, Dm - 1u);
  let g = dd / (Dm / p.G);
  var x: array<f32, ${KMAX}>;
  var A: array<f32, ${KMAX}>;
  for (var k = 0u; k < ${KMAX}u; k++) {
    let n = j + k * p.NP;
    x[k] = 0.0; A[k] = 0.0;
    if (live && n < N) { x[k] = state[d * N + n]; A[k] = chan[d * N + n]; }
  }
  var bias = 0.0;
  if (p.hasBias != 0u) { bias = chan[Dm * N + Dm + dd]; }
  for (var t0 = p.l0; t0 < p.l1; t0 += TL) {
    let tn = min(TL, p.l1 - t0);
    for (var t = 0u; t < tn; t++) {
      let l = t0 + t;
      var partial = 0.0;
      if (live) {
        var dt = delta[l * Dm + d] + bias;
        if (p.softplus != 0u) { dt = softplus(dt); }
        let du = dt * u[l * Dm + d];
        let bc = (l * p.G + g) * N;
        for (var k = 0u; k < ${KMAX}u; k++) {
          let n = j + k * p.NP;
          if (n < N) {
            x[k] = exp(dt * A[k]) * x[k] + du * B[bc + n];
            partial += x[k] * C[bc + n];
          }
        }
      }
      part[tid * TL + t] = partial;
    }
    workgroupBarrier();
    // y for this tile: CPW channels × tn positions, each a sum over the channel's NP lanes.
    for (var o = tid; o < p.CPW * TL; o += WG) {
      let c2 = o / TL;
      let t = o % TL;
      let d2 = wid.x * p.CPW + c2;
      if (t < tn && d2 < Dm) {
        var s = 0.0;
        for (var j2 = 0u; j2 < p.NP; j2++) { s += part[(c2 * p.NP + j2) * TL + t]; }
        let l = t0 + t;
        if (p.hasD != 0u) { s += chan[Dm * N + d2] * u[l * Dm + d2]; }
        if (p.hasZ != 0u) { let zz = z[l * Dm + d2]; s *= zz / (1.0 + exp(-zz)); }
        y[l * Dm + d2] = s;
      }
    }
    workgroupBarrier();
  }
  for (var k = 0u; k < ${KMAX}u; k++) {
    let n = j + k * p.NP;
    if (live && n < N) { state[d * N + n] = x[k]; }
  }
}
`;

/** Sequence-major inputs of one batch element, as the chunked tfjs scan takes them (scan.ts in src/nodes/ssm). */
export interface ScanGpuTensors {
  u: tfc.Tensor2D;
  delta: tfc.Tensor2D;
  A: tfc.Tensor2D;
  B: tfc.Tensor3D;
  C: tfc.Tensor3D;
  D?: tfc.Tensor1D;
  z?: tfc.Tensor2D;
  deltaBias?: tfc.Tensor1D;
}

export interface ScanGpuOptions {
  deltaSoftplus: boolean;
  /** Called before the first run of positions and then between runs (≤ ~50 ms apart) with the fraction done; may throw (cancel). */
  tick?(fraction: number): void;
  /** Test hook: compile this WGSL instead of the kernel's (forces a compile failure). */
  shaderOverride?: string;
}

const pipelines = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

/** Compiles (once per device) a WGSL kernel of this project; a failure is KernelUnsupported with the compiler's messages. */
export async function kernelPipeline(device: GPUDevice, what: string, code: string): Promise<GPUComputePipeline> {
  let byCode = pipelines.get(device);
  if (!byCode) pipelines.set(device, (byCode = new Map()));
  let p = byCode.get(code);
  if (!p) {
    p = (async () => {
      const module = device.createShaderModule({ code, label: what });
      const info = await module.getCompilationInfo?.();
      const errors = info?.messages.filter((m) => m.type === 'error') ?? [];
      if (errors.length) throw new KernelUnsupported(`the WGSL ${what} kernel does not compile on this adapter: ${errors.map((e) => `line ${e.lineNum}: ${e.message}`).join('; ')}`);
      try {
        return await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: what });
      } catch (err) {
        throw new KernelUnsupported(`the WGSL ${what} kernel's pipeline was refused by this adapter: ${(err as Error).message}`);
      }
    })();
    byCode.set(code, p);
    p.catch(() => byCode!.delete(code)); // a later call retries (and reports again)
  }
  return p;
}

const TARGET_MS = 50;

/**
 * The selective scan of one batch element on tfjs's WebGPU device: y [L, Dm] and the last state
 * [Dm, N] as tfjs tensors (the caller disposes them), and the passes' GPU time from timestamp queries
 * (or why there is none). Throws KernelUnsupported when it cannot run here.
 */
export async function selectiveScanWebGPU(
  tf: typeof tfc,
  t: ScanGpuTensors,
  dims: { Dm: number; L: number; N: number; G: number },
  opts: ScanGpuOptions,
): Promise<{ y: tfc.Tensor2D; state: tfc.Tensor2D; gpu: GpuTime }> {
  const backend = webgpuBackendOf(tf);
  if (!backend) throw new KernelUnsupported(`the WGSL selective-scan kernel needs tfjs's webgpu backend (active: ${tf.getBackend()})`);
  const { device } = backend;
  const { Dm, L, N, G } = dims;
  if (N > WG * KMAX) throw new KernelUnsupported(`the WGSL selective-scan kernel holds at most ${WG * KMAX} states per channel; N is ${N}`);
  const limits = device.limits;
  if (limits.maxComputeInvocationsPerWorkgroup < WG || limits.maxComputeWorkgroupSizeX < WG)
    throw new KernelUnsupported(`the WGSL selective-scan kernel needs ${WG} invocations per workgroup; this adapter allows ${limits.maxComputeInvocationsPerWorkgroup}`);
  if (limits.maxStorageBuffersPerShaderStage < 8)
    throw new KernelUnsupported(`the WGSL selective-scan kernel binds 8 storage buffers; this adapter allows ${limits.maxStorageBuffersPerShaderStage}`);
  for (const [name, n] of [['u', Dm * L], ['B', G * N * L]] as const)
    if (n * 4 > limits.maxStorageBufferBindingSize)
      throw new KernelUnsupported(`the WGSL selective-scan kernel's ${name} buffer is ${((n * 4) / 2 ** 20).toFixed(1)} MiB, over this adapter's storage binding limit of ${(limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`);
  let NP = 1;
  while (NP < Math.min(N, WG)) NP *= 2;
  const CPW = WG / NP;
  const groups = Math.ceil(Dm / CPW);
  if (groups > limits.maxComputeWorkgroupsPerDimension)
    throw new KernelUnsupported(`the WGSL selective-scan kernel needs ${groups} workgroups; this adapter allows ${limits.maxComputeWorkgroupsPerDimension}`);
  const pipeline = await kernelPipeline(device, 'selective-scan', opts.shaderOverride ?? scanShader);

  const temps: tfc.Tensor[] = [];
  const bufferOf = (x: tfc.Tensor): GPUBuffer => {
    backend.uploadToGPU(x.dataId);
    return backend.tensorMap.get(x.dataId).resource as GPUBuffer;
  };
  const y = tf.zeros([L, Dm]) as tfc.Tensor2D;
  const state = tf.zeros([Dm, N]) as tfc.Tensor2D;
  let uniform: GPUBuffer | undefined;
  const timer = new PassTimer(device);
  try {
    // A, D and deltaBias in one buffer (the kernel has 8 storage bindings; they are tiny).
    const chan = tf.tidy(() => tf.concat([tf.reshape(t.A, [-1]), t.D ?? tf.zeros([Dm]), t.deltaBias ?? tf.zeros([Dm])]));
    const dummy = tf.zeros([1]);
    temps.push(chan, dummy);
    const buffers = [t.u, t.delta, t.z ?? dummy, t.B, t.C, chan, y, state].map(bufferOf);
    // tfjs's pending work (the inputs, chan, the zeroed outputs) goes first; the kernel follows on the same queue.
    flushTfjs(backend);
    uniform = device.createBuffer({ size: PARAMS.length * 4, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [...buffers.map((buffer, binding) => ({ binding, resource: { buffer } })), { binding: 8, resource: { buffer: uniform } }],
    });
    const params: Record<(typeof PARAMS)[number], number> = {
      Dm, L, N, G, NP, CPW, l0: 0, l1: 0, softplus: opts.deltaSoftplus ? 1 : 0, hasD: t.D ? 1 : 0, hasZ: t.z ? 1 : 0, hasBias: t.deltaBias ? 1 : 0,
    };
    const words = new Uint32Array(PARAMS.length);
    opts.tick?.(0);
    let run = TL;
    for (let l0 = 0; l0 < L; ) {
      const l1 = Math.min(L, l0 + run);
      Object.assign(params, { l0, l1 });
      PARAMS.forEach((f, i) => (words[i] = params[f]));
      device.queue.writeBuffer(uniform, 0, words);
      const ms = await runPass(device, pipeline, bindGroup, [groups], timer.next(), 'WGSL selective-scan kernel');
      l0 = l1;
      // Runs of ~TARGET_MS: the cancel flag is then seen well within 100 ms.
      if (ms < TARGET_MS / 2) run *= 2;
      else if (ms > TARGET_MS * 2) run = Math.max(TL, Math.floor(run / 2 / TL) * TL);
      opts.tick?.(l0 / L);
    }
    return { y, state, gpu: await timer.read() };
  } catch (err) {
    timer.dispose();
    tf.dispose([y, state]);
    throw err;
  } finally {
    uniform?.destroy();
    tf.dispose(temps);
  }
}
