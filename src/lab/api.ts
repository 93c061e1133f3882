// The engine's public API for Node scripts (the `context-lab` package entry): build or load a
// pipeline, validate and compile it, run it with events, and read outputs and the profile.
import { readFile } from 'node:fs/promises';
import { writeAtomic } from '../engine/node/files.js';
import { dirname, join, resolve, sep } from 'node:path';
import type { CompileIssue, Plan } from '../engine/compile/compile.js';
import { planRun, planRunSync } from '../engine/compile/plan-run.js';
import type { Override } from '../engine/schema/overrides.js';
import { encodeNpy } from '../engine/io/npy.js';
import type { BackendName } from '../engine/node.js';
import type { Registry } from '../engine/registry.js';
import { evaluateChecks, type CheckResult } from '../engine/run/checks.js';
import type { RunEvent, RunProfile } from '../engine/run/events.js';
import { executePlan, type RunResult } from '../engine/run/runtime.js';
import { nodeExecEnv, PipelineLoadError } from '../engine/node/host.js';
import { refusalIssues } from '../engine/io/read-policy.js';
import { ReadPolicy } from '../engine/node/read-policy.js';
import { PIPELINE_FORMAT, PIPELINE_VERSION, type CheckSchema, type Pipeline } from '../engine/schema/pipeline.js';
import type { z } from 'zod';

/** A check as written in a pipeline file (defaults may be omitted). */
export type CheckInput = z.input<typeof CheckSchema>;
import type { MetricValue, Value } from '../engine/values.js';
import { dict } from '../engine/dict.js';
import { registry as defaultRegistry } from '../nodes/index.js';

/** A reference to one output port, as `node.port` in the pipeline file. */
export interface PortRef {
  readonly node: string;
  readonly port: string;
}

/** A node added to a builder: its output ports as properties (`qkv.q`, `attn.out`). */
export type NodeHandle = { readonly id: string } & Record<string, PortRef>;

export interface NodeOptions {
  position?: { x: number; y: number };
  label?: string;
  notes?: string;
}

/** Builds a pipeline document in code, one statement per node. */
export class PipelineBuilder {
  private readonly nodes: Pipeline['nodes'] = [];
  private readonly edges: Pipeline['edges'] = [];

  constructor(
    private readonly name: string,
    private readonly extra: { description?: string; checks?: CheckInput[] } = {},
  ) {}

  /** Adds a node; `inputs` maps its input ports to outputs of nodes added before it. */
  node(id: string, type: string, params: Record<string, unknown> = {}, inputs: Record<string, PortRef> = {}, opts: NodeOptions = {}): NodeHandle {
    this.nodes.push({ id, type, params, ...opts });
    for (const [port, ref] of Object.entries(inputs)) this.edges.push({ from: `${ref.node}.${ref.port}`, to: `${id}.${port}` });
    return new Proxy({ id } as NodeHandle, {
      get: (target, prop) => (prop === 'id' ? target.id : typeof prop === 'string' ? { node: id, port: prop } : undefined),
    });
  }

  toJSON(): Pipeline {
    return {
      format: PIPELINE_FORMAT, version: PIPELINE_VERSION, name: this.name,
      ...(this.extra.description ? { description: this.extra.description } : {}),
      nodes: this.nodes, edges: this.edges,
      ...(this.extra.checks ? { checks: this.extra.checks } : {}),
    } as Pipeline;
  }
}

export function pipeline(name: string, extra: { description?: string; checks?: CheckInput[] } = {}): PipelineBuilder {
  return new PipelineBuilder(name, extra);
}

/** Reads a pipeline file (JSON). Relative paths in its params resolve against its folder. */
export async function loadPipeline(path: string): Promise<{ doc: unknown; baseDir: string }> {
  // A UTF-8 byte-order mark (Windows editors write one) is not JSON.
  return { doc: JSON.parse((await readFile(path, 'utf8')).replace(/^\uFEFF/, '')), baseDir: dirname(resolve(path)) };
}

/**
 * Validates and compiles through planRun, as every host does, without reading files (a .npy source
 * learns its shape when runPipeline or `ctxlab validate` reads its header); the issues carry JSON
 * paths and node ids.
 */
export function validatePipeline(doc: unknown, opts: { registry?: Registry; overrides?: Override[]; memoryBudget?: number } = {}): { ok: true; plan: Plan } | { ok: false; issues: CompileIssue[] } {
  const r = planRunSync(doc, opts.registry ?? defaultRegistry, { overrides: opts.overrides, memoryBudget: opts.memoryBudget });
  return r.ok ? { ok: true, plan: r.plan } : { ok: false, issues: r.issues };
}

export interface RunPipelineOptions {
  backend?: BackendName;
  /** The pipeline's folder: relative paths in params resolve against it, and files are read only from it (default: the working folder). */
  baseDir?: string;
  /** More folders the pipeline may read from (`ctxlab --allow-read`); see io/read-policy.ts. */
  allowRead?: string[];
  /** Bytes; refuse runs whose predicted peak exceeds it. */
  memoryBudget?: number;
  /** Params to change before compiling, as `ctxlab run --set node.param=value` does. */
  overrides?: Override[];
  onEvent?: (e: RunEvent) => void;
  registry?: Registry;
}

export interface PipelineRun {
  status: RunProfile['status'];
  profile: RunProfile;
  /** Outputs of the nodes nothing reads, by node then port. */
  outputs: Record<string, Record<string, Value>>;
  /** Tensors handed over by sink.npy nodes, by name. */
  artifacts: RunResult['artifacts'];
  errors: RunResult['errors'];
  checks: CheckResult[];
  /** Every metrics output, keyed like the CLI's metrics.json (node id, or node.port). */
  metrics: Record<string, Record<string, MetricValue>>;
}

/** Compiles and runs a pipeline in this process; throws PipelineLoadError when it is invalid or refused (over budget, or a read outside its folders). */
export async function runPipeline(doc: unknown, opts: RunPipelineOptions = {}): Promise<PipelineRun> {
  const registry = opts.registry ?? defaultRegistry;
  const baseDir = opts.baseDir ?? process.cwd();
  // As the CLI does: nodes learn what their files' headers say (a .npy's shape, a model's weight
  // bytes) before compiling, read under the run's policy, so the plan and the memory guard agree.
  const r = await planRun(doc, registry, {
    baseDir, overrides: opts.overrides, memoryBudget: opts.memoryBudget, readHead: ReadPolicy.of({ baseDir, allowRead: opts.allowRead }).reader().readHead,
  });
  if (!r.ok) throw new PipelineLoadError(r.issues);
  const result = await executePlan(r.plan, await nodeExecEnv(opts.backend ?? 'cpu', 'in-process', opts.allowRead), { onEvent: opts.onEvent });
  if (result.refused.length) throw new PipelineLoadError(refusalIssues(r.doc, result.refused));
  return {
    status: result.status, profile: result.profile, outputs: result.outputs, artifacts: result.artifacts, errors: result.errors,
    checks: result.status === 'ok' ? evaluateChecks(r.plan.doc.checks, result.outputs, result.profile.nodes) : [],
    metrics: metricsOf(result.outputs),
  };
}

export function metricsOf(outputs: Record<string, Record<string, Value>>): Record<string, Record<string, MetricValue>> {
  // Keys are node ids and sink names: `__proto__` or `constructor` must stay ordinary keys.
  const metrics: Record<string, Record<string, MetricValue>> = dict();
  for (const [nodeId, ports] of Object.entries(outputs))
    for (const [port, v] of Object.entries(ports)) if (v.kind === 'metrics') metrics[port === 'metrics' ? nodeId : `${nodeId}.${port}`] = v.values;
  return metrics;
}

/** Writes a run like `ctxlab run --out`: <name>.npy per sink, metrics.json, profile.json. Returns the paths. */
export async function writeOutputs(run: Pick<PipelineRun, 'artifacts' | 'profile'> & { metrics: Record<string, unknown> }, dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const [name, a] of Object.entries(run.artifacts)) {
    // A name with a folder ("model/config.json", from sink.model) is a file written as it is: text as
    // UTF-8, a uint8 tensor as its bytes. Any other tensor is <name>.npy.
    if (name.includes('/')) {
      const path = resolve(dir, name);
      if (!path.startsWith(resolve(dir) + sep)) throw new Error(`output "${name}" would be written outside --out`);
      if (a.value.kind === 'text') await writeAtomic(path, a.value.text);
      else if (a.value.kind === 'tensor' && a.value.dtype === 'uint8') await writeAtomic(path, a.value.data as Uint8Array);
      else continue;
      files.push(path);
      continue;
    }
    if (a.value.kind !== 'tensor') continue;
    const path = join(dir, `${name}.npy`);
    await writeAtomic(path, encodeNpy(a.value));
    files.push(path);
  }
  await writeAtomic(join(dir, 'metrics.json'), JSON.stringify(run.metrics, null, 2) + '\n');
  await writeAtomic(join(dir, 'profile.json'), JSON.stringify(run.profile, null, 2) + '\n');
  return [...files, join(dir, 'metrics.json'), join(dir, 'profile.json')];
}
