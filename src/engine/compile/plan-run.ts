// From a pipeline document to a plan a run may start: overrides → prepare (file headers) → compile →
// memory budget. Every host goes through here (the engine service in a worker, runPipeline in
// process, `ctxlab validate` and `sweep`), so they accept and refuse the same documents.
import type { FileHead } from '../node.js';
import type { Registry } from '../registry.js';
import { applyOverrides, type Override } from '../schema/overrides.js';
import { watchRefusals } from '../io/read-policy.js';
import { checkMemoryBudget, compile, type CompileIssue, type Plan } from './compile.js';
import { prepareDocument } from './prepare.js';
import { adapterFallbacks, type AdapterCaps } from './adapter-needs.js';

export interface PlanRunOptions {
  /** The pipeline's folder: relative paths in params resolve against it. */
  baseDir?: string;
  /** `--set`-style params; naming one a node does not have is an error, not a warning. */
  overrides?: Override[];
  /**
   * A file's first bytes and size, read under the run's read policy, for NodeDef.prepare (a .npy
   * source learns its shape). Without it nothing is read and nodes keep the params they were given.
   */
  readHead?: (path: string) => Promise<FileHead | undefined>;
  /** Bytes; a plan whose predicted peak exceeds it is refused. */
  memoryBudget?: number;
  /** The WebGPU adapter the run will use: nodes whose kernel needs more than it has are warned about (adapter-needs.ts). */
  adapter?: AdapterCaps;
}

/** A plan over the memory budget: the first node over it and the figures, for a UI to offer a higher budget. */
export interface MemoryRefusal {
  nodeId: string;
  predictedBytes: number;
  budgetBytes: number;
}

export type PlannedRun =
  /** `doc`: the document as compiled (overrides applied, params prepared), for naming params in later issues. */
  | { ok: true; plan: Plan; warnings: CompileIssue[]; doc: unknown }
  | { ok: false; stage: 'invalid' | 'refused'; issues: CompileIssue[]; refusal?: MemoryRefusal };

/** Overrides → prepare → compile → memory budget; never throws for a bad document. */
export async function planRun(raw: unknown, registry: Registry, opts: PlanRunOptions = {}): Promise<PlannedRun> {
  const overridden = withOverrides(raw, opts.overrides);
  if (!overridden.ok) return overridden;
  let doc = overridden.doc;
  if (opts.readHead) {
    const watch = watchRefusals(opts.readHead);
    const prepared = await prepareDocument(doc, registry, watch.readHead);
    // A refused read names the param that holds the path; it stops the run as an invalid pipeline.
    const refused = watch.issues(doc, prepared.issues);
    if (refused.length) return invalid(refused);
    if (prepared.issues.length) return invalid(prepared.issues);
    doc = prepared.doc;
  }
  return compileWithinBudget(doc, registry, opts);
}

/** planRun without reading files (NodeDef.prepare is skipped): the editor's live compile. */
export function planRunSync(raw: unknown, registry: Registry, opts: Omit<PlanRunOptions, 'readHead'> = {}): PlannedRun {
  const overridden = withOverrides(raw, opts.overrides);
  return overridden.ok ? compileWithinBudget(overridden.doc, registry, opts) : overridden;
}

const invalid = (issues: CompileIssue[]): PlannedRun => ({ ok: false, stage: 'invalid', issues });

function withOverrides(raw: unknown, overrides: Override[] = []): { ok: true; doc: unknown } | PlannedRun & { ok: false } {
  try {
    return { ok: true, doc: applyOverrides(raw, overrides) };
  } catch (err) {
    // An override naming a node the pipeline does not have.
    return { ok: false, stage: 'invalid', issues: [{ path: 'nodes', message: (err as Error).message }] };
  }
}

function compileWithinBudget(doc: unknown, registry: Registry, opts: PlanRunOptions): PlannedRun {
  const c = compile(doc, registry, { baseDir: opts.baseDir, strictParams: opts.overrides });
  if (!c.ok) return invalid(c.issues);
  if (opts.memoryBudget !== undefined) {
    const refused = checkMemoryBudget(c.plan, opts.memoryBudget);
    if (refused) {
      const step = c.plan.steps.find((s) => s.id === refused.nodeId)!;
      return { ok: false, stage: 'refused', issues: [refused], refusal: { nodeId: step.id, predictedBytes: step.predictedPeakBytes, budgetBytes: opts.memoryBudget } };
    }
  }
  return { ok: true, plan: c.plan, warnings: opts.adapter ? [...c.warnings, ...adapterFallbacks(c.plan, opts.adapter)] : c.warnings, doc };
}
