// Host side of the WGSL fused attention kernel (attention.wgsl.ts). It runs on tfjs-backend-webgpu's
// own GPUDevice: the inputs and the output are tfjs tensors (so tf.memory() and the profiler count
// them), their GPUBuffers are bound to the kernel's pipeline, and the result comes back through
// tfjs's read. The job list (block mask) is the same as the wasm kernel's (attention-spec.ts).
// Jobs are dispatched in chunks sized to ~50 ms each; between chunks the caller's tick runs
// (progress, cancel) — a wait for the queue, not a host read. Nothing is read back until the end.
import type * as tfc from '@tensorflow/tfjs-core';
import { mergeIndexOf, planJobs, type FusedAttentionResult, type FusedAttentionSpec, type Job, type JobPlan, type MergeIndex } from '../attention-spec.js';
import { MERGE_FIELDS, MERGE_WG, mergeShader } from './attention-merge.wgsl.js';
import { PassTimer, type GpuTime } from './attention-timer.js';
import { flushTfjs, KernelUnsupported, runPass } from './pass.js';
import { isSoftwareAdapter, type AdapterFacts } from '../../engine/backends/adapter.js';
import { backendPeak } from '../../engine/backends/peak.js';
import { attentionShader, BLOCKING, GPU_BLOCKING, invocations, MAX_INVOCATIONS, JOB_INTS, PARAM_FIELDS, ROWS, shaderKey, workgroupBytes, type ShaderShape } from './attention.wgsl.js';

/** What this module uses of tfjs-backend-webgpu's WebGPUBackend (public fields of its class). */
interface TfWebGPUBackend {
  device: GPUDevice;
  queue: GPUQueue;
  tensorMap: { get(dataId: object): { resource?: unknown } };
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  /** tfjs's AdapterInfo: vendor and architecture, as the adapter reported them. */
  adapterInfo?: AdapterFacts;
}

export { KernelUnsupported };

export interface WebGPURunOptions {
  /** Called between chunks of work (≤ ~50 ms apart) with the fraction done; may throw (cancel). */
  tick?(fraction: number): void;
  /** Test hook: compile this WGSL instead of the kernel's (forces a compile failure). */
  shaderOverride?: string;
  /**
   * Bench hook: another register blocking than the adapter's (rows per invocation, keys per step,
   * keys per workgroup-memory chunk).
   */
  blocking?: { rb: number; kb: number; chunk?: number };
  /** Bench hook: tiles in the first dispatch (later ones adapt to ~TARGET_MS each). */
  firstTiles?: number;
  /** Test hook: blocking and schedule as for this kind of adapter (CI has only software ones). */
  adapterKind?: 'software' | 'hardware';
}

/** tfjs's active backend when it is WebGPU, else undefined. */
export function webgpuBackendOf(tf: typeof tfc): TfWebGPUBackend | undefined {
  const b = tf.backend() as unknown as Partial<TfWebGPUBackend>;
  return b && b.device && b.queue && typeof b.uploadToGPU === 'function' ? (b as TfWebGPUBackend) : undefined;
}

const pipelines = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

async function pipelineFor(device: GPUDevice, key: string, code: string): Promise<GPUComputePipeline> {
  let byKey = pipelines.get(device);
  if (!byKey) pipelines.set(device, (byKey = new Map()));
  let p = byKey.get(key);
  if (!p) {
    p = (async () => {
      const module = device.createShaderModule({ code, label: key });
      const info = await module.getCompilationInfo?.();
      const errors = info?.messages.filter((m) => m.type === 'error') ?? [];
      if (errors.length) throw new KernelUnsupported(`the WGSL attention kernel does not compile on this adapter: ${errors.map((e) => `line ${e.lineNum}: ${e.message}`).join('; ')}`);
      try {
        return await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
      } catch (err) {
        throw new KernelUnsupported(`the WGSL attention kernel's pipeline was refused by this adapter: ${(err as Error).message}`);
      }
    })();
    byKey.set(key, p);
    p.catch(() => byKey!.delete(key)); // a later call retries (and reports again)
  }
  return p;
}

/**
 * On a real GPU, a plan whose longest job is much longer than the mean (global rows that see every
 * key: BigBird, Longformer) is planned again with its long jobs cut (split-K, merged on the device),
 * so that no workgroup runs far longer than the rest. Not where the rows are merged already.
 */
export function balanced(spec: FusedAttentionSpec, plan: JobPlan): JobPlan {
  if (!plan.direct || spec.merge || !plan.jobs.length) return plan;
  const longest = plan.jobs[0]!.codes.length; // sorted longest first
  const mean = plan.nTiles / plan.jobs.length;
  if (longest <= 32 || longest <= 4 * mean) return plan;
  return planJobs({ ...spec, maxTilesPerJob: Math.max(32, Math.ceil(2 * mean)) });
}

/**
 * Deals jobs (sorted longest first) into `piles` runs, round-robin: each run is again longest first
 * and mixes long and short jobs, so a dispatch of one run fills the GPU and ends evenly.
 */
export function dealInto<T>(jobs: T[], piles: number): T[] {
  if (piles <= 1) return jobs;
  return Array.from({ length: piles }, (_, p) => jobs.filter((_, x) => x % piles === p)).flat();
}

/** Keys per workgroup-memory chunk: the largest of 64, 32, 16, 8 that divides the tile and fits the limit. */
function chunkFor(D: number, Dv: number, Bk: number, limits: GPUSupportedLimits, wanted?: number): number {
  for (const chunk of wanted ? [wanted, 64, 32, 16, 8] : [64, 32, 16, 8]) if (Bk % chunk === 0 && workgroupBytes({ D, Dv, chunk }) <= limits.maxComputeWorkgroupStorageSize) return chunk;
  throw new KernelUnsupported(
    `the WGSL attention kernel needs ${workgroupBytes({ D, Dv, chunk: 8 })} bytes of workgroup memory for head dims ${D}/${Dv}; this adapter allows ${limits.maxComputeWorkgroupStorageSize}`,
  );
}

function checkLimits(limits: GPUSupportedLimits, wg: number, buffers: [string, number][]): void {
  if (limits.maxComputeInvocationsPerWorkgroup < wg || limits.maxComputeWorkgroupSizeX < wg)
    throw new KernelUnsupported(`the WGSL attention kernel needs ${wg} invocations per workgroup; this adapter allows ${limits.maxComputeInvocationsPerWorkgroup}`);
  if (limits.maxStorageBuffersPerShaderStage < 6)
    throw new KernelUnsupported(`the WGSL attention kernel binds 6 storage buffers; this adapter allows ${limits.maxStorageBuffersPerShaderStage}`);
  for (const [name, bytes] of buffers)
    if (bytes > limits.maxStorageBufferBindingSize)
      throw new KernelUnsupported(
        `the WGSL attention kernel's ${name} buffer is ${(bytes / 2 ** 20).toFixed(1)} MiB, over this adapter's storage binding limit of ${(limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`,
      );
}

/** Jobs of more than ROWS rows become several jobs (same tiles, consecutive output rows). */
function splitRows(jobs: Job[]): Job[] {
  if (jobs.every((j) => j.rows <= ROWS)) return jobs;
  return jobs.flatMap((j) => Array.from({ length: Math.ceil(j.rows / ROWS) }, (_, x) => ({ ...j, r0: j.r0 + x * ROWS, rows: Math.min(ROWS, j.rows - x * ROWS), out0: j.out0 + x * ROWS })));
}

const TARGET_MS = 50;

/**
 * What the kernel needs of an adapter for these shapes — the same bounds the run checks (chunkFor,
 * checkLimits), at the smallest K/V chunk — for the node's declaration (NodeDef.adapterNeeds), so
 * the compiler says before the run which node falls back. `splits`: split-K parts per row.
 */
export function webgpuAttentionNeeds(s: { H: number; Hkv: number; Tq: number; Tk: number; D: number; Dv: number; splits?: number }) {
  const wg = MAX_INVOCATIONS;
  const largest = Math.max(s.H * s.Tq * s.D, s.Hkv * s.Tk * s.D, s.Hkv * s.Tk * s.Dv, s.H * s.Tq * (s.Dv + 1) * Math.max(1, s.splits ?? 1)) * 4;
  return {
    kernel: 'WGSL fused attention',
    fallback: 'wasm fused attention',
    limits: [
      { name: 'maxComputeWorkgroupStorageSize', min: workgroupBytes({ D: s.D, Dv: s.Dv, chunk: 8 }), for: `K/V chunks of 8 keys at head dims ${s.D}/${s.Dv} in workgroup memory` },
      { name: 'maxComputeInvocationsPerWorkgroup', min: wg, for: `workgroups of ${wg} invocations` },
      { name: 'maxComputeWorkgroupSizeX', min: wg, for: `workgroups of ${wg} invocations` },
      { name: 'maxStorageBuffersPerShaderStage', min: 6, for: 'its 6 storage buffers' },
      { name: 'maxStorageBufferBindingSize', min: largest, for: `its largest buffer (${(largest / 2 ** 20).toFixed(1)} MiB)` },
    ],
  };
}

export interface WebGPUAttentionResult extends FusedAttentionResult {
  /** GPU time of the kernel's passes (timestamp queries), or why there is none. */
  gpu: GpuTime;
}

/** Runs the merge (attention-merge.wgsl.ts: split-K parts, or spec.merge) over the kernel's rows; returns the merged tensor [rows·(Dv+1)]. */
async function mergeOnDevice(
  tf: typeof tfc,
  backend: TfWebGPUBackend,
  plan: JobPlan,
  { rows, parts: S, index }: MergeIndex,
  Dv: number,
  parts: GPUBuffer,
  gpuTensor: (t: tfc.Tensor) => GPUBuffer,
  timer: PassTimer,
): Promise<tfc.Tensor> {
  const { device } = backend;
  const pipeline = await pipelineFor(device, 'fused-attention-merge', mergeShader());
  const merged = tf.zeros([rows * (Dv + 1)]);
  const buffers = [parts, gpuTensor(tf.tensor1d(index, 'int32')), gpuTensor(merged)];
  flushTfjs(backend);
  const groups = Math.ceil(rows / MERGE_WG);
  const dispatchX = Math.min(groups, device.limits.maxComputeWorkgroupsPerDimension);
  const uniform = device.createBuffer({ size: MERGE_FIELDS.length * 4, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  try {
    device.queue.writeBuffer(uniform, 0, new Uint32Array([rows, Dv, S, plan.outRows, dispatchX, 0, 0, 0]));
    const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [...buffers.map((buffer, binding) => ({ binding, resource: { buffer } })), { binding: 3, resource: { buffer: uniform } }] });
    await runPass(device, pipeline, bindGroup, [dispatchX, Math.ceil(groups / dispatchX)], timer.next(), 'WGSL split-K merge');
  } finally {
    uniform.destroy();
  }
  return merged;
}

/** Runs attention as specified on tfjs's WebGPU device; throws KernelUnsupported when it cannot run here. */
export async function fusedAttentionWebGPU(tf: typeof tfc, spec: FusedAttentionSpec, opts: WebGPURunOptions = {}): Promise<WebGPUAttentionResult> {
  const backend = webgpuBackendOf(tf);
  if (!backend) throw new KernelUnsupported(`the WGSL attention kernel needs tfjs's webgpu backend (active: ${tf.getBackend()})`);
  const { device } = backend;
  const t0 = performance.now();
  const { H, Hkv, Tq, Tk, D, Dv } = spec;
  const software = opts.adapterKind ? opts.adapterKind === 'software' : isSoftwareAdapter(backend.adapterInfo ?? {});
  const plan = software ? planJobs(spec) : balanced(spec, planJobs(spec));
  const merge = mergeIndexOf(spec, plan);
  // The first dispatch's tiles. A software adapter does ~256 in TARGET_MS. A real GPU needs
  // thousands of workgroups in flight (a 256-tile dispatch ran one causal job on one multiprocessor
  // of an H200): size it to TARGET_MS at a tenth of the device's measured multiply-add peak.
  const tileFlops = ROWS * plan.Bk * 2 * (D + Dv);
  const firstTiles =
    opts.firstTiles ??
    (software ? 256 : Math.max(256, Math.floor((0.1 * (await backendPeak('webgpu', tf)!).gflops * 1e6 * TARGET_MS) / tileFlops)));
  const allJobs = splitRows(plan.jobs);
  const totalTiles = Math.max(1, allJobs.reduce((n, j) => n + j.codes.length, 0));
  // Each dispatch a run of about firstTiles tiles that mixes long and short jobs (longest first).
  const jobs = software ? allJobs : dealInto(allJobs, Math.ceil(totalTiles / firstTiles));
  const { TkP, outRows } = plan;
  const bands = spec.bands ?? [];
  const intervals = spec.intervals ?? [];
  const rank1 = spec.rank1 ?? [];

  // Integer side data: qpos, kpos, jobs, tile codes, bands, intervals (qa, qb per row; ka, kb per key).
  const oKpos = Tq;
  const oJobs = oKpos + TkP;
  const oTiles = oJobs + jobs.length * JOB_INTS;
  const oBands = oTiles + plan.nTiles;
  const oIntervals = oBands + bands.length * 4;
  const ints = new Int32Array(Math.max(1, oIntervals + intervals.length * 2 * (Tq + TkP)));
  ints.set(plan.qpos, 0);
  ints.set(plan.kposP, oKpos);
  let tile0 = 0;
  const tileListAt = new Map<number[], number>();
  jobs.forEach((j, x) => {
    const at = oJobs + x * JOB_INTS;
    ints[at] = j.h;
    ints[at + 1] = j.r0;
    ints[at + 2] = j.rows;
    ints[at + 4] = j.codes.length;
    ints[at + 5] = j.out0;
    // Sub-jobs of one split job share its tile list.
    const shared = tileListAt.get(j.codes);
    if (shared !== undefined) ints[at + 3] = shared;
    else {
      tileListAt.set(j.codes, tile0);
      ints[at + 3] = tile0;
      ints.set(j.codes, oTiles + tile0);
      tile0 += j.codes.length;
    }
  });
  bands.forEach((b, x) => ints.set([b.gcol, b.grow, b.lo, b.hi].map((n) => Math.max(-0x3fffffff, Math.min(0x3fffffff, n))), oBands + x * 4));
  intervals.forEach((iv, x) => {
    const at = oIntervals + x * 2 * (Tq + TkP);
    ints.set(iv.qa.subarray(0, Tq), at);
    ints.set(iv.qb.subarray(0, Tq), at + Tq);
    ints.set(iv.ka.subarray(0, Tk), at + 2 * Tq);
    ints.set(iv.kb.subarray(0, Tk), at + 2 * Tq + TkP);
  });
  // Float side data: slopes per head (or per query row), rank-1 pairs.
  const slopes = spec.rowSlopes ?? spec.slopes;
  const oRank1 = slopes?.length ?? 0;
  const floats = new Float32Array(oRank1 + rank1.length * (Tq + TkP));
  if (slopes) floats.set(Array.from(slopes, Number));
  rank1.forEach((t, x) => {
    floats.set(t.qw.subarray(0, Tq), oRank1 + x * (Tq + TkP));
    floats.set(t.kw.subarray(0, Tk), oRank1 + x * (Tq + TkP) + Tq);
  });

  const limits = device.limits;
  const { chunk, ...blocking }: NonNullable<WebGPURunOptions['blocking']> = opts.blocking ?? (software ? BLOCKING : GPU_BLOCKING);
  const shape: ShaderShape = { D, Dv, chunk: chunkFor(D, Dv, plan.Bk, limits, chunk), ...blocking, relu: spec.score === 'relu' };
  checkLimits(limits, invocations(shape), [['q', spec.q.byteLength], ['k', spec.k.byteLength], ['v', spec.v.byteLength], ['mask', ints.byteLength], ['bias', floats.byteLength], ['output', outRows * (Dv + 1) * 4]]);
  const pipeline = await pipelineFor(device, opts.shaderOverride ? `override:${opts.shaderOverride}` : shaderKey(shape), opts.shaderOverride ?? attentionShader(shape));

  const tensors: tfc.Tensor[] = [];
  const gpuTensor = (t: tfc.Tensor): GPUBuffer => {
    tensors.push(t);
    backend.uploadToGPU(t.dataId);
    return backend.tensorMap.get(t.dataId).resource as GPUBuffer;
  };
  const nonEmpty = (a: Float32Array) => (a.length ? a : new Float32Array(1));
  let uniform: GPUBuffer | undefined;
  let timer: PassTimer | undefined;
  try {
    const buffers = [
      gpuTensor(tf.tensor1d(nonEmpty(spec.q))),
      gpuTensor(tf.tensor1d(nonEmpty(spec.k))),
      gpuTensor(tf.tensor1d(nonEmpty(spec.v))),
      gpuTensor(tf.tensor1d(ints, 'int32')),
      gpuTensor(tf.tensor1d(floats.length ? floats : new Float32Array(1))),
    ];
    const outT = tf.zeros([outRows * (Dv + 1)]);
    buffers.push(gpuTensor(outT));
    // tfjs's pending uploads go first; the kernel's passes follow on the same queue.
    flushTfjs(backend);

    uniform = device.createBuffer({ size: PARAM_FIELDS.length * 4, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [...buffers.map((buffer, binding) => ({ binding, resource: { buffer } })), { binding: 6, resource: { buffer: uniform } }],
    });
    const params: Record<(typeof PARAM_FIELDS)[number], number> = {
      jobOffset: 0, nJobs: 0, dispatchX: 0, Tq, Tk, Bk: plan.Bk, group: H / Hkv, outRows,
      nBand: bands.length, nInterval: intervals.length, nRank1: rank1.length, hasSlopes: spec.rowSlopes ? 2 : spec.slopes ? 1 : 0,
      oKpos, oJobs, oTiles, oBands, oIntervals, TkP, oRank1, scale: spec.scale,
      d4: Math.ceil(D / 4), v4: Math.ceil(Dv / 4), chunk: shape.chunk, pad: 0,
    };
    const block = new ArrayBuffer(PARAM_FIELDS.length * 4);
    const asU32 = new Uint32Array(block);
    const asF32 = new Float32Array(block);

    const t1 = performance.now();
    timer = new PassTimer(device);
    const maxGroups = limits.maxComputeWorkgroupsPerDimension;
    let chunkTiles = firstTiles;
    let next = 0;
    let tilesDone = 0;
    opts.tick?.(0);
    while (next < jobs.length) {
      // A run of jobs with about chunkTiles tiles (jobs are sorted longest first).
      let end = next;
      let tiles = 0;
      while (end < jobs.length && (end === next || tiles + jobs[end]!.codes.length <= chunkTiles) && end - next < maxGroups * maxGroups) tiles += jobs[end++]!.codes.length;
      const n = end - next;
      const dispatchX = Math.min(n, maxGroups);
      Object.assign(params, { jobOffset: next, nJobs: n, dispatchX });
      PARAM_FIELDS.forEach((f, x) => (f === 'scale' ? (asF32[x] = params[f]) : (asU32[x] = params[f])));
      device.queue.writeBuffer(uniform, 0, block);
      const ms = await runPass(device, pipeline, bindGroup, [dispatchX, Math.ceil(n / dispatchX)], timer.next(), 'WGSL attention kernel');
      next = end;
      tilesDone += tiles;
      // Aim each chunk at ~TARGET_MS of work: the cancel flag is then seen well within 100 ms.
      if (ms < TARGET_MS / 2) chunkTiles = Math.floor(chunkTiles * (software ? 2 : Math.min(8, TARGET_MS / Math.max(ms, 1))));
      else if (ms > TARGET_MS * 2) chunkTiles = Math.max(1, Math.floor(chunkTiles / 2));
      opts.tick?.(tilesDone / totalTiles);
    }
    // Split-K parts or spec.merge: merged on the device; only the merged rows come back.
    const merged = merge ? await mergeOnDevice(tf, backend, plan, merge, Dv, buffers[5]!, gpuTensor, timer!) : outT;
    const data = (await merged.data()) as Float32Array;
    const kernelMs = performance.now() - t1;
    const rowsBack = merge ? merge.rows : outRows;
    const R = merge ? merge.rows : H * Tq;
    const out = data.slice(0, R * Dv);
    const lse = Float32Array.from(data.subarray(rowsBack * Dv, rowsBack * Dv + R), (x) => (x <= -1e38 ? -Infinity : x));
    const gpu = await timer.read();
    return { out, lse, tilesComputed: plan.tilesComputed, tilesTotal: plan.tilesTotal, bytes: 0, prepMs: t1 - t0, kernelMs, gpu };
  } finally {
    uniform?.destroy();
    timer?.dispose();
    tf.dispose(tensors);
  }
}
