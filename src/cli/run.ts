// `ctxlab run` and `ctxlab sweep`: the engine in a worker_thread, results as .npy, tables on stdout.
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { totalmem } from 'node:os';
import cliProgress from 'cli-progress';
import * as Comlink from 'comlink';
import { writeAtomic } from '../engine/node/files.js';
import { ReadPolicy } from '../engine/node/read-policy.js';
import { planRun } from '../engine/compile/plan-run.js';
import { metricsOf, writeOutputs } from '../lab/api.js';
import type { BackendName } from '../engine/node.js';
import { EngineWorkerDied } from '../engine/node/client.js';
import { startEngineWorker } from '../lab/engine-worker.js';
import { parsePipelineText, readPipelineFile } from '../engine/node/host.js';
import type { RunEvent, RunProfile } from '../engine/run/events.js';
import { formatPct } from '../engine/run/roofline.js';
import type { ServiceRunResult } from '../engine/run/service.js';
import { applyOverrides, parseOverride, parseValue, type Override } from '../engine/schema/overrides.js';
import { formatIssue, type CompileIssue, type PlanStep } from '../engine/compile/compile.js';
import { registry } from '../nodes/index.js';
import { initBackend } from '../engine/backends/tf.js';
import { nodeBackendSetup } from '../engine/node/setup.js';
import { formatShape } from '../engine/tensor.js';
import { dict } from '../engine/dict.js';
import { affectedNodes, runSweep, sweepFits, sweepWarmup, type SweepNode, type SweepPoint, type SweepSlope } from '../engine/run/sweep.js';
import { displayPath, mib, ms, num, parseBytes, table, terminalText } from './format.js';

export const EXIT = { ok: 0, runFailed: 1, invalid: 2 } as const;

/** An error reported in one line (plus `issues` with --json, and the cause's stack with --verbose). */
export class CliError extends Error {
  readonly issues?: CompileIssue[];
  constructor(
    message: string,
    public code: number = EXIT.invalid,
    opts: { cause?: unknown; issues?: CompileIssue[] } = {},
  ) {
    super(message, { cause: opts.cause });
    this.issues = opts.issues;
  }
}

export interface RunFlags {
  backend: BackendName;
  set: string[];
  out?: string;
  json?: boolean;
  memoryBudget?: string;
  progress?: boolean;
  verbose?: boolean;
  /** --allow-read: folders the pipeline may read besides its own. */
  allowRead?: string[];
}

/** The --allow-read folders as absolute paths; each must be an existing folder. */
export function allowedFolders(dirs: string[] | undefined): string[] {
  return (dirs ?? []).map((d) => {
    if (statSync(d, { throwIfNoEntry: false })?.isDirectory() !== true) throw new CliError(`--allow-read ${d}: not a folder`);
    return resolve(d);
  });
}

/** `-` as the file: the pipeline JSON is read from stdin. */
export const STDIN = '-';

/** The folder relative paths in params resolve against: the file's, or the working folder for stdin. */
export function baseDirOf(file: string): string {
  return file === STDIN ? process.cwd() : dirname(resolve(file));
}

/** Compiler issues as lines, each prefixed with where the pipeline came from. */
export function issueLines(file: string, issues: CompileIssue[]): string {
  return issues.map((i) => `${file === STDIN ? 'stdin' : file}: ${terminalText(formatIssue(i))}`).join('\n');
}

export function parseSets(sets: string[]): Override[] {
  try {
    return sets.map(parseOverride);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

export function budgetOf(flag: string | undefined): number {
  try {
    if (!flag) return Math.floor(totalmem() / 2);
    const bytes = parseBytes(flag);
    // 1e400 reads as Infinity: a budget that refuses nothing is no budget.
    if (!Number.isSafeInteger(bytes)) throw new Error(`"${flag}" is not a finite size in bytes (at most ${Number.MAX_SAFE_INTEGER})`);
    return bytes;
  } catch (err) {
    throw new CliError(`--memory-budget: ${(err as Error).message}`);
  }
}

/** `--out` may name a folder or nothing yet, not an existing file. */
function checkOut(out: string | undefined): void {
  if (out && statSync(out, { throwIfNoEntry: false })?.isDirectory() === false) throw new CliError(`--out ${out}: exists and is not a folder`);
}

function progressReporter(enabled: boolean, nodes: () => number) {
  if (!enabled) return { onEvent: (_e: RunEvent) => {}, stop: () => {} };
  let bar: cliProgress.SingleBar | undefined;
  // Events arrive on their own channel and may trail the run's result: none may redraw a stopped bar.
  let stopped = false;
  let done = 0;
  let started = Date.now();
  let current = '';
  let detail = '';
  const total = () => Math.max(1, nodes());
  return {
    onEvent: (e: RunEvent) => {
      if (stopped) return;
      if (e.type === 'run-started') {
        started = Date.now();
        bar = new cliProgress.SingleBar(
          { format: ' {bar} {percentage}% | {node} | {duration_formatted}', hideCursor: true, clearOnComplete: true, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        bar.start(1000, 0, { node: '' });
      }
      if (!bar) return;
      if (e.type === 'node-started') current = e.nodeId;
      if (e.type === 'node-finished' || e.type === 'node-failed' || e.type === 'node-skipped') done++;
      const frac = e.type === 'node-progress' ? e.fraction : 0;
      // A node's own progress line (training: step, loss, ETA) follows its id.
      if (e.type === 'node-progress' && e.detail?.text) detail = ` · ${e.detail.text}`;
      if (e.type === 'node-started') detail = '';
      if (Date.now() - started > 300) bar.update(Math.round(((done + frac) / total()) * 1000), { node: terminalText(current + detail) });
    },
    stop: () => {
      stopped = true;
      bar?.stop();
    },
  };
}

export interface RunReport {
  status: RunProfile['status'] | 'invalid' | 'refused';
  text: string;
  json: unknown;
  exitCode: number;
}

/** Runs a pipeline file once in a worker; returns what to print. */
export async function runCommand(file: string, flags: RunFlags): Promise<RunReport> {
  checkOut(flags.out);
  const overrides = parseSets(flags.set);
  const budget = budgetOf(flags.memoryBudget);
  const allowRead = allowedFolders(flags.allowRead);
  const doc = await loadDoc(file);
  const engine = await startEngineWorker();
  const progress = progressReporter(!!flags.progress && !flags.json && process.stderr.isTTY === true, () => nodeCount(doc));
  const running = runningNode(doc);
  const onEvent = (e: RunEvent) => {
    running.onEvent(e);
    progress.onEvent(e);
  };
  const interrupts = interruptHandler(engine);
  try {
    const result = await engine.api.run(doc, { backend: flags.backend, baseDir: baseDirOf(file), allowRead, overrides, memoryBudget: budget }, Comlink.proxy(onEvent)).catch((err: unknown) => {
      throw err instanceof EngineWorkerDied ? new CliError(running.died(err), EXIT.runFailed, { cause: err }) : err;
    });
    progress.stop();
    return await report(file, result, flags);
  } finally {
    interrupts.remove();
    progress.stop();
    await engine.close();
  }
}

/**
 * Ctrl-C once: a graceful stop (a training or search node ends after its current step and keeps
 * what it has; the sinks after it still write). Twice: cancel the run. Three times: exit now.
 */
export function interruptHandler(engine: { stop(): void; cancel(): void }, signals: NodeJS.EventEmitter = process) {
  let count = 0;
  const onSignal = () => {
    count++;
    if (count === 1) {
      engine.stop();
      process.stderr.write('\nstopping: nodes that work in steps (train.lm, search.longrope) end after the current step and keep what they have; Ctrl-C again cancels the run\n');
    } else if (count === 2) {
      engine.cancel();
      process.stderr.write('\ncancelling the run; Ctrl-C again exits at once\n');
    } else process.exit(130);
  };
  signals.on('SIGINT', onSignal);
  return { remove: () => signals.off('SIGINT', onSignal) };
}

/** Follows the run's events, to say which node was running when the engine worker died. */
function runningNode(doc: unknown) {
  let current: string | undefined;
  return {
    onEvent(e: RunEvent) {
      if (e.type === 'node-started') current = e.nodeId;
      else if ((e.type === 'node-finished' || e.type === 'node-failed' || e.type === 'run-started') && (e.type === 'run-started' || e.nodeId === current)) current = undefined;
    },
    /** One line: the node (id and type) and the worker's own reason. */
    died(err: Error): string {
      const type = (doc as { nodes?: { id?: unknown; type?: unknown }[] }).nodes?.find((n) => n?.id === current)?.type;
      const where = current === undefined ? 'before any node ran' : `while node "${terminalText(current)}"${typeof type === 'string' ? ` (${terminalText(type)})` : ''} was running`;
      return `the engine worker died ${where} (out of memory?): ${terminalText(err.message)}`;
    },
  };
}

function nodeCount(doc: unknown): number {
  return (doc as { nodes?: unknown[] }).nodes?.length ?? 0;
}

/** The document with --set overrides applied; an unknown node is a CliError (exit 2). */
function withOverrides(doc: unknown, overrides: Override[]): unknown {
  try {
    return applyOverrides(doc, overrides);
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.invalid, { cause: err });
  }
}

/** Reads a pipeline file and applies --set overrides (`doc`); any problem is a CliError (exit 2). */
export async function loadWithOverrides(file: string, sets: string[]): Promise<{ raw: unknown; overrides: Override[]; doc: unknown }> {
  const overrides = parseSets(sets);
  const raw = await loadDoc(file);
  return { raw, overrides, doc: withOverrides(raw, overrides) };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads the pipeline JSON from a file, or from stdin for `-`; any problem is a CliError (exit 2). */
export async function loadDoc(file: string): Promise<unknown> {
  try {
    if (file !== STDIN) return await readPipelineFile(file);
    return parsePipelineText(await readStdin(), 'stdin');
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { issues?: CompileIssue[] };
    const message = e.code === 'ENOENT' ? `${file}: no such file` : e.issues ? e.issues.map((i) => terminalText(i.path === '$' ? i.message : `${i.path}: ${i.message}`)).join('\n') : `${file}: ${terminalText(e.message)}`;
    throw new CliError(message, EXIT.invalid, { cause: err, issues: e.issues });
  }
}

function invalidReport(file: string, stage: 'invalid' | 'refused', issues: CompileIssue[]): RunReport {
  return { status: stage, text: issueLines(file, issues), json: { ok: false, status: stage, issues }, exitCode: EXIT.invalid };
}

/** A node's achieved GFLOP/s and GB/s as % of the backend's peak: "12% · 3.4%" ('–' where unknown). */
function peakCell(n: RunProfile['nodes'][number]): string {
  const f = formatPct(n.peakFlopsPct);
  const b = formatPct(n.peakBytesPct);
  return f || b ? `${f || '–'} · ${b || '–'}` : '';
}

async function report(file: string, r: ServiceRunResult, flags: RunFlags): Promise<RunReport> {
  if (!r.ok) return invalidReport(file, r.stage, r.issues);
  const p = r.profile;
  const out: string[] = [];
  const b = p.backend;
  out.push(`backend: ${b.name}${b.name !== b.requested ? ` (requested ${b.requested}; fell back: ${b.fallbackReason})` : ''}` +
    `${b.adapter ? ` · adapter ${b.adapter.vendor}/${b.adapter.architecture}${b.adapter.isFallbackAdapter ? ' (software fallback)' : ''}` : ''} · ${b.host}` +
    `${b.threads ? ` · ${b.threads} kernel thread${b.threads === 1 ? '' : 's'}` : ''}`);
  // Everything from the pipeline (its name, messages, `why`) is printed escaped: it is untrusted text.
  out.push(`pipeline: ${terminalText(p.pipeline)} · ${p.nodes.length} nodes · ${ms(p.totalMs)} ms · peak with live values ${mib(p.measuredPeakBytes)} MiB measured, ${mib(p.predictedPeakBytes)} MiB predicted`);
  // The roofline's ceiling: what the percentages in the table are of.
  out.push(p.peak ? `peak on ${b.name}: ${p.peak.gflops.toFixed(1)} GFLOP/s, ${p.peak.gbps.toFixed(1)} GB/s (${p.peak.method})` : `peak on ${b.name}: unknown (${p.peakError ?? 'not measured'})`);
  out.push('');
  // GPU ms (timestamp queries) beside wall ms, only when a node ran a WGSL kernel: 'n/a' where the adapter gives none.
  const gpu = p.nodes.some((n) => n.gpuMs !== undefined || n.gpuMsUnavailable);
  const gpuCell = (n: RunProfile['nodes'][number]) => (n.gpuMs !== undefined ? ms(n.gpuMs) : n.gpuMsUnavailable ? 'n/a' : '');
  out.push(
    table(
      ['node', 'type', 'variant', 'status', 'ms', ...(gpu ? ['GPU ms'] : []), 'peak MiB (node alone)', 'pred MiB (node alone)', 'out MiB', 'GFLOP/s', 'GB/s', '% of peak (flops · bytes)'],
      p.nodes.map((n) => [n.nodeId, n.type, n.variant ?? '', n.fallbacks?.length ? `${n.status} (fallback)` : n.status, ms(n.wallMs), ...(gpu ? [gpuCell(n)] : []), mib(n.peakBytes), mib(n.predictedPeakBytes), mib(n.outputBytes), n.gflops === null ? '' : n.gflops.toFixed(2), n.gbps == null ? '' : n.gbps.toFixed(2), peakCell(n)]),
      ['l', 'l', 'l', 'l', 'r', ...(gpu ? ['r' as const] : []), 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  for (const n of p.nodes) if (n.gpuMsUnavailable) out.push(`\nGPU ms: node "${terminalText(n.nodeId)}": n/a — ${terminalText(n.gpuMsUnavailable)}`);
  // NaN/±Infinity nobody asked for (e.g. an overflowing scale) is said per node; profile.json has the counts.
  for (const n of p.nodes)
    for (const [port, count] of Object.entries(n.nonFinite ?? {}))
      out.push(`\nwarning: node "${terminalText(n.nodeId)}" produced ${count} non-finite value(s) (NaN or ±Infinity) in output "${port}"`);
  // Known from the plan and the adapter before the nodes ran: a node whose GPU kernel will fall back, and why.
  for (const w of r.warnings ?? []) out.push(`\nwarning: ${terminalText(formatIssue(w))}`);
  // A kernel that could not run on this backend: what ran instead, and why (profile.json: fallbacks).
  for (const n of p.nodes) for (const f of n.fallbacks ?? []) out.push(`\nfallback: node "${terminalText(n.nodeId)}": ${terminalText(f)}`);
  // The engine reports a node's message and its stack (shown with --verbose).
  for (const e of r.errors)
    out.push(`\nnode "${terminalText(e.nodeId)}" failed: ${terminalText(e.message)}${flags.verbose && e.stack ? `\n${e.stack}` : ''}`);
  const metrics = metricsOf(r.outputs);
  if (Object.keys(metrics).length) {
    out.push('\nmetrics');
    for (const [k, vals] of Object.entries(metrics))
      out.push(terminalText(`  ${k}: ${Object.entries(vals as Record<string, unknown>).filter(([, v]) => typeof v !== 'object' || v === null).map(([mk, mv]) => `${mk} ${num(mv)}`).join('  ')}`));
  }
  if (r.checks.length) {
    out.push('\nchecks');
    for (const c of r.checks) out.push(`  ${c.ok ? '✓' : '✗'} ${terminalText(c.text)}`);
  }
  let files: string[] = [];
  if (flags.out) {
    const shapes = dict(Object.entries(r.artifacts).map(([n, a]) => [n, a.value.kind === 'tensor' ? ` [${formatShape(a.value.shape, a.value.dtype)}]` : ''] as const));
    files = (await writeOutputs({ artifacts: r.artifacts, profile: p, metrics }, resolve(flags.out))).map(displayPath);
    out.push(`\nwrote ${files.map((f) => f + (shapes[f.split('/').pop()!.replace(/\.npy$/, '')] ?? '')).join(', ')}`);
  }
  const checksPassed = r.checks.every((c) => c.ok);
  // A node that refused its actual inputs (a text too short to train on) makes the pipeline invalid, as at validate.
  const refusedInputs = r.errors.length > 0 && r.errors.every((e) => e.invalid);
  const exitCode = r.status === 'ok' && checksPassed ? EXIT.ok : refusedInputs ? EXIT.invalid : EXIT.runFailed;
  if (r.status === 'cancelled') out.push('\nrun cancelled');
  if (!checksPassed) out.push(`\n${r.checks.filter((c) => !c.ok).length} check(s) failed`);
  return {
    status: r.status,
    text: out.join('\n'),
    json: { ok: exitCode === EXIT.ok, status: r.status, checksPassed, checks: r.checks.map((c) => ({ ok: c.ok, text: c.text })), metrics, errors: r.errors, files, profile: p },
    exitCode,
  };
}

/** Reads files' headers (NodeDef.prepare) under the run's read policy, as the engine worker does. */
/** Reads file headers under the read policy, for planRun's prepare step (a .npy source learns its shape). */
export const headReader = (baseDir: string, allowRead: string[]) => ReadPolicy.of({ baseDir, allowRead }).reader().readHead;

/** `ctxlab validate`: compile, apply the memory guard as `run` does, and print the plan. */
export async function validateCommand(file: string, flags: { set: string[]; memoryBudget?: string; allowRead?: string[]; backend?: string }): Promise<RunReport> {
  const budget = budgetOf(flags.memoryBudget);
  const baseDir = baseDirOf(file);
  const doc = await loadDoc(file);
  // --backend webgpu: this machine's adapter, so the plan names the nodes whose GPU kernel would fall back.
  if (flags.backend !== undefined && flags.backend !== 'webgpu') throw new CliError(`--backend: validate checks adapter needs on webgpu only, got "${terminalText(flags.backend)}"`);
  const gpu = flags.backend === 'webgpu' ? (await initBackend('webgpu', nodeBackendSetup('ctxlab validate'))).info : undefined;
  const a = gpu?.name === 'webgpu' ? gpu.adapter : undefined;
  const r = await planRun(doc, registry, {
    baseDir, overrides: parseSets(flags.set), memoryBudget: budget, readHead: headReader(baseDir, allowedFolders(flags.allowRead)),
    ...(a?.limits ? { adapter: { features: a.features ?? [], limits: a.limits } } : {}),
  });
  if (!r.ok) return invalidReport(file, r.stage, r.issues);
  const { plan } = r;
  const warnings = gpu && gpu.name !== 'webgpu' ? [...r.warnings, { path: '', message: `webgpu is not available here (${gpu.fallbackReason}): adapter needs not checked` }] : r.warnings;
  const alone = (s: PlanStep) => s.cost.workspaceBytes + s.predictedOutputBytes;
  const text = [
    `${file === STDIN ? 'stdin' : file}: ok — ${plan.steps.length} nodes, ${plan.doc.edges.length} edges, predicted peak with live values ${mib(plan.predictedPeakBytes)} MiB` +
      (plan.peakStep ? ` at "${plan.peakStep}"` : ''),
    '',
    table(
      ['node', 'type', 'outputs', 'GFLOP', 'pred MiB (node alone)', 'pred peak MiB (with live values)'],
      plan.steps.map((s) => [
        s.id, s.def.type,
        Object.entries(s.outShapes).map(([p, sh]) => `${p} ${sh?.shape ? formatShape(sh.shape, sh.dtype) : sh?.kind ?? ''}`).join(', '),
        (s.cost.flops / 1e9).toFixed(3), mib(alone(s)), mib(s.predictedPeakBytes),
      ]),
      ['l', 'l', 'l', 'r', 'r', 'r'],
    ),
    ...warnings.map((w) => `warning: ${terminalText(formatIssue(w))}`),
  ].join('\n');
  const json = {
    ok: true, status: 'ok', warnings, predictedPeakBytes: plan.predictedPeakBytes,
    steps: plan.steps.map((s) => ({ id: s.id, type: s.def.type, outShapes: s.outShapes, flops: s.cost.flops, predictedNodeBytes: alone(s), predictedPeakBytes: s.predictedPeakBytes })),
  };
  return { status: 'ok', text, json, exitCode: EXIT.ok };
}

/** Splits the --set flags into the swept one (a comma list) and fixed overrides. */
export function sweepSpec(sets: string[]): { swept: { node: string; param: string; values: unknown[] }; fixed: Override[] } {
  const fixed: Override[] = [];
  let swept: { node: string; param: string; values: unknown[] } | undefined;
  for (const s of sets) {
    const eq = s.indexOf('=');
    const raw = eq < 0 ? '' : s.slice(eq + 1);
    if (!raw.trim().startsWith('[') && raw.includes(',')) {
      if (swept) throw new CliError('sweep takes one --set with a list of values (node.param=v1,v2,…); the others must be single values');
      const [o] = parseSets([`${s.slice(0, eq)}=0`]);
      swept = { node: o!.node, param: o!.param, values: raw.split(',').map((v) => parseValue(v.trim())) };
    } else fixed.push(...parseSets([s]));
  }
  if (!swept) throw new CliError('sweep needs --set node.param=v1,v2,… with at least two values');
  return { swept, fixed };
}

const csvCell = (v: unknown) => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export async function sweepCommand(file: string, flags: RunFlags): Promise<RunReport> {
  checkOut(flags.out);
  const { swept, fixed } = sweepSpec(flags.set);
  const budget = budgetOf(flags.memoryBudget);
  const allowRead = allowedFolders(flags.allowRead);
  const doc = await loadDoc(file);
  const baseDir = baseDirOf(file);
  const name = `${swept.node}.${swept.param}`;
  const overridesAt = (value: unknown): Override[] => [...fixed, { node: swept.node, param: swept.param, value }];
  // Every value must give a valid pipeline before any of them runs.
  let affected: string[] = [];
  for (const value of swept.values) {
    const c = await planRun(doc, registry, { baseDir, overrides: overridesAt(value), readHead: headReader(baseDir, allowRead) });
    if (!c.ok) {
      const issues = c.issues.map((i) => ({ ...i, message: `${i.message} (at ${name}=${JSON.stringify(value)})` }));
      throw new CliError(issueLines(file, issues), EXIT.invalid, { issues });
    }
    affected = affectedNodes(c.plan.doc, swept.node);
  }
  const warmup = sweepWarmup(swept.values);
  const log = (line: string) => flags.json || process.stderr.write(`  ${line}\n`);

  const engine = await startEngineWorker();
  const running = runningNode(doc);
  let points: SweepPoint[];
  try {
    points = await runSweep(swept.values, {
      run: async (value) => {
        const r = await engine.api.run(doc, { backend: flags.backend, baseDir, allowRead, overrides: overridesAt(value), memoryBudget: budget, cache: false }, Comlink.proxy(running.onEvent));
        // Invalid only at run time (a read outside the pipeline's folders): exit 2, as `run` does.
        if (!r.ok && r.stage === 'invalid') throw new CliError(issueLines(file, r.issues), EXIT.invalid, { issues: r.issues });
        return r;
      },
      died: (err) => (err instanceof EngineWorkerDied ? running.died(err) : undefined),
      onStart: (value, warm) => warm && log(`${name}=${JSON.stringify(value)}: warm-up run (not timed)`),
      onPoint: (p) => {
        const ran = Object.keys(p.nodes).length > 0;
        log(`${name}=${JSON.stringify(p.value)}: ${p.status}${ran ? ` in ${ms(p.totalMs)} ms` : p.status === 'failed' ? `: ${p.message}` : ''}`);
      },
    });
  } finally {
    await engine.close();
  }
  // The values after the one the sweep ended at (the engine worker died, or a run was cancelled) did not run.
  type Row = { value: unknown; status: SweepPoint['status'] | 'not run'; nodes: SweepPoint['nodes']; note?: string };
  const last = points.at(-1);
  const rows: Row[] = [
    ...points.map((p) => ({ ...p, note: p.status === 'ok' ? undefined : p.status === 'refused' || p.status === 'invalid' ? p.message : [p.status, p.message].filter(Boolean).join(': ') })),
    ...swept.values.slice(points.length).map((value) => ({ value, status: 'not run' as const, nodes: dict<SweepNode>(), note: `not run: the sweep ended at ${name}=${JSON.stringify(last?.value)} (${last?.status})` })),
  ];
  const failed = rows.some((r) => r.status !== 'ok' && r.status !== 'refused');

  const nodeIds = [...new Set(rows.flatMap((r) => Object.keys(r.nodes)))];
  const slopes = sweepFits(points, nodeIds, affected);
  const shown = (f: SweepSlope) => (f.slope === null ? '–' : f.slope.toFixed(2));
  const cell = (r: Row, id: string, figure: (n: SweepNode) => string) => {
    const n = r.nodes[id];
    return !n ? r.status : n.status === 'done' ? figure(n) : n.status;
  };
  const header = ['node', ...rows.map((r) => `${String(r.value)}: ms`), ...rows.map((r) => `${String(r.value)}: MiB`), 'slope ms', 'slope MiB'];
  const body = nodeIds.map((id) => [
    id,
    ...rows.map((r) => cell(r, id, (n) => ms(n.ms))),
    ...rows.map((r) => cell(r, id, (n) => mib(n.peak))),
    shown(slopes[id]!.ms),
    shown(slopes[id]!.peak),
  ]);
  const lines = [
    `sweep of ${name} over ${swept.values.map((v) => JSON.stringify(v)).join(', ')} (backend ${flags.backend}; after one untimed warm-up run at ${JSON.stringify(warmup)}; ` +
      'MiB = peak bytes of the node alone; slope = fitted exponent of log ms / log MiB against log value)',
    '',
    table(header, body),
  ];
  const unfitted = new Map<string, string[]>();
  for (const [id, s] of Object.entries(slopes))
    for (const [what, f] of [['ms', s.ms], ['MiB', s.peak]] as const) if (f.why) unfitted.set(f.why, [...(unfitted.get(f.why) ?? []), `${id} ${what}`]);
  if (unfitted.size) lines.push('');
  for (const [why, where] of unfitted) lines.push(`– no slope: ${why} (${where.join(', ')})`);
  for (const r of rows) if (r.note) lines.push(`\n${terminalText(name)}=${JSON.stringify(r.value)}: ${terminalText(r.note)}`);

  const csv = [
    ['value', 'node', 'status', 'ms', 'peakBytes', 'note'],
    ...rows.flatMap((r) =>
      nodeIds.length && Object.keys(r.nodes).length
        ? nodeIds.map((id) => {
            const n = r.nodes[id];
            return n?.status === 'done' ? [r.value, id, n.status, n.ms, n.peak, ''] : [r.value, id, n?.status ?? r.status, '', '', n?.error ?? ''];
          })
        : [[r.value, '', r.status, '', '', r.note]],
    ),
    ...nodeIds.map((id) => ['slope', id, '', slopes[id]!.ms.slope, slopes[id]!.peak.slope, [slopes[id]!.ms.why && `ms: ${slopes[id]!.ms.why}`, slopes[id]!.peak.why && `peakBytes: ${slopes[id]!.peak.why}`].filter(Boolean).join('; ')]),
  ].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
  const json = { ok: !failed, swept, warmup, rows, slopes };
  if (flags.out) {
    const csvPath = join(resolve(flags.out), 'sweep.csv');
    const jsonPath = join(resolve(flags.out), 'sweep.json');
    await writeAtomic(csvPath, csv);
    await writeAtomic(jsonPath, JSON.stringify(json, null, 2) + '\n');
    lines.push(`\nwrote ${displayPath(csvPath)}, ${displayPath(jsonPath)}`);
  }
  if (failed) {
    const notRun = rows.filter((r) => r.status === 'not run').length;
    lines.push(`\n${rows.filter((r) => r.status !== 'ok' && r.status !== 'refused' && r.status !== 'not run').length} of ${rows.length} runs failed${notRun ? `; ${notRun} not run` : ''}`);
  }
  return { status: failed ? 'failed' : 'ok', text: lines.join('\n'), json, exitCode: failed ? EXIT.runFailed : EXIT.ok };
}
