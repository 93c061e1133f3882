// The engine as a service: what a worker exposes through Comlink (Node worker_thread or Web Worker).
// It keeps the backend and the result cache between runs, so a param change re-runs only what
// depends on it.
import { initBackend, type BackendSetup } from '../backends/tf.js';
import { checkMemoryBudget, compile, type CompileIssue, type Plan } from '../compile/compile.js';
import type { BackendName } from '../node.js';
import type { Registry } from '../registry.js';
import { applyOverrides, type Override } from '../schema/overrides.js';
import { prepareDocument } from '../compile/prepare.js';
import type { PortShape, Value } from '../values.js';
import type { BackendInfo, RunEvent, RunProfile } from './events.js';
import { evaluateChecks, type CheckResult } from './checks.js';
import { CancelToken, executePlan, ResultCache, type ExecEnv, type RunResult } from './runtime.js';
import type { Cost } from '../node.js';

export interface ServiceEnv {
  setup: BackendSetup;
  readFile(path: string): Promise<Uint8Array>;
  resolvePath(baseDir: string, path: string): string;
  now(): number;
  /** A file's first bytes, for NodeDef.prepare (hosts without cheap partial reads leave it out). */
  readHead?(path: string): Promise<Uint8Array | undefined>;
}

export interface ServiceRunOptions {
  backend?: BackendName;
  baseDir?: string;
  overrides?: Override[];
  /** Bytes; a run whose predicted peak exceeds it is refused before it starts. */
  memoryBudget?: number;
  /** Keep every node's outputs for previews ('all'), or only those of nodes without consumers. */
  keep?: 'sinks' | 'all';
  /** Use the result cache (default true). Sweeps turn it off so every run is measured. */
  cache?: boolean;
}

export interface PlanSummary {
  steps: { id: string; type: string; inShapes: Record<string, PortShape | undefined>; outShapes: Record<string, PortShape | undefined>; cost: Cost; predictedPeakBytes: number }[];
  predictedPeakBytes: number;
  peakStep?: string;
}

export type ServiceRunResult =
  | { ok: false; stage: 'invalid' | 'refused'; issues: CompileIssue[] }
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

  async useBackend(name: BackendName): Promise<BackendInfo> {
    if (this.exec?.backend.requested === name) return this.exec.backend;
    const { tf, info } = await initBackend(name, this.env.setup);
    this.exec = { tf, backend: info, readFile: this.env.readFile, resolvePath: this.env.resolvePath, now: this.env.now };
    return info;
  }

  compile(doc: unknown, opts: { overrides?: Override[]; baseDir?: string } = {}): { ok: true; plan: PlanSummary; warnings: CompileIssue[] } | { ok: false; issues: CompileIssue[] } {
    let raw: unknown;
    try {
      raw = applyOverrides(doc, opts.overrides ?? []);
    } catch (err) {
      return { ok: false, issues: [{ path: 'nodes', message: (err as Error).message }] };
    }
    const r = compile(raw, this.registry, { baseDir: opts.baseDir, strictParams: opts.overrides });
    return r.ok ? { ok: true, plan: summarizePlan(r.plan), warnings: r.warnings } : r;
  }

  async run(doc: unknown, opts: ServiceRunOptions = {}, onEvent?: (e: RunEvent) => void): Promise<ServiceRunResult> {
    let raw: unknown;
    try {
      raw = applyOverrides(doc, opts.overrides ?? []);
    } catch (err) {
      return { ok: false, stage: 'invalid', issues: [{ path: 'nodes', message: (err as Error).message }] };
    }
    const { readHead } = this.env;
    if (readHead) raw = await prepareDocument(raw, this.registry, (p) => readHead(this.env.resolvePath(opts.baseDir ?? '.', p)));
    const c = compile(raw, this.registry, { baseDir: opts.baseDir, strictParams: opts.overrides });
    if (!c.ok) return { ok: false, stage: 'invalid', issues: c.issues };
    if (opts.memoryBudget !== undefined) {
      const refused = checkMemoryBudget(c.plan, opts.memoryBudget);
      if (refused) return { ok: false, stage: 'refused', issues: [refused] };
    }
    await this.useBackend(opts.backend ?? this.exec?.backend.requested ?? 'cpu');
    this.cancelToken.reset();
    const r = await executePlan(c.plan, this.exec!, {
      onEvent,
      cancel: this.cancelToken,
      cache: opts.cache === false ? undefined : this.cache,
      keep: opts.keep,
    });
    this.lastOutputs = r.outputs;
    return {
      ok: true, status: r.status, profile: r.profile, errors: r.errors, executed: r.executed,
      outputs: r.outputs, artifacts: r.artifacts, checks: r.status === 'ok' ? evaluateChecks(c.plan.doc.checks, r.outputs, r.profile.nodes) : [],
    };
  }

  /** A value from the last run (run with keep: 'all' to have every node's). */
  getOutput(nodeId: string, port: string): Value | undefined {
    return this.lastOutputs[nodeId]?.[port];
  }

  clearCache(): void {
    this.cache.clear();
  }
}
