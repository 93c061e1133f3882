// Compile time against the number of nodes: `compile` (validate, order, infer, memory plan) and
// `ctxlab validate` end to end (read, prepare, compile, budget, table), in-process. Linear work
// shows as a constant time per node and a ×10 step per ×10 nodes. It calls `compile` directly, not
// planRun as every host does: compile is what it measures (planRun adds overrides, file headers and
// the budget check, which the `ctxlab validate` column times end to end).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, type PlanStep } from '../src/engine/compile/compile.js';
import { predictedBytes } from '../src/engine/values.js';
import { validateCommand } from '../src/cli/run.js';
import { registry } from '../src/nodes/index.js';

/** `n` nodes: unconnected synthetic sources (the audit's case), or source → flash attention pairs. */
function doc(n: number, shape: 'unconnected' | 'pairs') {
  const qkv = (i: number) => ({ id: `n${i}`, type: 'source.synthetic-qkv', params: { heads: 1, seqLen: 8, headDim: 4 } });
  if (shape === 'unconnected') return { format: 'context-lab/pipeline', version: 1, name: 'unconnected', nodes: Array.from({ length: n }, (_, i) => qkv(i)) };
  const nodes = [];
  const edges = [];
  for (let i = 0; i < n; i += 2) {
    nodes.push(qkv(i), { id: `n${i + 1}`, type: 'attention', params: { variant: 'flash' } });
    for (const p of ['q', 'k', 'v']) edges.push({ from: `n${i}.${p}`, to: `n${i + 1}.${p}` });
  }
  return { format: 'context-lab/pipeline', version: 1, name: 'pairs', nodes, edges };
}

/** Wall and CPU ms (this process, user + system) of `fn`: on a shared machine the CPU time is the steadier figure. */
async function time(fn: () => unknown): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

/** The topological order this replaced: sort the ready list and shift its head, per node (O(n² log n) when many are ready). */
function quadraticOrder(succ: Set<number>[]): number[] {
  const indeg = succ.map(() => 0);
  succ.forEach((t) => t.forEach((j) => indeg[j]!++));
  const ready = indeg.flatMap((d, i) => (d === 0 ? [i] : []));
  const order: number[] = [];
  while (ready.length) {
    ready.sort((a, b) => a - b);
    const i = ready.shift()!;
    order.push(i);
    for (const t of succ[i]!) if (--indeg[t]! === 0) ready.push(t);
  }
  return order;
}

/** The live-bytes sweep this replaced: for each step, every earlier step's outputs (O(n²)). */
function quadraticLive(steps: PlanStep[]): number {
  let peak = 0;
  steps.forEach((s, si) => {
    let live = 0;
    for (let pi = 0; pi < si; pi++)
      for (const [port, shape] of Object.entries(steps[pi]!.outShapes)) if (steps[pi]!.lastUse[port]! >= si && shape) live += predictedBytes(shape) ?? 0;
    peak = Math.max(peak, live);
  });
  return peak;
}

export async function benchCompile(quick = process.argv.includes('--quick')): Promise<string> {
  const sizes = quick ? [1e3, 1e4] : [1e3, 1e4, 1e5];
  const dir = mkdtempSync(join(tmpdir(), 'ctxlab-bench-compile-'));
  const rows: string[] = [];
  const perSize = new Map<string, number>();
  const baseline: string[] = [];
  try {
    compile(doc(200, 'pairs'), registry); // warm-up: JIT and zod schemas
    for (const shape of ['unconnected', 'pairs'] as const)
      for (const n of sizes) {
        const d = doc(n, shape);
        const reps = n >= 1e5 ? 1 : 3;
        let best = { wall: Infinity, cpu: Infinity };
        for (let rep = 0; rep < reps; rep++) {
          const t = await time(() => {
            const r = compile(d, registry);
            if (!r.ok) throw new Error(JSON.stringify(r.issues.slice(0, 3)));
          });
          if (t.cpu < best.cpu) best = t;
        }
        const file = join(dir, `${shape}-${n}.json`);
        writeFileSync(file, JSON.stringify(d));
        const v = await time(async () => {
          const r = await validateCommand(file, { set: [] });
          if (r.exitCode !== 0) throw new Error(r.text.slice(0, 500));
        });
        perSize.set(`${shape} ${n}`, best.cpu);
        const prev = perSize.get(`${shape} ${n / 10}`);
        rows.push(
          `| ${shape} | ${n.toExponential(0).replace('e+', 'e')} | ${(d as { edges?: unknown[] }).edges?.length ?? 0} | ${best.cpu.toFixed(0)} | ${best.wall.toFixed(0)} | ${((best.cpu / n) * 1000).toFixed(1)} | ${prev ? `${(best.cpu / prev).toFixed(1)}×` : '—'} | ${v.cpu.toFixed(0)} | ${v.wall.toFixed(0)} |`,
        );
        process.stderr.write(`  ${shape} n=${n}: compile ${best.cpu.toFixed(0)} ms CPU, validate ${v.cpu.toFixed(0)} ms CPU\n`);
      }
    // The same-run baseline: the two quadratic pieces alone, on the plan of the unconnected document.
    for (const n of quick ? [1e3] : [1e3, 1e4]) {
      const r = compile(doc(n, 'unconnected'), registry);
      if (!r.ok) throw new Error('baseline document does not compile');
      const now = await time(() => compile(doc(n, 'unconnected'), registry));
      const before = await time(() => {
        quadraticOrder(r.plan.steps.map(() => new Set<number>()));
        quadraticLive(r.plan.steps);
      });
      baseline.push(`| ${n.toExponential(0).replace('e+', 'e')} | ${now.cpu.toFixed(0)} | ${before.cpu.toFixed(0)} | ${(before.cpu / now.cpu).toFixed(1)}× |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    '## Compile time against pipeline size',
    '',
    '`compile` = validate (zod), edges, topological order, shape inference, cost and memory plan of the document, best of',
    '3 runs (one at 10⁵). `ctxlab validate` = the command end to end in-process: read the file, prepare (.npy headers),',
    'compile, memory budget and the printed table, one run. "unconnected" is the audit\'s case: n synthetic-qkv sources;',
    '"pairs" is n/2 synthetic-qkv → flash attention pairs (3 edges each). CPU ms is this process\'s user + system time (the',
    'steadier figure on a shared machine; wall ms beside it). The baseline is the same document at a tenth of the size:',
    'linear work steps ×10. The audit measured 21.5 s for 2·10⁴ unconnected nodes and over 90 s for 10⁵ before the fix (the',
    'memory plan summed every earlier step for each step; the topological sort re-sorted and shifted its queue per node).',
    `Command: \`npm run bench -- --only compile\` (${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version};`,
    `1-minute load average ${loadavg()[0]!.toFixed(1)} at the end of the run: wall times stretch with the load, and so does garbage collection).`,
    '',
    '| document | nodes | edges | compile CPU ms | compile wall ms | CPU µs per node | × previous size | `ctxlab validate` CPU ms | `ctxlab validate` wall ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'Baseline measured in the same run: the whole compile now against the two pieces it replaced alone (the old',
    'topological order and live-bytes sweep, kept in bench/compile.ts), on the unconnected document.',
    '',
    '| nodes | whole compile now, CPU ms | old order + old sweep alone, CPU ms | old / now |',
    '| --- | --- | --- | --- |',
    ...baseline,
  ].join('\n');
}
