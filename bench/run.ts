// `npm run bench`: measured figures for docs/BENCHMARKS.md, each against a baseline measured in the
// same process. Not a test: it prints and writes what it measured, on this machine.
import { cpus, totalmem } from 'node:os';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { z } from 'zod';
import * as Comlink from 'comlink';
import { ctxFor } from './context.js';
import { checkMemoryBudget, compile, formatBytes } from '../src/engine/compile/compile.js';
import { defineNode, type BackendName, type RunContext } from '../src/engine/node.js';
import { Registry } from '../src/engine/registry.js';
import { executePlan } from '../src/engine/run/runtime.js';
import { nodeExecEnv } from '../src/engine/node/host.js';
import { startEngineWorker } from '../src/lab/engine-worker.js';
import { f32 } from '../src/engine/tensor.js';
import { tensorShape } from '../src/engine/values.js';
import { attention } from '../src/nodes/attention/index.js';
import { syntheticQkv } from '../src/nodes/sources/synthetic-qkv.js';
import { registry } from '../src/nodes/index.js';

const quick = process.argv.includes('--quick');
/**
 * `--only compile,kv-cache`: run only these sections (overhead, cancel, attention, or a bench file's
 * name) and replace just them in docs/BENCHMARKS.md (appended when new), keeping the others.
 */
const only = process.argv[process.argv.indexOf('--only') + 1]?.split(',');
const want = (name: string) => !process.argv.includes('--only') || !!only?.includes(name);
const sections: string[] = [];
const log = (s: string) => process.stderr.write(s + '\n');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mib = (b: number) => (b / 2 ** 20).toFixed(1);

/** What a JS user writes with tfjs: batched QKᵀ, causal mask, softmax, PV. */
async function composed(ctx: RunContext, q: Float32Array, k: Float32Array, v: Float32Array, H: number, T: number, D: number) {
  const { tf } = ctx;
  const out = tf.tidy(() => {
    const qt = tf.tensor3d(q, [H, T, D]);
    const kt = tf.tensor3d(k, [H, T, D]);
    const vt = tf.tensor3d(v, [H, T, D]);
    const scores = tf.mul(tf.matMul(qt, kt, false, true), 1 / Math.sqrt(D));
    const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0);
    const masked = tf.where(tf.cast(mask, 'bool'), scores, tf.fill([H, T, T], -Infinity));
    return tf.matMul(tf.softmax(masked), vt);
  });
  const data = await out.data();
  out.dispose();
  return data;
}

type Row = { backend: string; impl: string; H: number; T: number; ms: number; gflops: number; peakExtra: number; runs: number };

async function attentionBench(): Promise<string> {
  const D = 64;
  const rows: Row[] = [];
  const plans: { backend: BackendName; impl: 'composed' | 'naive' | 'flash'; H: number; T: number }[] = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    for (const T of quick ? [1024] : [1024, 4096]) for (const impl of ['composed', 'naive'] as const) plans.push({ backend, impl, H: 8, T });
    for (const T of quick ? [1024] : backend === 'cpu' ? [1024, 4096] : [1024, 4096, 16384]) plans.push({ backend, impl: 'flash', H: 8, T });
  }
  if (!quick) plans.push({ backend: 'wasm', impl: 'flash', H: 1, T: 65536 });
  for (const p of plans) {
    const ctx = (await ctxFor(p.backend)) as RunContext & { peak: number };
    const { q, k, v } = syntheticQkv({ heads: p.H, seqLen: p.T, headDim: D, seed: 1, sinkStrength: 4, sinkTokens: 4, locality: 2 } as never);
    const flops = (4 * p.T * p.T * D * p.H) / 2;
    const times: number[] = [];
    let peakExtra = 0;
    for (let rep = 0; rep < 3; rep++) {
      const base = ctx.tf.memory().numBytes;
      ctx.peak = base;
      const t0 = performance.now();
      if (p.impl === 'composed') {
        const prof = await ctx.tf.profile(async () => {
          await composed(ctx, q.data as Float32Array, k.data as Float32Array, v.data as Float32Array, p.H, p.T, D);
          return ctx.tf.scalar(0);
        });
        peakExtra = Math.max(peakExtra, prof.peakBytes - base);
      } else {
        const params = attention.params.parse({ variant: p.impl, causal: true });
        await attention.run(ctx, { q, k, v } as never, params);
        peakExtra = Math.max(peakExtra, ctx.peak - base);
      }
      const ms = performance.now() - t0;
      times.push(ms);
      log(`  ${p.backend} ${p.impl} H=${p.H} T=${p.T}: ${ms.toFixed(0)} ms`);
      if (ms > 4000) break; // slow cases: one run is the figure
    }
    const ms = median(times);
    rows.push({ backend: p.backend, impl: p.impl, H: p.H, T: p.T, ms, gflops: flops / ms / 1e6, peakExtra, runs: times.length });
  }
  const ref = (r: Row) => rows.find((x) => x.backend === r.backend && x.impl === 'composed' && x.T === r.T && x.H === r.H);
  const lines = [
    '## Attention: naive and flash against tfjs composed attention',
    '',
    'Causal attention, D = 64, float32, synthetic Q/K/V (seed 1). `composed` is what a JS user writes with tfjs:',
    '`matMul(q, k, false, true)` batched over heads, a causal mask with `where`, `softmax`, `matMul` with V —',
    'the baseline, measured in the same process. GFLOP/s counts 4·T²·D per head, halved for causality (composed',
    'computes the whole T×T product and masks it, so by its own work it runs at twice the figure shown).',
    'Peak extra = backend memory (tfjs tensors + tracked scratch) above what was allocated before the call.',
    `Median of up to 3 runs (one run when a run takes over 4 s). Command: \`npm run bench\`.`,
    '',
    '| backend | kernel | H | T | median ms | GFLOP/s | peak extra MiB | × composed |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => {
      const c = ref(r);
      return `| ${r.backend} | ${r.impl} | ${r.H} | ${r.T} | ${r.ms.toFixed(0)} | ${r.gflops.toFixed(2)} | ${mib(r.peakExtra)} | ${c && c !== r ? (c.ms / r.ms).toFixed(2) + '×' : c === r ? 'baseline' : '—'} |`;
    }),
  ];
  const f4 = rows.find((r) => r.backend === 'wasm' && r.impl === 'flash' && r.T === 4096);
  const c4 = rows.find((r) => r.backend === 'wasm' && r.impl === 'composed' && r.T === 4096);
  const f64 = rows.find((r) => r.T === 65536);
  lines.push('');
  if (f4 && c4) lines.push(`- Target "flash ≥ 3× faster than tfjs-wasm composed at T = 4K": **${(c4.ms / f4.ms).toFixed(1)}×** (${f4.ms.toFixed(0)} ms vs ${c4.ms.toFixed(0)} ms); flash's peak extra memory ${mib(f4.peakExtra)} MiB against composed's ${mib(c4.peakExtra)} MiB.`);
  if (f64) lines.push(`- Flash at T = 65536, H = 1 (wasm): ${(f64.ms / 1000).toFixed(1)} s, ${f64.gflops.toFixed(2)} GFLOP/s, peak extra ${mib(f64.peakExtra)} MiB (target: under 512 MB).`);
  lines.push('- cpu (tfjs-backend-cpu, plain JS kernels) runs flash at 16K and 64K far too slowly to be worth measuring here: its figures stop at 4K.');

  // The pre-flight guard at T = 65536.
  const doc = {
    format: 'context-lab/pipeline', version: 1, name: 'naive 64K',
    nodes: [{ id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 1, seqLen: 65536, headDim: 64 } }, { id: 'naive', type: 'attention', params: { variant: 'naive' } }],
    edges: [{ from: 'qkv.q', to: 'naive.q' }, { from: 'qkv.k', to: 'naive.k' }, { from: 'qkv.v', to: 'naive.v' }],
  };
  const c = compile(doc, registry);
  const budget = Math.floor(totalmem() / 2);
  const refused = c.ok ? checkMemoryBudget(c.plan, budget) : null;
  lines.push(`- Naive at T = 65536 (H = 1) under the default budget (half of ${formatBytes(totalmem())}): ${refused ? `refused before running — "${refused.message}"` : 'NOT refused'}.`);
  return lines.join('\n');
}

async function overheadBench(): Promise<string> {
  // A chain of 200 trivial nodes: the engine's own cost per node (compile excluded, run included).
  const src = defineNode({
    type: 'bench.source', family: 'bench', title: 'source', summary: '', references: [], params: z.object({}), inputs: {},
    outputs: { out: { kind: 'tensor' } }, infer: () => ({ out: tensorShape('float32', [16]) }), run: () => ({ out: f32([16]) }),
  });
  const id = defineNode({
    type: 'bench.identity', family: 'bench', title: 'identity', summary: '', references: [], params: z.object({}),
    inputs: { in: { kind: 'tensor' } }, outputs: { out: { kind: 'tensor' } }, infer: (i) => ({ out: i.in }), run: (_c, i) => ({ out: i.in }),
  });
  const reg = new Registry([src, id]);
  const N = 200;
  const doc = {
    format: 'context-lab/pipeline', version: 1, name: 'chain',
    nodes: [{ id: 'n0', type: 'bench.source' }, ...Array.from({ length: N }, (_, i) => ({ id: `n${i + 1}`, type: 'bench.identity' }))],
    edges: Array.from({ length: N }, (_, i) => ({ from: `n${i}.out`, to: `n${i + 1}.in` })),
  };
  const c = compile(doc, reg);
  if (!c.ok) throw new Error(JSON.stringify(c.issues));
  const env = await nodeExecEnv('cpu', 'bench');
  const per: number[] = [];
  const compileMs: number[] = [];
  for (let rep = 0; rep < 7; rep++) {
    const t1 = performance.now();
    compile(doc, reg);
    compileMs.push(performance.now() - t1);
    const t0 = performance.now();
    const r = await executePlan(c.plan, env);
    const total = performance.now() - t0;
    const own = r.profile.nodes.reduce((s, n) => s + n.wallMs, 0);
    per.push(((total - own) / (N + 1)) * 1000);
  }
  const us = median(per);
  return [
    '## Engine overhead',
    '',
    `A chain of ${N} trivial nodes (identity on a 16-float tensor), run in-process on cpu; median of 7 runs.`,
    `The baseline is the nodes' own measured work inside the same runs.`,
    '',
    `- Runtime overhead beyond the nodes' own work: **${us.toFixed(1)} µs per node** (target ≤ 50 µs).`,
    `- Compile (validate, order, infer, memory plan) of the ${N + 1}-node document: ${median(compileMs).toFixed(1)} ms.`,
  ].join('\n');
}

async function cancelBench(): Promise<string> {
  const engine = await startEngineWorker();
  const latencies: number[] = [];
  try {
    for (let rep = 0; rep < 3; rep++) {
      const doc = {
        format: 'context-lab/pipeline', version: 1, name: 'cancel',
        nodes: [{ id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 8, seqLen: 8192, headDim: 64 } }, { id: 'flash', type: 'attention', params: { variant: 'flash' } }],
        edges: [{ from: 'qkv.q', to: 'flash.q' }, { from: 'qkv.k', to: 'flash.k' }, { from: 'qkv.v', to: 'flash.v' }],
      };
      let inside = false;
      const run = engine.api.run(doc, { backend: 'wasm', cache: false }, Comlink.proxy((e: { type: string; nodeId?: string }) => {
        if (e.type === 'node-progress' && e.nodeId === 'flash') inside = true;
      }));
      while (!inside) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      engine.cancel();
      const r = await run;
      latencies.push(performance.now() - t0);
      if (!r.ok || r.status !== 'cancelled') throw new Error('run was not cancelled');
    }
  } finally {
    await engine.close();
  }
  return [
    '## Cancellation latency',
    '',
    'Flash attention at T = 8192, H = 8 on wasm in the engine worker_thread, cancelled 300 ms into the node through the',
    'shared flag; time from `cancel()` to the run returning `cancelled` on the caller side (3 runs).',
    '',
    `- ${latencies.map((l) => `${l.toFixed(0)} ms`).join(', ')} (target: within 200 ms).`,
  ].join('\n');
}

/** The heading bench/gpu-device.ts's section starts with. */
const GPU_SECTION = '## Attention kernel on a real GPU';

/** `doc` with each section (from its `## ` heading to the next) replaced by the new one, or appended. */
function replaceSections(doc: string, fresh: string[]): string {
  for (const section of fresh) {
    const heading = `\n${section.split('\n')[0]}\n`;
    const start = doc.indexOf(heading);
    if (start < 0) {
      doc = `${doc.trimEnd()}\n\n${section}\n`;
      continue;
    }
    const end = doc.indexOf('\n## ', start + 1);
    doc = `${doc.slice(0, start + 1)}${section}\n${end < 0 ? '' : doc.slice(end)}`;
  }
  return doc;
}

async function optional(file: string, fn: string): Promise<string | undefined> {
  if (!existsSync(new URL(file, import.meta.url))) return undefined;
  const mod = (await import(file)) as Record<string, () => Promise<string>>;
  return mod[fn] ? mod[fn]() : undefined;
}

const started = new Date();
if (want('overhead')) {
  log('engine overhead…');
  sections.push(await overheadBench());
}
if (want('cancel')) {
  log('cancellation…');
  sections.push(await cancelBench());
}
if (want('attention')) {
  log('attention…');
  sections.push(await attentionBench());
}
for (const [file, fn] of [
  ['./attention-variants.ts', 'benchAttentionVariants'],
  ['./attention-kernel.ts', 'benchAttentionKernel'],
  ['./attention-webgpu.ts', 'benchAttentionWebGPU'],
  ['./devices.ts', 'benchDevices'],
  ['./scan.ts', 'benchScanVsAttention'],
  ['./tokenizer.ts', 'benchTokenizers'],
  ['./kv-cache.ts', 'benchKvCache'],
  ['./memory.ts', 'benchMemory'],
  ['./compile.ts', 'benchCompile'],
  ['./model-forward.ts', 'benchModelForward'],
  ['./train.ts', 'benchTraining'],
  ['./editor.ts', 'benchEditor'],
] as const) {
  if (!want(file.slice(2, -3))) continue;
  log(`${file}…`);
  const s = await optional(file, fn);
  if (s) sections.push(s);
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const header = [
  '# Benchmarks',
  '',
  `Measured by \`npm run bench\` on ${started.toISOString().slice(0, 10)}: ${cpu}, ${cpus().length} cores, ${formatBytes(totalmem())} RAM,`,
  `Node ${process.version}, tfjs 4.22 (backends as named per table; wasm = tfjs-backend-wasm with SIMD, no threads in Node).`,
  'Every figure sits beside the baseline it was measured against, in the same process. Single machine, single session: rough.',
  '',
].join('\n');
const docPath = new URL('../docs/BENCHMARKS.md', import.meta.url);
// Sections measured only on a lent GPU machine (scripts/gpu-device.sh): a full local run keeps them.
const gpuOnly = existsSync(docPath) ? readFileSync(docPath, 'utf8').split(/\n(?=## )/).filter((s) => s.startsWith(GPU_SECTION)) : [];
const text = header + [...sections, ...gpuOnly.map((s) => s.trimEnd())].join('\n\n') + '\n';
if (!quick) writeFileSync(docPath, process.argv.includes('--only') ? replaceSections(readFileSync(docPath, 'utf8'), sections) : text);
process.stdout.write(text);
