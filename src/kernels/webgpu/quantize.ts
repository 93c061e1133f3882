// Group-wise min-max (or absmax) quantize + dequantize in WGSL on tfjs-backend-webgpu's device, with
// packed codes: 32/b codes per u32 word, low bits first (3-bit: 10 per word). One invocation per
// group: min/max over its elements, the group's scale (and min), then every element's code — OR-ed
// into its word atomically (a word may straddle groups) — and its dequantized value. Where the
// elements, codes and scales of a group sit is an affine layout, so one kernel serves the quantize
// node's `group` variant (groups along any axis, codes in element order) and KIVI's cache layouts
// (keys per channel over token groups, values per token over channel groups, codes in KIVI's order).
// Groups are dispatched in runs sized to ~50 ms, with the caller's tick between them; one read at the end.
import type * as tfc from '@tensorflow/tfjs-core';
import { webgpuBackendOf } from './attention.js';
import { flushTfjs, KernelUnsupported, runPass } from './pass.js';
import { PassTimer, type GpuTime } from './attention-timer.js';
import { kernelPipeline } from './scan.js';
import type { GroupLayout } from '../quantize-layout.js';

export { axisLayout, kiviKeyLayout, kiviValueLayout, type GroupLayout } from '../quantize-layout.js';

export interface GroupQuantOptions {
  bits: number;
  /** absmax with a signed range [−L, L] stored offset by L + 1, L = 2^(b−1) − 1; else min-max over [0, 2^b − 1]. */
  symmetric: boolean;
  /** Round half up (Math.round, as KIVI's reference); else half to even (torch.round, WGSL round). */
  roundHalfUp?: boolean;
  tick?(fraction: number): void;
  /** Test hook: compile this WGSL instead of the kernel's. */
  shaderOverride?: string;
}

/** Test hook: WGSL to compile instead of the kernel's (forces every caller's fallback path). */
export const quantizeKernelHooks: { shaderOverride?: string } = {};

const WG = 64;
const PARAMS = ['rows', 'len', 'G', 'nG', 'f1', 's1', 's2', 'js', 'c1', 'c2', 'c3', 'c4', 't1', 't2', 't3', 'bits', 'per', 'L', 'symmetric', 'halfUp', 'g0', 'gCount', 'dispatchX', 'pad'] as const;

export const quantizeShader = /* wgsl */ `
struct Params { ${PARAMS.map((f) => `${f}: u32`).join(', ')} }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> codes: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> scales: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn rnd(v: f32) -> f32 {
  if (p.halfUp != 0u) { let r = floor(v); return select(r, r + 1.0, v - r >= 0.5); } // Math.round
  return round(v); // half to even
}

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let k = gid.x + gid.y * p.dispatchX * ${WG}u;
  if (k >= p.gCount) { return; }
  let gi = p.g0 + k;
  let f = gi / p.nG;
  let g = gi % p.nG;
  let a = f / p.f1;
  let b = f % p.f1;
  let j0 = g * p.G;
  let j1 = min(p.len, j0 + p.G);
  let base = a * p.s1 + b * p.s2;
  let sym = p.symmetric != 0u;
  var mn = x[base + j0 * p.js];
  var mx = mn;
  if (sym) { mx = abs(mn); }
  for (var j = j0 + 1u; j < j1; j++) {
    let v = x[base + j * p.js];
    if (sym) { mx = max(mx, abs(v)); } else { mn = min(mn, v); mx = max(mx, v); }
  }
  let Lf = f32(p.L);
  var s: f32;
  if (sym) { s = mx / Lf; } else { s = (mx - mn) / Lf; }
  let safe = select(1.0, s, s > 0.0);
  let si = a * p.t1 + b * p.t2 + g * p.t3;
  if (sym) { scales[si] = s; } else { scales[2u * si] = s; scales[2u * si + 1u] = mn; }
  let cbase = a * p.c1 + b * p.c2 + g * p.c3;
  for (var j = j0; j < j1; j++) {
    let e = base + j * p.js;
    let v = x[e];
    var code: u32;
    if (sym) {
      let q = clamp(rnd(v / safe), -Lf, Lf);
      out[e] = q * s;
      code = u32(q + Lf + 1.0);
    } else {
      let q = clamp(rnd((v - mn) / safe), 0.0, Lf);
      let qs = q * s;
      out[e] = qs + mn;
      code = u32(q);
    }
    let ci = cbase + (j - j0) * p.c4;
    atomicOr(&codes[ci / p.per], code << ((ci % p.per) * p.bits));
  }
}
`;

const TARGET_MS = 50;

/**
 * Quantizes the groups of `layout` in x (a flat float32 tensor) and dequantizes them: `out` is x with
 * every grouped element replaced by its dequantized value (others are copied), `codes` the packed
 * words (int32 tensor holding u32 bits), `scales` the scales (symmetric) or (scale, min) pairs, `gpu`
 * the passes' time from timestamp queries (or why there is none). The caller disposes the tensors. Throws KernelUnsupported when it cannot run here.
 */
export async function groupQuantizeWebGPU(
  tf: typeof tfc,
  x: tfc.Tensor1D,
  layout: GroupLayout,
  opts: GroupQuantOptions,
): Promise<{ out: tfc.Tensor1D; codes: tfc.Tensor1D; scales: tfc.Tensor1D; gpu: GpuTime }> {
  const backend = webgpuBackendOf(tf);
  if (!backend) throw new KernelUnsupported(`the WGSL group-quantize kernel needs tfjs's webgpu backend (active: ${tf.getBackend()})`);
  const { device } = backend;
  const limits = device.limits;
  if (limits.maxComputeInvocationsPerWorkgroup < WG || limits.maxComputeWorkgroupSizeX < WG)
    throw new KernelUnsupported(`the WGSL group-quantize kernel needs ${WG} invocations per workgroup; this adapter allows ${limits.maxComputeInvocationsPerWorkgroup}`);
  if (x.size * 4 > limits.maxStorageBufferBindingSize)
    throw new KernelUnsupported(`the WGSL group-quantize kernel's input is ${((x.size * 4) / 2 ** 20).toFixed(1)} MiB, over this adapter's storage binding limit of ${(limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`);
  const per = Math.floor(32 / opts.bits);
  const L = opts.symmetric ? 2 ** (opts.bits - 1) - 1 : 2 ** opts.bits - 1;
  const nG = Math.ceil(layout.len / layout.groupSize);
  const groups = layout.rows * nG;
  const words = Math.ceil(layout.codes / per);
  const pipeline = await kernelPipeline(device, 'group-quantize', opts.shaderOverride ?? quantizeKernelHooks.shaderOverride ?? quantizeShader);

  // out starts as a copy of x (a new buffer: tf.clone would share x's), codes as zeros (OR-ed into).
  const out = tf.mul(x, 1) as tfc.Tensor1D;
  const codes = tf.zeros([Math.max(1, words)], 'int32') as tfc.Tensor1D;
  const scales = tf.zeros([Math.max(1, groups * (opts.symmetric ? 1 : 2))]) as tfc.Tensor1D;
  let uniform: GPUBuffer | undefined;
  const timer = new PassTimer(device);
  try {
    const bufferOf = (t: tfc.Tensor): GPUBuffer => {
      backend.uploadToGPU(t.dataId);
      return backend.tensorMap.get(t.dataId).resource as GPUBuffer;
    };
    const buffers = [x, out, codes, scales].map(bufferOf);
    flushTfjs(backend);
    uniform = device.createBuffer({ size: PARAMS.length * 4, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [...buffers.map((buffer, binding) => ({ binding, resource: { buffer } })), { binding: 4, resource: { buffer: uniform } }],
    });
    const l = layout;
    const params: Record<(typeof PARAMS)[number], number> = {
      rows: l.rows, len: l.len, G: l.groupSize, nG, f1: l.f1, s1: l.s1, s2: l.s2, js: l.js, c1: l.c1, c2: l.c2, c3: l.c3, c4: l.c4,
      t1: l.t1, t2: l.t2, t3: l.t3, bits: opts.bits, per, L, symmetric: opts.symmetric ? 1 : 0, halfUp: opts.roundHalfUp ? 1 : 0,
      g0: 0, gCount: 0, dispatchX: 0, pad: 0,
    };
    const block = new Uint32Array(PARAMS.length);
    const maxX = limits.maxComputeWorkgroupsPerDimension;
    opts.tick?.(0);
    let run = 4096;
    for (let g0 = 0; g0 < groups; ) {
      const gCount = Math.min(run, groups - g0, maxX * maxX * WG);
      const wgs = Math.ceil(gCount / WG);
      const dispatchX = Math.min(wgs, maxX);
      Object.assign(params, { g0, gCount, dispatchX });
      PARAMS.forEach((f, i) => (block[i] = params[f]));
      device.queue.writeBuffer(uniform, 0, block);
      const ms = await runPass(device, pipeline, bindGroup, [dispatchX, Math.ceil(wgs / dispatchX)], timer.next(), 'WGSL group-quantize kernel');
      g0 += gCount;
      if (ms < TARGET_MS / 2) run *= 2;
      else if (ms > TARGET_MS * 2) run = Math.max(WG, Math.floor(run / 2));
      opts.tick?.(g0 / groups);
    }
    return { out, codes, scales, gpu: await timer.read() };
  } catch (err) {
    timer.dispose();
    tf.dispose([out, codes, scales]);
    throw err;
  } finally {
    uniform?.destroy();
  }
}
