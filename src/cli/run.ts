// `ctxlab run` and `ctxlab sweep`: the engine in a worker_thread, results as .npy, tables on stdout.
import { dirname, join, relative, resolve } from 'node:path';
import { totalmem } from 'node:os';
import cliProgress from 'cli-progress';
import * as Comlink from 'comlink';
import { writeAtomic } from '../engine/node/files.js';
import { metricsOf, writeOutputs } from '../engine/api.js';
import type { BackendName } from '../engine/node.js';
import { startEngineWorker } from '../engine/node/client.js';
import { readPipelineFile } from '../engine/node/host.js';
import type { RunEvent, RunProfile } from '../engine/run/events.js';
import type { ServiceRunResult } from '../engine/run/service.js';
import { applyOverrides, parseOverride, parseValue, type Override } from '../engine/schema/overrides.js';
import { formatIssue, formatBytes } from '../engine/compile/compile.js';
import { formatShape } from '../engine/tensor.js';
import { displayPath, logLogSlope, mb, ms, num, parseBytes, table } from './format.js';

export const EXIT = { ok: 0, runFailed: 1, invalid: 2 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    public code: number = EXIT.invalid,
  ) {
    super(message);
  }
}

export interface RunFlags {
  backend: BackendName;
  set: string[];
  out?: string;
  json?: boolean;
  memoryBudget?: string;
  progress?: boolean;
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
    return flag ? parseBytes(flag) : Math.floor(totalmem() / 2);
  } catch (err) {
    throw new CliError(`--memory-budget: ${(err as Error).message}`);
  }
}

function progressReporter(enabled: boolean, nodes: () => number) {
  if (!enabled) return { onEvent: (_e: RunEvent) => {}, stop: () => {} };
  let bar: cliProgress.SingleBar | undefined;
  // Events arrive on their own channel and may trail the run's result: none may redraw a stopped bar.
  let stopped = false;
  let done = 0;
  let started = Date.now();
  let current = '';
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
      if (Date.now() - started > 300) bar.update(Math.round(((done + frac) / total()) * 1000), { node: current });
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
  const overrides = parseSets(flags.set);
  const doc = await loadDoc(file);
  const engine = await startEngineWorker();
  const progress = progressReporter(!!flags.progress && !flags.json && process.stderr.isTTY === true, () => nodeCount(doc));
  try {
    const result = await engine.api.run(
      doc,
      { backend: flags.backend, baseDir: dirname(resolve(file)), overrides, memoryBudget: budgetOf(flags.memoryBudget) },
      Comlink.proxy(progress.onEvent),
    );
    progress.stop();
    return await report(file, result, flags);
  } finally {
    progress.stop();
    await engine.close();
  }
}

function nodeCount(doc: unknown): number {
  return (doc as { nodes?: unknown[] }).nodes?.length ?? 0;
}

/** Reads a pipeline file and applies --set overrides; any problem is a CliError (exit 2). */
export async function loadWithOverrides(file: string, sets: string[]): Promise<unknown> {
  try {
    return applyOverrides(await loadDoc(file), parseSets(sets));
  } catch (err) {
    throw err instanceof CliError ? err : new CliError((err as Error).message);
  }
}

export async function loadDoc(file: string): Promise<unknown> {
  try {
    return await readPipelineFile(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { issues?: { message: string }[] };
    if (e.code === 'ENOENT') throw new CliError(`${file}: no such file`);
    if (e.issues) throw new CliError(e.issues.map((i) => i.message).join('\n'));
    throw new CliError(`${file}: ${e.message}`);
  }
}

async function report(file: string, r: ServiceRunResult, flags: RunFlags): Promise<RunReport> {
  if (!r.ok) {
    const lines = r.issues.map((i) => `${file}: ${formatIssue(i)}`);
    return { status: r.stage, text: lines.join('\n'), json: { status: r.stage, issues: r.issues }, exitCode: EXIT.invalid };
  }
  const p = r.profile;
  const out: string[] = [];
  const b = p.backend;
  out.push(`backend: ${b.name}${b.name !== b.requested ? ` (requested ${b.requested}; fell back: ${b.fallbackReason})` : ''}` +
    `${b.adapter ? ` · adapter ${b.adapter.vendor}/${b.adapter.architecture}${b.adapter.isFallbackAdapter ? ' (software fallback)' : ''}` : ''} · ${b.host}`);
  out.push(`pipeline: ${p.pipeline} · ${p.nodes.length} nodes · ${ms(p.totalMs)} ms · peak ${mb(p.measuredPeakBytes)} MB measured, ${mb(p.predictedPeakBytes)} MB predicted`);
  out.push('');
  out.push(
    table(
      ['node', 'type', 'variant', 'status', 'ms', 'peak MB', 'pred MB', 'out MB', 'GFLOP/s'],
      p.nodes.map((n) => [n.nodeId, n.type, n.variant ?? '', n.status, ms(n.wallMs), mb(n.peakBytes), mb(n.predictedPeakBytes), mb(n.outputBytes), n.gflops === null ? '' : n.gflops.toFixed(2)]),
      ['l', 'l', 'l', 'l', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  for (const e of r.errors) out.push(`\nnode "${e.nodeId}" failed: ${e.message}`);
  const metrics = metricsOf(r.outputs);
  if (Object.keys(metrics).length) {
    out.push('\nmetrics');
    for (const [k, vals] of Object.entries(metrics))
      out.push(`  ${k}: ${Object.entries(vals as Record<string, unknown>).filter(([, v]) => typeof v !== 'object' || v === null).map(([mk, mv]) => `${mk} ${num(mv)}`).join('  ')}`);
  }
  if (r.checks.length) {
    out.push('\nchecks');
    for (const c of r.checks) out.push(`  ${c.ok ? '✓' : '✗'} ${c.text}`);
  }
  let files: string[] = [];
  if (flags.out) {
    const shapes = Object.fromEntries(Object.entries(r.artifacts).map(([n, a]) => [n, a.value.kind === 'tensor' ? ` [${formatShape(a.value.shape, a.value.dtype)}]` : '']));
    files = (await writeOutputs({ artifacts: r.artifacts, profile: p, metrics }, resolve(flags.out))).map(displayPath);
    out.push(`\nwrote ${files.map((f) => f + (shapes[f.split('/').pop()!.replace(/\.npy$/, '')] ?? '')).join(', ')}`);
  }
  const checksFailed = r.checks.some((c) => !c.ok);
  const exitCode = r.status === 'ok' && !checksFailed ? EXIT.ok : EXIT.runFailed;
  if (r.status === 'cancelled') out.push('\nrun cancelled');
  if (checksFailed) out.push(`\n${r.checks.filter((c) => !c.ok).length} check(s) failed`);
  return {
    status: r.status,
    text: out.join('\n'),
    json: { status: r.status, checks: r.checks.map((c) => ({ ok: c.ok, text: c.text })), metrics, errors: r.errors, files, profile: p },
    exitCode,
  };
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

export async function sweepCommand(file: string, flags: RunFlags): Promise<RunReport> {
  const { swept, fixed } = sweepSpec(flags.set);
  const doc = await loadDoc(file);
  const engine = await startEngineWorker();
  type Row = { value: unknown; status: string; nodes: Record<string, { ms: number; peak: number; status: string }>; note?: string };
  const rows: Row[] = [];
  let failed = false;
  try {
    for (const value of swept.values) {
      const r = await engine.api.run(doc, {
        backend: flags.backend, baseDir: dirname(resolve(file)), overrides: [...fixed, { node: swept.node, param: swept.param, value }],
        memoryBudget: budgetOf(flags.memoryBudget), cache: false,
      });
      if (!r.ok) {
        if (r.stage === 'invalid') throw new CliError(r.issues.map((i) => `${file}: ${formatIssue(i)}`).join('\n'));
        rows.push({ value, status: 'refused', nodes: {}, note: r.issues[0]?.message });
        continue;
      }
      if (r.status !== 'ok') failed = true;
      rows.push({ value, status: r.status, nodes: Object.fromEntries(r.profile.nodes.map((n) => [n.nodeId, { ms: n.wallMs, peak: n.peakBytes, status: n.status }])) });
      if (!flags.json) process.stderr.write(`  ${swept.node}.${swept.param}=${JSON.stringify(value)}: ${r.status} in ${ms(r.profile.totalMs)} ms\n`);
    }
  } finally {
    await engine.close();
  }
  const nodeIds = [...new Set(rows.flatMap((r) => Object.keys(r.nodes)))];
  const numeric = swept.values.every((v) => typeof v === 'number');
  const slopes = Object.fromEntries(
    nodeIds.map((id) => {
      const ok = rows.filter((r) => r.nodes[id]?.status === 'done');
      const xs = ok.map((r) => r.value as number);
      return [id, numeric ? { ms: logLogSlope(xs, ok.map((r) => r.nodes[id]!.ms)), peak: logLogSlope(xs, ok.map((r) => r.nodes[id]!.peak)) } : { ms: null, peak: null }];
    }),
  );
  const header = ['node', ...rows.map((r) => `${String(r.value)}: ms`), ...rows.map((r) => `${String(r.value)}: MB`), 'slope ms', 'slope MB'];
  const body = nodeIds.map((id) => [
    id,
    ...rows.map((r) => (r.nodes[id] ? ms(r.nodes[id]!.ms) : r.status)),
    ...rows.map((r) => (r.nodes[id] ? mb(r.nodes[id]!.peak) : r.status)),
    slopes[id]!.ms === null ? '' : slopes[id]!.ms!.toFixed(2),
    slopes[id]!.peak === null ? '' : slopes[id]!.peak!.toFixed(2),
  ]);
  const csv = ['value,node,status,ms,peakBytes', ...rows.flatMap((r) =>
    r.status === 'refused' ? [`${r.value},,refused,,`] : nodeIds.map((id) => `${r.value},${id},${r.nodes[id]?.status ?? ''},${r.nodes[id]?.ms ?? ''},${r.nodes[id]?.peak ?? ''}`))].join('\n') + '\n';
  const lines = [`sweep of ${swept.node}.${swept.param} over ${swept.values.map((v) => JSON.stringify(v)).join(', ')} (backend ${flags.backend}; slope = fitted exponent of log ms / log MB against log value)`, '', table(header, body)];
  for (const r of rows) if (r.status === 'refused') lines.push(`\n${swept.param}=${JSON.stringify(r.value)}: ${r.note}`);
  if (flags.out) {
    const path = join(resolve(flags.out), 'sweep.csv');
    await writeAtomic(path, csv);
    await writeAtomic(join(resolve(flags.out), 'sweep.json'), JSON.stringify({ swept, rows, slopes }, null, 2) + '\n');
    lines.push(`\nwrote ${displayPath(path)}, ${displayPath(join(resolve(flags.out), 'sweep.json'))}`);
  }
  return { status: failed ? 'failed' : 'ok', text: lines.join('\n'), json: { swept, rows, slopes }, exitCode: failed ? EXIT.runFailed : EXIT.ok };
}

export { formatBytes };
