// Executes a compiled plan: one node at a time in topological order, with caching, cancellation,
// failure isolation and profiling. The same code runs in a worker_thread, a Web Worker or in-process.
import type * as tfc from '@tensorflow/tfjs-core';
import { CancelledError, ShapeError, type RandomAccessFile, type RunContext } from '../node.js';
import { formatBytes, type Plan, type PlanStep } from '../compile/compile.js';
import { formatShape } from '../tensor.js';
import { predictedBytes, valueBytes, type PortShape, type Value } from '../values.js';
import { canonicalJson, hashString, hashValue } from './hash.js';
import type { BackendInfo, MemorySample, NodeProfile, RunEvent, RunProfile, ValueSummary } from './events.js';
import { summarize } from './summary.js';
import { nonFiniteOutputs } from './checks.js';
import { variantOf } from '../variants.js';
import { dict } from '../dict.js';
import { isReadRefusal, type RefusedRead } from '../io/read-policy.js';
import { memoryFile } from '../io/safetensors.js';
import { backendPeak } from '../backends/peak.js';
import { roofline } from './roofline.js';

export interface ExecEnv {
  tf: typeof tfc;
  backend: BackendInfo;
  /** Reads a resolved path for the plan whose folder is `baseDir`; hosts confine it (io/read-policy.ts). */
  readFile(path: string, baseDir: string): Promise<Uint8Array>;
  /** Ranged reads under the same policy as readFile; without it, openFile reads the file whole. */
  openFile?(path: string, baseDir: string): Promise<RandomAccessFile>;
  resolvePath(baseDir: string, path: string): string;
  now(): number;
}

export interface CachedResult {
  outputs: Record<string, Value>;
  profile: NodeProfile;
  /** What the node handed over through ctx.emit, re-emitted on a cache hit. */
  emitted: Record<string, Value>;
}

/** Results keyed by hash(type, params, input keys): a changed param re-runs only what depends on it. */
export class ResultCache {
  private readonly map = new Map<string, CachedResult>();
  constructor(private readonly maxEntries = 512) {}
  get(key: string) {
    return this.map.get(key);
  }
  set(key: string, r: CachedResult) {
    if (this.map.size >= this.maxEntries) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, r);
  }
  clear() {
    this.map.clear();
  }
  get size() {
    return this.map.size;
  }
}

/**
 * A cancel flag readable without a message round trip (SharedArrayBuffer where available):
 * 0 running, 1 cancelled (the run ends now), 2 stop requested (nodes that work in steps end after
 * the current one and return what they have; the run goes on, so sinks still write it).
 */
export class CancelToken {
  readonly flag: Int32Array;
  constructor(buffer?: SharedArrayBuffer | ArrayBuffer) {
    this.flag = new Int32Array(buffer ?? (typeof SharedArrayBuffer !== 'undefined' ? new SharedArrayBuffer(4) : new ArrayBuffer(4)));
  }
  private get state(): number {
    return this.flag.buffer instanceof ArrayBuffer ? this.flag[0]! : Atomics.load(this.flag, 0);
  }
  private set state(v: number) {
    if (this.flag.buffer instanceof ArrayBuffer) this.flag[0] = v;
    else Atomics.store(this.flag, 0, v);
  }
  get cancelled(): boolean {
    return this.state === 1;
  }
  get stopRequested(): boolean {
    return this.state === 2;
  }
  cancel() {
    this.state = 1;
  }
  /** Asks for a graceful stop; a cancel already asked for stays a cancel. */
  stop() {
    if (this.state === 0) this.state = 2;
  }
  reset() {
    this.state = 0;
  }
}

export interface RunOptions {
  onEvent?: (e: RunEvent) => void;
  cancel?: CancelToken;
  cache?: ResultCache;
  /** Which outputs to keep in the result: only those of nodes without consumers (default) or all. */
  keep?: 'sinks' | 'all';
  /**
   * Bytes. A node whose input shapes were known only at run time is re-planned from its actual inputs
   * just before it runs, and fails (named, with the figure) when its predicted peak with the live
   * values exceeds this: the pre-flight guard for what the compiler could not size.
   */
  memoryBudget?: number;
}

export interface RunResult {
  status: RunProfile['status'];
  profile: RunProfile;
  /** Outputs by node id, then port. */
  outputs: Record<string, Record<string, Value>>;
  /** Nodes that threw: the message, and the stack for --verbose. */
  /** `invalid`: the node refused its inputs (a ShapeError: the pipeline is wrong, not the run). */
  errors: { nodeId: string; message: string; stack?: string; invalid?: true }[];
  /** Named results that sink nodes handed over (ctx.emit), e.g. written as <name>.npy by the CLI. */
  artifacts: Record<string, { nodeId: string; value: Value }>;
  /** How many nodes actually executed (not served from the cache). */
  executed: number;
  /** Reads the host's read policy refused (see io/read-policy.ts); the run stops at the first. */
  refused: RefusedRead[];
}

export async function executePlan(plan: Plan, env: ExecEnv, opts: RunOptions = {}): Promise<RunResult> {
  const emit = opts.onEvent ?? (() => {});
  const cancel = opts.cancel ?? new CancelToken();
  // The backend's peak (once per session) before the clock starts: every node is placed under it.
  const peak = await measurePeak(env);
  const t0 = env.now();
  const startedAt = new Date().toISOString();
  const values = new Map<string, Record<string, Value>>();
  const keys = new Map<string, string>();
  const failed = new Map<string, string>();
  const profiles: NodeProfile[] = [];
  const memory: MemorySample[] = [];
  const errors: RunResult['errors'] = [];
  const refused: RefusedRead[] = [];
  let liveBytes = 0;
  let measuredPeak = 0;
  let executed = 0;
  let status: RunProfile['status'] = 'ok';
  // Keyed by sink names and node ids: records without a prototype (see dict.ts).
  const artifacts: RunResult['artifacts'] = dict();
  const released = new Set<string>();
  const keptMetrics = new Map<string, Record<string, Value>>();
  const stepIndex = new Map(plan.steps.map((s, i) => [s.id, i]));
  const sample = (bytes: number, tMs = env.now() - t0) => {
    const s = { tMs, bytes };
    memory.push(s);
    emit({ type: 'memory', sample: s });
  };

  emit({ type: 'run-started', backend: env.backend, nodes: plan.steps.map((s) => s.id), predictedPeakBytes: plan.predictedPeakBytes });
  sample(0);

  for (let si = 0; si < plan.steps.length; si++) {
    const step = plan.steps[si]!;
    if (cancel.cancelled) {
      status = 'cancelled';
      break;
    }
    const upstreamFailure = Object.values(step.inputs).find((src) => failed.has(src.node));
    if (upstreamFailure) {
      const reason = `upstream node "${upstreamFailure.node}" failed`;
      failed.set(step.id, reason);
      emit({ type: 'node-skipped', nodeId: step.id, reason });
      profiles.push(emptyProfile(step, 'skipped', env.now() - t0));
      continue;
    }
    const inputs: Record<string, Value> = {};
    for (const [port, src] of Object.entries(step.inputs)) inputs[port] = values.get(src.node)![src.port]!;
    const key = step.def.flags?.volatile
      ? undefined
      : hashString(
          canonicalJson([env.backend.name, step.def.type, step.params, Object.fromEntries(Object.entries(step.inputs).map(([p, s]) => [p, `${keys.get(s.node)}.${s.port}`])), [...step.connectedOutputs].sort()]),
        );
    const hit = key ? opts.cache?.get(key) : undefined;
    const start = env.now() - t0;
    emit({ type: 'node-started', nodeId: step.id, tMs: start });
    let outputs: Record<string, Value>;
    let profile: NodeProfile;
    let emitted: Record<string, Value> = {};
    if (hit) {
      outputs = hit.outputs;
      emitted = hit.emitted;
      for (const [name, value] of Object.entries(emitted)) artifacts[name] = { nodeId: step.id, value };
      profile = { ...hit.profile, status: 'cached', startMs: start, endMs: start, wallMs: 0, liveBytes };
    } else {
      try {
        const known = replan(step, inputs);
        if (known && opts.memoryBudget !== undefined) checkBudgetAtRunTime(step, known, liveBytes, opts.memoryBudget);
        const r = await runStep(step, inputs, plan, env, cancel, emit, liveBytes, artifacts, refused, known);
        outputs = r.outputs;
        emitted = dict(Object.entries(artifacts).filter(([, a]) => a.nodeId === step.id).map(([n, a]) => [n, a.value] as const));
        profile = { ...r.profile, startMs: start, endMs: env.now() - t0 };
        Object.assign(profile, roofline(profile, step.cost, peak.peak));
        executed++;
      } catch (err) {
        if (err instanceof CancelledError || cancel.cancelled) {
          status = 'cancelled';
          profiles.push({ ...emptyProfile(step, 'failed', start), error: 'cancelled' });
          break;
        }
        const message = (err as Error)?.message ?? String(err);
        failed.set(step.id, message);
        const stack = (err as Error)?.stack;
        errors.push({ nodeId: step.id, message, ...(stack ? { stack } : {}), ...(err instanceof ShapeError ? { invalid: true as const } : {}) });
        const p = { ...emptyProfile(step, 'failed', start), endMs: env.now() - t0, error: message };
        p.wallMs = p.endMs - p.startMs;
        profiles.push(p);
        emit({ type: 'node-failed', nodeId: step.id, message, profile: p });
        // A pipeline that reaches outside what it may read goes no further.
        if (refused.length) break;
        continue;
      }
      if (key && opts.cache) opts.cache.set(key, { outputs, profile, emitted });
    }
    keys.set(step.id, key ?? hashString(canonicalJson(Object.entries(outputs).map(([p, v]) => [p, hashValue(v)]))));
    values.set(step.id, outputs);
    // Metrics are small and `checks` may read them on any node: keep them past the node's last reader.
    const metricPorts = Object.entries(outputs).filter(([, v]) => v.kind === 'metrics');
    if (metricPorts.length) keptMetrics.set(step.id, Object.fromEntries(metricPorts));
    const outBytes = Object.values(outputs).reduce((n, v) => n + valueBytes(v), 0);
    measuredPeak = Math.max(measuredPeak, liveBytes + (profile.status === 'cached' ? outBytes : profile.peakBytes));
    // The node's own peak (its working memory on top of what is live), placed mid-run: the chart's high points.
    if (profile.status !== 'cached') sample(liveBytes + profile.peakBytes, (profile.startMs + profile.endMs) / 2);
    liveBytes += outBytes;
    sample(liveBytes);
    profiles.push(profile);
    if (opts.onEvent) emit({ type: 'node-finished', nodeId: step.id, profile, outputs: summarizeAll(outputs) });

    // Free values whose last reader has run (kept in `values` only when the caller wants them all).
    for (const src of Object.values(step.inputs)) {
      if (released.has(src.node)) continue;
      const producer = plan.steps[stepIndex.get(src.node)!]!;
      if (Object.values(producer.lastUse).every((last) => last <= si)) {
        released.add(src.node);
        liveBytes -= Object.values(values.get(src.node) ?? {}).reduce((n, v) => n + valueBytes(v), 0);
        if (opts.keep !== 'all') values.delete(src.node);
      }
    }
    sample(liveBytes);
  }
  if (status === 'ok' && errors.length) status = 'failed';
  const keepAll = opts.keep === 'all';
  const outputs: RunResult['outputs'] = dict();
  for (const step of plan.steps) {
    const v = values.get(step.id);
    if (v && (keepAll || step.connectedOutputs.size === 0)) outputs[step.id] = v;
    else if (keptMetrics.has(step.id)) outputs[step.id] = keptMetrics.get(step.id)!;
  }
  const profile: RunProfile = {
    format: 'context-lab/profile',
    version: 1,
    pipeline: plan.doc.name,
    backend: env.backend,
    status,
    startedAt,
    totalMs: env.now() - t0,
    predictedPeakBytes: plan.predictedPeakBytes,
    measuredPeakBytes: measuredPeak,
    nodes: profiles,
    memory,
    ...peak,
  };
  emit({ type: 'run-finished', status, profile });
  return { status, profile, outputs, errors, executed, artifacts, refused };
}

/** The backend's measured peak, or why there is none (the profile says which). */
async function measurePeak(env: ExecEnv): Promise<Pick<RunProfile, 'peak' | 'peakError'>> {
  try {
    const p = backendPeak(env.backend.name, env.tf, env.backend.threads);
    return p ? { peak: await p } : { peakError: `no peak measurement for backend ${env.backend.name}` };
  } catch (err) {
    return { peakError: `the ${env.backend.name} peak could not be measured: ${(err as Error).message}` };
  }
}

function emptyProfile(step: PlanStep, status: NodeProfile['status'], tMs: number): NodeProfile {
  return {
    nodeId: step.id, type: step.def.type, variant: variantOf(step.params), status, startMs: tMs, endMs: tMs, wallMs: 0,
    bytesAllocated: 0, peakBytes: 0, outputBytes: 0, predictedPeakBytes: step.cost.workspaceBytes + step.predictedOutputBytes,
    liveBytes: 0, flops: step.cost.flops, gflops: null,
  };
}

/** The tfjs engine's byte count after every tensor it tracks; runStep resets it when a node starts. */
const tfWatch = { peak: 0, engines: new WeakSet<object>() };

/**
 * Wraps the engine's trackTensor (every allocation goes through it) to keep the highest byte count:
 * tfjs keeps a peak only in its profiling mode, which times every kernel. False when this tfjs has
 * no such hook; the peak is then sampled.
 */
function watchTfPeak(tf: typeof tfc): boolean {
  const engine = tf.engine() as unknown as { trackTensor?: (...args: unknown[]) => void; state: { numBytes: number } };
  if (typeof engine.trackTensor !== 'function') return false;
  if (!tfWatch.engines.has(engine)) {
    const track = engine.trackTensor;
    engine.trackTensor = function (this: typeof engine, ...args: unknown[]) {
      track.apply(this, args);
      if (this.state.numBytes > tfWatch.peak) tfWatch.peak = this.state.numBytes;
    };
    tfWatch.engines.add(engine);
  }
  tfWatch.peak = engine.state.numBytes;
  return true;
}

const fullyKnown = (s: PortShape | undefined) => !!s?.shape && s.shape.every((d) => d !== null);

/**
 * Shapes the compiler could not know (e.g. a .npy read at run time) get the compiler's checks now,
 * from the actual inputs: the node's own `infer`, so there is one rule, and a mismatch fails the
 * node with the same message instead of reaching the kernel.
 */
function actualShape(planned: PortShape | undefined, v: Value | undefined): PortShape | undefined {
  switch (v?.kind) {
    case 'tensor':
      return { ...planned, kind: 'tensor', dtype: v.dtype, shape: [...v.shape] };
    case 'tokens':
      return { ...planned, kind: 'tokens', shape: [v.ids.length] };
    case 'kv':
      return { ...planned, kind: 'kv', shape: [...v.k.shape] };
    default:
      return planned;
  }
}

/** Shapes, cost and predicted bytes of a step re-planned from its actual inputs. */
export interface RunTimePlan {
  inShapes: Record<string, PortShape | undefined>;
  outShapes: Record<string, PortShape | undefined>;
  workspaceBytes: number;
  /** Predicted bytes of each output; null where even the actual inputs do not size it (a tokenizer's T). */
  outputBytes: Record<string, number | null>;
  note?: string;
}

/**
 * Re-plans a step whose shapes the compiler left open (a .npy without a declared shape, a text's
 * token count), from its actual inputs: the node's own `infer` (so a mismatch fails the node with
 * the compiler's message instead of reaching the kernel) and `cost`. Null when the plan knew it all.
 */
function replan(step: PlanStep, inputs: Record<string, Value>): RunTimePlan | null {
  const open = (s: PortShape | undefined) => (s?.kind === 'tensor' || s?.kind === 'kv' || s?.kind === 'tokens') && !fullyKnown(s);
  if (!Object.keys(step.inputs).some((port) => open(step.inShapes[port])) && !Object.values(step.outShapes).some(open)) return null;
  const inShapes: Record<string, PortShape | undefined> = {};
  for (const port of Object.keys(step.inputs)) inShapes[port] = actualShape(step.inShapes[port], inputs[port]);
  const outShapes = step.def.infer(inShapes as never, step.params) as Record<string, PortShape | undefined>;
  const cost = step.def.cost?.(inShapes as never, step.params, outShapes as never) ?? { flops: 0, workspaceBytes: 0 };
  const outputBytes: Record<string, number | null> = {};
  for (const [port, shape] of Object.entries(outShapes))
    outputBytes[port] = step.def.outputs[port]?.optional && !step.connectedOutputs.has(port) ? 0 : shape ? predictedBytes(shape) : 0;
  return { inShapes, outShapes, workspaceBytes: cost.workspaceBytes, outputBytes, note: cost.note };
}

/**
 * The node's predicted peak alone for its profile: workspace + outputs, re-planned where the plan
 * left shapes open. Outputs whose size depends on the data, not the shapes (a tokenizer's T, metrics,
 * a text read from a file, a bias's terms), count as produced.
 */
function predictedNodeBytes(step: PlanStep, known: RunTimePlan | null, outputs: Record<string, Value | undefined>): number {
  let bytes = known ? known.workspaceBytes : step.cost.workspaceBytes + step.predictedOutputBytes;
  for (const [port, v] of Object.entries(outputs)) {
    if (!v) continue;
    const sized = v.kind === 'metrics' || v.kind === 'text' || v.kind === 'bias' ? null : known ? known.outputBytes[port] : 0;
    bytes += sized ?? valueBytes(v);
  }
  return bytes;
}

/** The memory guard for a re-planned step: its predicted peak with the live values, against the budget. */
function checkBudgetAtRunTime(step: PlanStep, known: RunTimePlan, liveBytes: number, budget: number): void {
  const need = liveBytes + known.workspaceBytes + Object.values(known.outputBytes).reduce<number>((n, b) => n + (b ?? 0), 0);
  if (need <= budget) return;
  const shapes = Object.entries(known.inShapes)
    .filter(([, s]) => s?.shape)
    .map(([port, s]) => `${port} [${formatShape(s!.shape!, s!.dtype)}]`)
    .join(', ');
  throw new Error(
    `refused before running: node "${step.id}" (${step.def.type}) needs a predicted ${formatBytes(need)} at peak with the live values` +
      `${known.note ? ` (${known.note})` : ''}, over the memory budget of ${formatBytes(budget)}; its input shapes became known at run time: ${shapes}`,
  );
}

/**
 * Inputs may carry a leading batch dimension of 1 ([1, H, T, D]); kernels drop it, and it comes back
 * here on each output whose leading dim is one that arrived batched (attention's `out` for `q`, not
 * position's `frequencies`), so users get back the layout they gave.
 */
function restoreBatch(step: PlanStep, inputs: Record<string, Value>, outputs: Record<string, Value | undefined>): void {
  const batched = new Set<string>();
  for (const [port, spec] of Object.entries(step.def.inputs)) {
    const v = inputs[port];
    if (v?.kind === 'tensor' && spec.dims && v.shape.length === spec.dims.length + 1 && v.shape[0] === 1) batched.add(spec.dims[0]!);
  }
  if (!batched.size) return;
  for (const [port, spec] of Object.entries(step.def.outputs)) {
    const v = outputs[port];
    if (v?.kind === 'tensor' && spec.dims && v.shape.length === spec.dims.length && batched.has(spec.dims[0]!))
      outputs[port] = { ...v, shape: [1, ...v.shape], ...(v.dims ? { dims: ['batch', ...v.dims] } : {}) };
  }
}

async function runStep(
  step: PlanStep,
  inputs: Record<string, Value>,
  plan: Plan,
  env: ExecEnv,
  cancel: CancelToken,
  emit: (e: RunEvent) => void,
  liveBytes: number,
  artifacts: RunResult['artifacts'],
  refused: RefusedRead[],
  known: RunTimePlan | null,
): Promise<{ outputs: Record<string, Value>; profile: NodeProfile }> {
  const { tf } = env;
  let tracked = 0;
  let trackedPeak = 0;
  let trackedTotal = 0;
  let lastProgress = 0;
  const fallbacks: string[] = [];
  let workDone = 1;
  let gpuMs: number | undefined;
  let gpuMsUnavailable: string | undefined;
  const ctx: RunContext = {
    workDone: (fraction) => {
      workDone = Math.min(1, Math.max(0, fraction));
    },
    nodeId: step.id,
    backend: env.backend.name,
    tf,
    checkCancelled: () => {
      if (cancel.cancelled) throw new CancelledError();
    },
    stopRequested: () => cancel.stopRequested,
    progress: (fraction, detail) => {
      const now = env.now();
      if (now - lastProgress < 50 && fraction < 1) return;
      lastProgress = now;
      emit(detail ? { type: 'node-progress', nodeId: step.id, fraction, detail } : { type: 'node-progress', nodeId: step.id, fraction });
    },
    isConnected: (port) => step.connectedOutputs.has(port),
    track: (bytes) => {
      tracked += bytes;
      trackedTotal += bytes;
      if (tracked > trackedPeak) trackedPeak = tracked;
    },
    release: (bytes) => {
      tracked -= bytes;
    },
    fallback: (reason) => {
      if (!fallbacks.includes(reason)) fallbacks.push(reason);
    },
    gpuTime: (t) => {
      if ('ms' in t) gpuMs = (gpuMs ?? 0) + t.ms;
      else gpuMsUnavailable = t.unavailable;
    },
    emit: (name, value) => {
      const prev = artifacts[name];
      if (prev && prev.nodeId !== step.id) throw new Error(`output name "${name}" is already written by node "${prev.nodeId}"`);
      artifacts[name] = { nodeId: step.id, value };
    },
    // Refusals are noted here: the node may wrap the error in its own message.
    readFile: (p) =>
      env.readFile(env.resolvePath(plan.baseDir, p), plan.baseDir).catch((err: unknown) => {
        if (isReadRefusal(err)) refused.push({ nodeId: step.id, path: p, message: (err as Error).message });
        throw err;
      }),
    openFile: (p) => {
      const full = env.resolvePath(plan.baseDir, p);
      const opened = env.openFile ? env.openFile(full, plan.baseDir) : env.readFile(full, plan.baseDir).then(memoryFile);
      return opened.catch((err: unknown) => {
        if (isReadRefusal(err)) refused.push({ nodeId: step.id, path: p, message: (err as Error).message });
        throw err;
      });
    },
    resolvePath: (p) => env.resolvePath(plan.baseDir, p),
  };
  // tfjs memory is sampled at every checkCancelled (once per tile) and at the end; its peak comes from
  // a watch on every tensor tfjs tracks (intermediates between samples included), without running
  // tfjs in its (slow) profiling mode.
  const tfBefore = tf.memory().numBytes;
  const watched = watchTfPeak(tf);
  let tfPeak = 0;
  let tfAllocated = 0;
  let tfLast = 0;
  const sampleTf = () => {
    const extra = tf.memory().numBytes - tfBefore;
    if (extra > tfLast) tfAllocated += extra - tfLast;
    tfLast = extra;
    tfPeak = Math.max(tfPeak, extra, watched ? tfWatch.peak - tfBefore : 0);
  };
  const check = ctx.checkCancelled;
  ctx.checkCancelled = () => {
    sampleTf();
    check();
  };
  const start = env.now();
  const outputs = (await step.def.run(ctx, inputs as never, step.params)) as Record<string, Value | undefined>;
  sampleTf();
  const wallMs = env.now() - start;
  for (const k of Object.keys(outputs)) if (outputs[k] === undefined) delete outputs[k];
  restoreBatch(step, inputs, outputs);
  for (const port of step.connectedOutputs)
    if (!(port in outputs)) throw new Error(`${step.def.type} did not produce its connected output "${port}"`);
  const outputBytes = Object.values(outputs).reduce((n, v) => n + valueBytes(v!), 0);
  // A node that stopped early (training) did only part of its planned work.
  const flops = step.cost.flops * workDone;
  const profile: NodeProfile = {
    nodeId: step.id,
    type: step.def.type,
    variant: variantOf(step.params),
    status: 'done',
    startMs: 0,
    endMs: 0,
    wallMs,
    bytesAllocated: tfAllocated + trackedTotal + outputBytes,
    peakBytes: tfPeak + trackedPeak + outputBytes,
    outputBytes,
    predictedPeakBytes: predictedNodeBytes(step, known, outputs),
    liveBytes,
    flops,
    gflops: flops > 0 && wallMs > 0 ? flops / wallMs / 1e6 : null,
    ...(fallbacks.length ? { fallbacks } : {}),
    ...(gpuMs !== undefined ? { gpuMs } : gpuMsUnavailable ? { gpuMsUnavailable } : {}),
    ...nonFiniteOutputs(outputs as Record<string, Value>),
  };
  return { outputs: outputs as Record<string, Value>, profile };
}

function summarizeAll(outputs: Record<string, Value>): Record<string, ValueSummary> {
  return Object.fromEntries(Object.entries(outputs).map(([p, v]) => [p, summarize(v)]));
}
