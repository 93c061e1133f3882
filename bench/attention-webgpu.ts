// The WGSL fused attention kernel against tfjs-webgpu compositions, side by side in one process on
// the same WebGPU device (Node: Dawn on Mesa's lavapipe, a CPU Vulkan driver — so relative speed
// only): the `attention` node's flash variant on the kernel, the same variant's tfjs composition
// (per-tile tfjs ops, what the webgpu backend ran before), and the materialised QKᵀ → softmax → PV
// that a JS user would write with tfjs.
// Run: npx tsx bench/run.ts --only attention-webgpu   (or directly: npx tsx bench/attention-webgpu.ts)
import { cpus, loadavg } from 'node:os';
import { attention } from '../src/nodes/attention/index.js';
import { fusedKernelHooks } from '../src/nodes/attention/fused-backends.js';
import { syntheticQkv } from '../src/nodes/sources/synthetic-qkv.js';
import { initBackend } from '../src/engine/backends/tf.js';
import { nodeBackendSetup } from '../src/engine/node/setup.js';
import type { Tensor } from '../src/engine/tensor.js';
import { ctxFor } from './context.js';

const log = (s: string) => process.stderr.write(s + '\n');
const quick = process.argv.includes('--quick');

/** Wall ms and this process's CPU ms (all threads: lavapipe runs the shaders on threads of this process). */
async function timed(f: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await f();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

export async function benchAttentionWebGPU(): Promise<string> {
  const { info } = await initBackend('webgpu', nodeBackendSetup('bench'));
  if (info.name !== 'webgpu') throw new Error(`webgpu unavailable: ${info.fallbackReason}`);
  const ctx = await ctxFor('webgpu');
  // The fused rows must be the WGSL kernel's: a fallback (to the wasm kernel) stops the benchmark.
  ctx.fallback = (reason) => {
    throw new Error(`the WGSL kernel did not run: ${reason}`);
  };
  let gpuMs: number | undefined;
  let gpuWhy: string | undefined;
  ctx.gpuTime = (t) => ('ms' in t ? (gpuMs = (gpuMs ?? 0) + t.ms) : (gpuWhy = t.unavailable));
  const { tf } = ctx;
  const H = 8;
  const D = 64;
  const T = quick ? 512 : 2048;
  const reps = quick ? 1 : 3;
  const ins = syntheticQkv({ heads: H, seqLen: T, headDim: D, seed: 1, sinkStrength: 4, sinkTokens: 4, locality: 2 } as never);
  const flops = (4 * T * T * D * H) / 2;
  const params = attention.params.parse({ variant: 'flash', causal: true });
  const run = async () => (await attention.run(ctx, ins as never, params)).out as Tensor;

  // Warm-up: pipeline compiles are not what is measured.
  log('webgpu: warm-up…');
  const fusedOut = await run();
  fusedKernelHooks.disabled = true;
  let composedOut: Tensor;
  try {
    composedOut = await run();
  } finally {
    fusedKernelHooks.disabled = false;
  }
  let maxDiff = 0;
  for (let x = 0; x < fusedOut.data.length; x++) maxDiff = Math.max(maxDiff, Math.abs(fusedOut.data[x]! - composedOut.data[x]!));

  const materialised = async () => {
    const out = tf.tidy(() => {
      const qt = tf.tensor3d(ins.q.data as Float32Array, [H, T, D]);
      const kt = tf.tensor3d(ins.k.data as Float32Array, [H, T, D]);
      const vt = tf.tensor3d(ins.v.data as Float32Array, [H, T, D]);
      const scores = tf.mul(tf.matMul(qt, kt, false, true), 1 / Math.sqrt(D));
      const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0);
      const masked = tf.where(tf.cast(mask, 'bool'), scores, tf.fill([H, T, T], -Infinity));
      return tf.matMul(tf.softmax(masked), vt);
    });
    await out.data();
    out.dispose();
  };
  await materialised();

  const ms = { fused: Infinity, composed: Infinity, materialised: Infinity };
  const cpu = { ...ms };
  let fusedGpu = Infinity;
  const keep = (k: keyof typeof ms, t: { wall: number; cpu: number }) => ((ms[k] = Math.min(ms[k], t.wall)), (cpu[k] = Math.min(cpu[k], t.cpu)));
  // Interleaved rounds: a load change on the shared machine hits all three alike.
  for (let r = 0; r < reps; r++) {
    log(`webgpu round ${r + 1}/${reps}…`);
    gpuMs = undefined;
    keep('fused', await timed(async () => void (await run())));
    if (gpuMs !== undefined) fusedGpu = Math.min(fusedGpu, gpuMs);
    fusedKernelHooks.disabled = true;
    try {
      keep('composed', await timed(async () => void (await run())));
    } finally {
      fusedKernelHooks.disabled = false;
    }
    keep('materialised', await timed(materialised));
  }
  const gf = (m: number) => (flops / m / 1e6).toFixed(1);
  const a = info.adapter;
  return [
    '## Attention kernel: fused WGSL against tfjs-webgpu',
    '',
    `Adapter: ${a ? `${a.vendor} ${a.architecture}${a.description ? ` (${a.description})` : ''}${a.isFallbackAdapter ? ', a fallback (software) adapter' : ''}` : 'unknown'} through the \`webgpu\` package (Dawn) in Node ${process.version};`,
    `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at the end (other processes share them). A software adapter: relative speed only.`,
    `Causal attention, H = ${H}, D = ${D}, T = ${T}, f32, synthetic workload; best of ${reps} interleaved rounds after a warm-up; each time includes the upload of Q/K/V and the read-back of O. FLOPs 4·T²·D·H/2.`,
    'Wall ms, and CPU ms of this process (all its threads: lavapipe runs the shaders on threads of this process), the steadier figure when other jobs load the machine;',
    `the fused kernel's GPU ms from timestamp queries: ${fusedGpu < Infinity ? `${fusedGpu.toFixed(0)} ms` : `none (${gpuWhy ?? 'not reported'})`}.`,
    'Command: `npx tsx bench/run.ts --only attention-webgpu`.',
    '',
    '| implementation | wall ms | CPU ms | GFLOP/s (wall) | fused is (wall · CPU) |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| \`attention\` flash on the WGSL fused kernel | ${ms.fused.toFixed(0)} | ${cpu.fused.toFixed(0)} | ${gf(ms.fused)} | |`,
    `| \`attention\` flash as tfjs-webgpu ops per tile (its composition) | ${ms.composed.toFixed(0)} | ${cpu.composed.toFixed(0)} | ${gf(ms.composed)} | ${(ms.composed / ms.fused).toFixed(2)}× · ${(cpu.composed / cpu.fused).toFixed(2)}× as fast (target ≥ 3×) |`,
    `| tfjs-webgpu materialised: matMul, mask, softmax, matMul | ${ms.materialised.toFixed(0)} | ${cpu.materialised.toFixed(0)} | ${gf(ms.materialised)} | ${(ms.materialised / ms.fused).toFixed(2)}× · ${(cpu.materialised / cpu.fused).toFixed(2)}× as fast |`,
    '',
    `Fused and composed outputs differ by at most ${maxDiff.toExponential(1)}.`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchAttentionWebGPU());
