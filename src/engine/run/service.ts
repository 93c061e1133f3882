// The engine as a service: what a worker exposes through Comlink (Node worker_thread or Web Worker).
// It keeps the backend and the result cache between runs, so a param change re-runs only what
// depends on it.
import { initBackend, type BackendSetup } from '../backends/tf.js';
import type { CompileIssue, Plan } from '../compile/compile.js';
import { planRun, planRunSync, type MemoryRefusal } from '../compile/plan-run.js';
import { adapterCapsOf as adapterCaps, adapterFallbacks } from '../compile/adapter-needs.js';
import type { BackendName } from '../node.js';
import type { Registry } from '../registry.js';
import type { Override } from '../schema/overrides.js';
import type { ModelValue, PortShape, Value } from '../values.js';
import type { BackendInfo, RunEvent, RunProfile } from './events.js';
import { evaluateChecks, type CheckResult } from './checks.js';
import { CancelToken, executePlan, ResultCache, type ExecEnv, type RunResult } from './runtime.js';
import type { Cost, FileHead, RandomAccessFile } from '../node.js';
import { dict, own } from '../dict.js';
import { refusalIssues, type ReadAccess } from '../io/read-policy.js';
import { kernelThreads, setWasmKernelThreads } from '../../kernels/wasm/pool.js';

export interface ServiceEnv {
  setup: BackendSetup;
  /** Reads a file a pipeline names, confined by the host's read policy to `access` (io/read-policy.ts). */
  readFile(path: string, access: ReadAccess): Promise<Uint8Array>;
  /** Ranged reads under the same policy (RunContext.openFile); hosts without them read files whole. */
  openFile?(path: string, access: ReadAccess): Promise<RandomAccessFile>;
  resolvePath(baseDir: string, path: string): string;
  now(): number;
  /**
   * A file's first bytes and size, for NodeDef.prepare (hosts without cheap partial reads leave it
   * out): undefined when it cannot be read, a ReadRefusedError when the policy refuses it.
   */
  readHead?(path: string, access: ReadAccess): Promise<FileHead | undefined>;
}

export interface ServiceRunOptions {
  backend?: BackendName;
  baseDir?: string;
  /** Folders the pipeline may read besides baseDir (the user allowed them: `--allow-read`). */
  allowRead?: string[];
  overrides?: Override[];
  /** Bytes; a run whose predicted peak exceeds it is refused before it starts. */
  memoryBudget?: number;
  /** Keep every node's outputs for previews ('all'), or only those of nodes without consumers. */
  keep?: 'sinks' | 'all';
  /** Use the result cache (default true). Sweeps turn it off so every run is measured. */
  cache?: boolean;
  /** Threads of the wasm kernels (undefined: CTXLAB_WASM_THREADS in Node, else the cores available). */
  threads?: number;
}

export interface PlanSummary {
  steps: { id: string; type: string; inShapes: Record<string, PortShape | undefined>; outShapes: Record<string, PortShape | undefined>; cost: Cost; predictedPeakBytes: number }[];
  predictedPeakBytes: number;
  peakStep?: string;
}

export type ServiceRunResult =
  | {
      ok: false;
      stage: 'invalid' | 'refused';
      issues: CompileIssue[];
      /** With stage 'refused': the node over the budget and the figures, for the UI to offer a higher budget. */
      refusal?: MemoryRefusal;
    }
  | {
      ok: true;
      status: RunProfile['status'];
      profile: RunProfile;
      errors: RunResult['errors'];
      executed: number;
      /** Outputs of nodes without consumers (or all, with keep: 'all'). */
      outputs: Record<string, Record<string, Value>>;
      artifacts: Record<string, { nodeId: string; value: Value }>;
      checks: CheckResult[];
      /** Known before the nodes ran: which node's GPU kernel falls back on the run's adapter, and why (compile/adapter-needs.ts). */
      warnings?: CompileIssue[];
    };

export function summarizePlan(plan: Plan): PlanSummary {
  return {
    steps: plan.steps.map((s) => ({ id: s.id, type: s.def.type, inShapes: s.inShapes, outShapes: s.outShapes, cost: s.cost, predictedPeakBytes: s.predictedPeakBytes })),
    predictedPeakBytes: plan.predictedPeakBytes,
    peakStep: plan.peakStep,
  };
}

export class EngineService {
  private readonly cache = new ResultCache();
  private cancelToken = new CancelToken();
  private exec: ExecEnv | undefined;
  private backendQueue: Promise<unknown> = Promise.resolve();
  private lastOutputs: Record<string, Record<string, Value>> = {};

  constructor(
    private readonly registry: Registry,
    private readonly env: ServiceEnv,
  ) {}

  /** Shares the cancel flag with the caller, who can then cancel without a message round trip. */
  setCancelBuffer(buffer: SharedArrayBuffer): void {
    this.cancelToken = new CancelToken(buffer);
  }

  /** Message-based cancel, for callers without SharedArrayBuffer. */
  cancel(): void {
    this.cancelToken.cancel();
  }

  /** Message-based graceful stop (see RunContext.stopRequested). */
  stop(): void {
    this.cancelToken.stop();
  }

  /**
   * Activates a backend. Calls are queued: tfjs cannot initialise two backends at once (a second
   * setBackend while wasm is still loading makes the first fail and fall back). `retry` starts again
   * a backend that fell back last time (after a transient failure).
   */
  useBackend(name: BackendName, opts: { retry?: boolean } = {}): Promise<BackendInfo> {
    const next = this.backendQueue.then(async () => {
      const cur = this.exec?.backend;
      if (cur?.requested === name && !(opts.retry && cur.name !== name)) return cur;
      const { tf, info } = await initBackend(name, this.env.setup);
      // Reads are confined per run (run() passes its ReadAccess); outside a run, to the working folder.
      this.exec = { tf, backend: info, readFile: (p) => this.env.readFile(p, { baseDir: '.' }), resolvePath: this.env.resolvePath, now: this.env.now };
      return info;
    });
    this.backendQueue = next.catch(() => undefined);
    return next;
  }

  compile(doc: unknown, opts: { overrides?: Override[]; baseDir?: string } = {}): { ok: true; plan: PlanSummary; warnings: CompileIssue[] } | { ok: false; issues: CompileIssue[] } {
    // On webgpu, nodes whose declared kernel needs exceed the adapter are warned about (the editor shows them).
    const r = planRunSync(doc, this.registry, { ...opts, adapter: adapterCaps(this.exec?.backend) });
    return r.ok ? { ok: true, plan: summarizePlan(r.plan), warnings: r.warnings } : { ok: false, issues: r.issues };
  }

  async run(doc: unknown, opts: ServiceRunOptions = {}, onEvent?: (e: RunEvent) => void): Promise<ServiceRunResult> {
    const access: ReadAccess = { baseDir: opts.baseDir ?? '.', allowRead: opts.allowRead };
    const { readHead } = this.env;
    // A refused read stops the run as an invalid pipeline (exit 2; a sweep stops rather than recording a memory refusal).
    const c = await planRun(doc, this.registry, {
      baseDir: opts.baseDir,
      overrides: opts.overrides,
      memoryBudget: opts.memoryBudget,
      readHead: readHead && ((p) => readHead(this.env.resolvePath(access.baseDir, p), access)),
    });
    if (!c.ok) return c;
    setWasmKernelThreads(opts.threads);
    const started = await this.useBackend(opts.backend ?? this.exec?.backend.requested ?? 'cpu');
    // The profile says how many threads the wasm kernels use (the option, else the cores).
    const backend: BackendInfo = started.name === 'wasm' ? { ...started, threads: await kernelThreads() } : started;
    const caps = adapterCaps(backend);
    const warnings = caps ? adapterFallbacks(c.plan, caps) : [];
    this.cancelToken.reset();
    const { openFile } = this.env;
    const r = await executePlan(c.plan, { ...this.exec!, backend, readFile: (p) => this.env.readFile(p, access), ...(openFile ? { openFile: (p: string) => openFile(p, access) } : {}) }, {
      onEvent,
      cancel: this.cancelToken,
      cache: opts.cache === false ? undefined : this.cache,
      keep: opts.keep,
      memoryBudget: opts.memoryBudget,
    });
    this.lastOutputs = r.outputs;
    if (r.refused.length) return { ok: false, stage: 'invalid', issues: refusalIssues(c.doc, r.refused) };
    return {
      ok: true, status: r.status, profile: r.profile, errors: r.errors, executed: r.executed,
      outputs: cloneable(r.outputs), artifacts: r.artifacts, checks: r.status === 'ok' ? evaluateChecks(c.plan.doc.checks, r.outputs, r.profile.nodes) : [],
      ...(warnings.length ? { warnings } : {}),
    };
  }

  /** A value from the last run (run with keep: 'all' to have every node's). */
  getOutput(nodeId: string, port: string): Value | undefined {
    const v = own(own(this.lastOutputs, nodeId), port);
    return v?.kind === 'model' ? modelSummary(v) : v;
  }

  clearCache(): void {
    this.cache.clear();
  }
}

/** A model without its weights (a reader with open files and promises): what crosses a worker boundary. */
const modelSummary = (v: ModelValue): ModelValue => ({ kind: 'model', config: v.config, ...(v.source !== undefined ? { source: v.source } : {}) });

/** Outputs that survive structured cloning: models travel as config and source only. */
function cloneable(outputs: Record<string, Record<string, Value>>): Record<string, Record<string, Value>> {
  const hasModel = Object.values(outputs).some((ports) => Object.values(ports).some((v) => v.kind === 'model'));
  if (!hasModel) return outputs;
  const out: Record<string, Record<string, Value>> = dict();
  for (const [id, ports] of Object.entries(outputs)) {
    const copy: Record<string, Value> = dict();
    for (const [port, v] of Object.entries(ports)) copy[port] = v.kind === 'model' ? modelSummary(v) : v;
    out[id] = copy;
  }
  return out;
}
