// Running pipelines in this Node process (tests, the worker_thread's inside): file access, backends.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { initBackend } from '../backends/tf.js';
import { checkMemoryBudget, compile, type CompileIssue, type Plan } from '../compile/compile.js';
import type { BackendName } from '../node.js';
import type { Registry } from '../registry.js';
import { applyOverrides, type Override } from '../schema/overrides.js';
import { executePlan, type ExecEnv, type RunOptions, type RunResult } from '../run/runtime.js';
import { nodeBackendSetup } from './setup.js';

export async function nodeExecEnv(backend: BackendName, host = 'in-process'): Promise<ExecEnv> {
  const { tf, info } = await initBackend(backend, nodeBackendSetup(host));
  return {
    tf,
    backend: info,
    readFile: async (p) => new Uint8Array(await readFile(p)),
    resolvePath: (base, p) => (isAbsolute(p) ? p : resolve(base, p)),
    now: () => performance.now(),
  };
}

export async function readPipelineFile(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PipelineLoadError([{ path: '$', message: `${path} is not valid JSON: ${(err as Error).message}` }]);
  }
}

export class PipelineLoadError extends Error {
  constructor(public issues: CompileIssue[]) {
    super(issues.map((i) => `${i.path}${i.nodeId ? ` [${i.nodeId}]` : ''}: ${i.message}`).join('\n'));
    this.name = 'PipelineLoadError';
  }
}

export interface PrepareOptions {
  baseDir: string;
  overrides?: Override[];
  /** Bytes; a plan whose predicted peak exceeds it is refused. */
  memoryBudget?: number;
}

/** Overrides → compile → memory guard. Throws PipelineLoadError with every issue. */
export function preparePlan(raw: unknown, registry: Registry, opts: PrepareOptions): Plan {
  let doc: unknown;
  try {
    doc = applyOverrides(raw, opts.overrides ?? []);
  } catch (err) {
    throw new PipelineLoadError([{ path: 'nodes', message: (err as Error).message }]);
  }
  const r = compile(doc, registry, { baseDir: opts.baseDir });
  if (!r.ok) throw new PipelineLoadError(r.issues);
  if (opts.memoryBudget !== undefined) {
    const refused = checkMemoryBudget(r.plan, opts.memoryBudget);
    if (refused) throw new PipelineLoadError([refused]);
  }
  return r.plan;
}

/** Loads, compiles and runs a pipeline file in this process. */
export async function runPipelineFile(
  path: string,
  registry: Registry,
  opts: { backend?: BackendName; overrides?: Override[]; memoryBudget?: number } & RunOptions = {},
): Promise<RunResult> {
  const plan = preparePlan(await readPipelineFile(path), registry, { baseDir: dirname(resolve(path)), ...opts });
  return executePlan(plan, await nodeExecEnv(opts.backend ?? 'cpu'), opts);
}
