// Running pipelines in this Node process (tests, the worker_thread's inside): file access, backends.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { initBackend } from '../backends/tf.js';
import { checkMemoryBudget, compile, jsonPath, type CompileIssue, type Plan } from '../compile/compile.js';
import type { BackendName } from '../node.js';
import type { Registry } from '../registry.js';
import { applyOverrides, type Override } from '../schema/overrides.js';
import { NESTING_MESSAGE, tooDeep } from '../schema/limits.js';
import { executePlan, type ExecEnv, type RunOptions, type RunResult } from '../run/runtime.js';
import { nodeBackendSetup } from './setup.js';
import { ReadPolicy } from './read-policy.js';
import { openRandomAccess } from './ranged.js';
import { refusalIssues } from '../io/read-policy.js';

/**
 * Runs plans in this process. Files named in params are read only from the plan's folder and the
 * `allowRead` folders (see ../io/read-policy.ts).
 */
export async function nodeExecEnv(backend: BackendName, host = 'in-process', allowRead: string[] = []): Promise<ExecEnv> {
  const { tf, info } = await initBackend(backend, nodeBackendSetup(host));
  return {
    tf,
    backend: info,
    readFile: (p, baseDir) => ReadPolicy.of({ baseDir, allowRead }).read(p),
    openFile: (p, baseDir) => openRandomAccess(p, (q) => ReadPolicy.of({ baseDir, allowRead }).open(q)),
    resolvePath: (base, p) => (isAbsolute(p) ? p : resolve(base, p)),
    now: () => performance.now(),
  };
}

export async function readPipelineFile(path: string): Promise<unknown> {
  return parsePipelineText(await readFile(path, 'utf8'), path);
}

/**
 * Parses a pipeline's JSON (`source` names it in messages) and refuses nesting deeper than
 * MAX_NESTING, naming the JSON path, before anything clones or sends the document.
 */
export function parsePipelineText(text: string, source: string): unknown {
  let doc: unknown;
  try {
    // Editors on Windows save UTF-8 with a byte-order mark; JSON.parse refuses it.
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new PipelineLoadError([{ path: '$', message: `${source} is not valid JSON: ${(err as Error).message}` }]);
  }
  const deep = tooDeep(doc);
  if (deep) throw new PipelineLoadError([{ path: jsonPath(deep), message: `${source}: ${NESTING_MESSAGE}` }]);
  return doc;
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

/**
 * Loads, compiles and runs a pipeline file in this process; it reads files only from its own folder
 * and `allowRead`. Throws PipelineLoadError when the pipeline is invalid, over budget, or reads outside.
 */
export async function runPipelineFile(
  path: string,
  registry: Registry,
  opts: { backend?: BackendName; overrides?: Override[]; memoryBudget?: number; allowRead?: string[] } & RunOptions = {},
): Promise<RunResult> {
  const raw = await readPipelineFile(path);
  const plan = preparePlan(raw, registry, { baseDir: dirname(resolve(path)), ...opts });
  const r = await executePlan(plan, await nodeExecEnv(opts.backend ?? 'cpu', 'in-process', opts.allowRead), opts);
  if (r.refused.length) throw new PipelineLoadError(refusalIssues(raw, r.refused));
  return r;
}
