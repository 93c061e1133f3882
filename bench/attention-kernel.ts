// The fused wasm-SIMD attention kernel against its peers, measured side by side in one process:
// ONNX Runtime's GroupQueryAttention (onnxruntime-node, CPU, a tiny model built here), the tfjs-wasm
// compositions (what the wasm backend ran before), and the machine's wasm-SIMD multiply-add peak.
// Then every exact variant's time per computed tile against flash's.
// Run: npx tsx bench/run.ts --only attention-kernel   (or directly: npx tsx bench/attention-kernel.ts)
import { cpus, loadavg } from 'node:os';
import { attention } from '../src/nodes/attention/index.js';
import { syntheticQkv } from '../src/nodes/sources/synthetic-qkv.js';
import type { RunContext } from '../src/engine/node.js';
import type { Tensor } from '../src/engine/tensor.js';
import { closeKernelPool, kernelStats, measureWasmPeak, resetKernelStats } from '../src/kernels/wasm/attention.js';
import { ctxFor } from './context.js';
import { EXACT_VARIANTS } from './exact-variants.js';

const log = (s: string) => process.stderr.write(s + '\n');

// ---- a GroupQueryAttention model, protobuf written by hand (onnx.proto field numbers) ----

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const field = (no: number, wire: number) => varint((no << 3) | wire);
const int = (no: number, n: number) => [...field(no, 0), ...varint(n)];
const bytes = (no: number, b: number[]) => [...field(no, 2), ...varint(b.length), ...b];
const str = (no: number, s: string) => bytes(no, [...Buffer.from(s, 'utf8')]);
const f32field = (no: number, x: number) => {
  const b = Buffer.alloc(4);
  b.writeFloatLE(x);
  return [...field(no, 5), ...b];
};
/** ValueInfoProto: name, tensor type (elem type) with dims (number: value, string: param). */
const valueInfo = (name: string, elem: number, dims: (number | string)[]) =>
  [...str(1, name), ...bytes(2, bytes(1, [...int(1, elem), ...bytes(2, dims.flatMap((d) => bytes(1, typeof d === 'number' ? int(1, d) : str(2, d))))]))];
const FLOAT = 1;
const INT32 = 6;

/** com.microsoft GroupQueryAttention (causal), no past, prompt of T tokens: [1, T, H·D] in and out. */
export function gqaModel(H: number, Hkv: number, D: number, scale: number): Uint8Array {
  const attr = (name: string, body: number[]) => bytes(5, [...str(1, name), ...body]);
  const node = [
    ...['query', 'key', 'value', '', '', 'seqlens_k', 'total_sequence_length'].flatMap((n) => str(1, n)),
    ...['output', 'present_key', 'present_value'].flatMap((n) => str(2, n)),
    ...str(3, 'gqa'),
    ...str(4, 'GroupQueryAttention'),
    ...str(7, 'com.microsoft'),
    ...attr('num_heads', [...int(20, 2), ...int(3, H)]),
    ...attr('kv_num_heads', [...int(20, 2), ...int(3, Hkv)]),
    ...attr('scale', [...int(20, 1), ...f32field(2, scale)]),
  ];
  const graph = [
    ...bytes(1, node),
    ...str(2, 'gqa'),
    ...bytes(11, valueInfo('query', FLOAT, [1, 'T', H * D])),
    ...bytes(11, valueInfo('key', FLOAT, [1, 'T', Hkv * D])),
    ...bytes(11, valueInfo('value', FLOAT, [1, 'T', Hkv * D])),
    ...bytes(11, valueInfo('seqlens_k', INT32, [1])),
    ...bytes(11, valueInfo('total_sequence_length', INT32, [])),
    ...bytes(12, valueInfo('output', FLOAT, [1, 'T', H * D])),
  ];
  const model = [...int(1, 8), ...str(2, 'context-lab bench'), ...bytes(8, [...str(1, ''), ...int(2, 17)]), ...bytes(8, [...str(1, 'com.microsoft'), ...int(2, 1)]), ...bytes(7, graph)];
  return Uint8Array.from(model);
}

/** [H, T, D] → [1, T, H·D] (the layout GQA takes). */
function toBsnh(x: Float32Array, H: number, T: number, D: number): Float32Array {
  const out = new Float32Array(H * T * D);
  for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) out.set(x.subarray((h * T + t) * D, (h * T + t + 1) * D), (t * H + h) * D);
  return out;
}

type Ort = typeof import('onnxruntime-node');

async function ortRunner(ort: Ort, H: number, T: number, D: number, threads: number, q: Float32Array, k: Float32Array, v: Float32Array) {
  const session = await ort.InferenceSession.create(gqaModel(H, H, D, 1 / Math.sqrt(D)), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = {
    query: new ort.Tensor('float32', toBsnh(q, H, T, D), [1, T, H * D]),
    key: new ort.Tensor('float32', toBsnh(k, H, T, D), [1, T, H * D]),
    value: new ort.Tensor('float32', toBsnh(v, H, T, D), [1, T, H * D]),
    seqlens_k: new ort.Tensor('int32', Int32Array.of(T - 1), [1]),
    total_sequence_length: new ort.Tensor('int32', Int32Array.of(T), []),
  };
  return {
    run: async () => (await session.run(feeds)).output!.data as Float32Array,
    release: () => session.release(),
  };
}

/** What a JS user writes with tfjs: batched QKᵀ, causal mask, softmax, PV (materialises H×T×T). */
async function composed(ctx: RunContext, q: Float32Array, k: Float32Array, v: Float32Array, H: number, T: number, D: number) {
  const { tf } = ctx;
  const out = tf.tidy(() => {
    const scores = tf.mul(tf.matMul(tf.tensor3d(q, [H, T, D]), tf.tensor3d(k, [H, T, D]), false, true), 1 / Math.sqrt(D));
    const mask = tf.cast(tf.linalg.bandPart(tf.ones([T, T]), -1, 0), 'bool');
    return tf.matMul(tf.softmax(tf.where(mask, scores, tf.fill([H, T, T], -Infinity))), tf.tensor3d(v, [H, T, D]));
  });
  const data = await out.data();
  out.dispose();
  return data as Float32Array;
}

async function best(reps: number, f: () => Promise<unknown>): Promise<number> {
  let b = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await f();
    b = Math.min(b, performance.now() - t0);
  }
  return b;
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

export async function benchAttentionKernel(): Promise<string> {
  const quick = process.argv.includes('--quick');
  const ort = (await import('onnxruntime-node')) as Ort;
  const ctx = await ctxFor('wasm');
  const H = 8;
  const D = 64;
  const threadCounts = [1, 2];
  let peak = measureWasmPeak(1000); // the best of this and one measurement per round below
  const lines: string[] = [];
  const flashMs: Record<number, number> = {};
  const ort1Gflops: Record<number, number> = {};
  for (const T of quick ? [1024] : [4096, 16384]) {
    const { q, k, v } = syntheticQkv({ heads: H, seqLen: T, headDim: D, seed: 1, sinkStrength: 4, sinkTokens: 4, locality: 2 } as never);
    const [qd, kd, vd] = [q, k, v].map((t) => t.data as Float32Array) as [Float32Array, Float32Array, Float32Array];
    const flops = (4 * T * T * D * H) / 2;
    const gf = (ms: number) => flops / ms / 1e6;
    const reps = T > 8192 ? 2 : 4;
    const params = attention.params.parse({ variant: 'flash', causal: true });
    let ours: Float32Array | undefined;
    const row = (name: string, ms: number, threads: number, note = '') =>
      lines.push(`| ${T} | ${name} | ${threads} | ${ms.toFixed(0)} | ${gf(ms).toFixed(1)} | ${((100 * gf(ms)) / (peak * threads)).toFixed(0)}% | ${note} |`);
    // Interleaved: one run of each of ours × threads and ORT × threads per round, best of the rounds,
    // so load from other processes falls on all of them alike.
    const sessions = await Promise.all(threadCounts.map((t) => ortRunner(ort, H, T, D, t, qd, kd, vd)));
    const oursMs: Record<number, number> = {};
    const kernelMs: Record<number, number> = {};
    const ortMs: Record<number, number> = {};
    let ortOut: Float32Array | undefined;
    for (let rep = 0; rep < reps; rep++) {
      peak = Math.max(peak, measureWasmPeak(300));
      for (const threads of threadCounts) {
        log(`T=${T} round ${rep + 1}: ours, ${threads} thread(s)…`);
        process.env.CTXLAB_WASM_THREADS = String(threads);
        resetKernelStats();
        const t0 = performance.now();
        ours = ((await attention.run(ctx, { q, k, v } as never, params)) as { out: Tensor }).out.data as Float32Array;
        oursMs[threads] = Math.min(oursMs[threads] ?? Infinity, performance.now() - t0);
        kernelMs[threads] = Math.min(kernelMs[threads] ?? Infinity, kernelStats.kernelMs);
      }
      for (const [i, threads] of threadCounts.entries()) {
        log(`T=${T} round ${rep + 1}: ORT GroupQueryAttention, ${threads} thread(s)…`);
        const t0 = performance.now();
        ortOut = await sessions[i]!.run();
        ortMs[threads] = Math.min(ortMs[threads] ?? Infinity, performance.now() - t0);
      }
    }
    await Promise.all(sessions.map((x) => x.release()));
    const err = maxDiff(toBsnh(ours!, H, T, D), ortOut!);
    for (const threads of threadCounts)
      row('fused wasm kernel (ours)', oursMs[threads]!, threads, `kernel alone ${kernelMs[threads]!.toFixed(0)} ms (${gf(kernelMs[threads]!).toFixed(1)} GFLOP/s); the rest lays out Q, Kᵀ tiles, V`);
    for (const threads of threadCounts) row('onnxruntime-node GroupQueryAttention', ortMs[threads]!, threads, `max |Δ| vs ours ${err.toExponential(1)}`);
    flashMs[T] = oursMs[2]!;
    if (T <= 4096) {
      log(`T=${T}: tfjs-wasm compositions…`);
      const tiled = await best(1, async () => attention.run({ ...ctx, backend: 'cpu' }, { q, k, v } as never, params));
      row('tfjs-wasm tiled flash (the previous wasm path)', tiled, 1);
      const comp = await best(1, () => composed(ctx, qd, kd, vd, H, T, D));
      row('tfjs-wasm composed (materialises H×T×T)', comp, 1);
    }
    ort1Gflops[T] = gf(ortMs[1]!);
    const ortBest = Math.min(...Object.values(ortMs));
    lines.push(
      `| ${T} | **ratios** | | | | | ours at 2 threads vs ORT's best: ${(ortBest / oursMs[2]!).toFixed(2)}× as fast (target ≥ 1); 1 thread vs 1 thread: ${(ortMs[1]! / oursMs[1]!).toFixed(2)}× (target ≥ 0.6) |`,
    );
  }

  // Every exact variant on the kernel at 2 threads: time per computed 64×64 tile against flash's.
  process.env.CTXLAB_WASM_THREADS = '2';
  const variantRows: string[] = [];
  const T = quick ? 1024 : 4096;
  const ins = syntheticQkv({ heads: H, seqLen: T, headDim: D, seed: 2, sinkStrength: 4, sinkTokens: 4, locality: 2 } as never);
  const alibi = { kind: 'bias', terms: [{ type: 'alibi', slopes: Array.from({ length: H }, (_, h) => 2 ** (-8 * (h + 1) / H)) }] };
  const [flash, ...rest] = EXACT_VARIANTS;
  const cases: [string, Record<string, unknown>, unknown?][] = [flash!, ['flash + ALiBi bias', { variant: 'flash' }, alibi], ...rest];
  let flashPerTile = 0;
  for (const [name, p, bias] of cases) {
    log(`variant ${name}…`);
    const params = attention.params.parse({ ...p, causal: true });
    let tiles = 0;
    // Best of 7: these runs are tens of ms, and a scheduler slice lost to another process is as long.
    const ms = await best(7, async () => {
      resetKernelStats();
      await attention.run(ctx, { ...ins, bias } as never, params);
      tiles = kernelStats.tilesComputed;
    });
    const perTile = (1000 * ms) / tiles;
    if (name === 'flash') flashPerTile = perTile;
    variantRows.push(`| ${name} | ${ms.toFixed(0)} | ${tiles} | ${perTile.toFixed(1)} | ${(perTile / flashPerTile).toFixed(2)}× |`);
  }
  // Sliding window at 16K: run time against flash × the fraction of tiles it computes.
  let scaling = '';
  if (!quick) {
    const T16 = 16384;
    const big = syntheticQkv({ heads: H, seqLen: T16, headDim: D, seed: 3 } as never);
    let tiles = 0;
    const sw = await best(2, async () => {
      resetKernelStats();
      await attention.run(ctx, big as never, attention.params.parse({ variant: 'sliding-window', window: 1024, causal: true }));
      tiles = kernelStats.tilesComputed;
    });
    // Flash computes the causal half of the 64×64 tile grid, diagonal included.
    const frac = tiles / ((H * (T16 / 64) * (T16 / 64 + 1)) / 2);
    scaling = `Sliding window 1024 at T = 16384 (2 threads): ${sw.toFixed(0)} ms, computing ${(100 * frac).toFixed(1)}% of flash's tiles; flash × that fraction = ${(flashMs[T16]! * frac).toFixed(0)} ms → ${(sw / (flashMs[T16]! * frac)).toFixed(2)}× (target ≤ 1.3×).`;
  }
  await closeKernelPool();
  delete process.env.CTXLAB_WASM_THREADS;

  // The ceiling: one thread's wasm-SIMD peak against ORT's single-thread GFLOP/s at each T (a kernel
  // at 100% of that peak would still be this far from ORT).
  const ceilings = Object.entries(ort1Gflops).map(([T, g]) => ({ T, g, c: peak / g }));
  const above = ceilings.filter((x) => x.c < 1);
  const ceilingText = above.length
    ? `**Why the ORT targets are out of reach for 128-bit wasm SIMD:** ORT's GQA runs native AVX2/FMA code (256-bit vectors, fused multiply-add); on one thread it ran at ${above.map((x) => `${x.g.toFixed(0)} GFLOP/s at T = ${x.T}`).join(' and ')}, above the ${peak.toFixed(1)} GFLOP/s that one thread of wasm SIMD reaches at all (f32x4: 4 lanes, multiply and add separate — relaxed SIMD's fused madd is not enabled in Node 20's V8). A wasm kernel at 100% of that peak would run at ${above.map((x) => `${x.c.toFixed(2)}×`).join(' and ')} ORT's single-thread speed: ≥ 1× at equal threads is out of reach (it needs ${above.map((x) => `${(1 / x.c).toFixed(1)}×`).join(' and ')} the wasm-SIMD peak), and ≥ 0.6× single-threaded needs ${above.map((x) => `${Math.round((60 / x.c))}%`).join(' and ')} of that peak per thread.`
    : `ORT's single-thread figures in this run (${ceilings.map((x) => `${x.g.toFixed(0)} GFLOP/s at T = ${x.T}`).join(', ')}) are below the ${peak.toFixed(1)} GFLOP/s wasm-SIMD peak measured in the quietest moment of the run: the load distorted them, and this run cannot show how far ORT's native code sits above the wasm-SIMD ceiling.`;

  return [
    '## Attention kernel: fused wasm SIMD against ONNX Runtime',
    '',
    `Machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores (load average ${loadavg()[0]!.toFixed(1)} at the end: other processes share them), Node ${process.version}; measured wasm-SIMD f32 multiply-add peak ${peak.toFixed(1)} GFLOP/s per thread`,
    '(`peak` in src/kernels/wasm/attention.c: 12 independent f32x4 mul+add chains). Command: `npx tsx bench/run.ts --only attention-kernel`.',
    `Causal attention, H = ${H}, D = ${D}, f32, synthetic workload; best of 4 rounds at T = 4096 and 2 at 16384, ours and ORT interleaved within each round; FLOPs 4·T²·D·H/2. "% peak" is per thread used.`,
    'Ours runs the `attention` node (flash variant) on backend `wasm`, including the copy of Q/K/V into the kernel\'s memory;',
    'ORT runs a one-node com.microsoft `GroupQueryAttention` model (built by the script) on the CPU EP with intraOpNumThreads = threads.',
    '',
    '| T | implementation | threads | ms | GFLOP/s | % peak | note |',
    '| ---: | --- | ---: | ---: | ---: | ---: | --- |',
    ...lines,
    '',
    `Every exact variant on the kernel, T = ${T}, H = ${H}, causal, 2 threads: time per computed 64×64 tile (all heads) against flash's, best of 7 runs each (target ≤ 1.3×).`,
    '',
    '| variant | ms | tiles | µs/tile | vs flash |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...variantRows,
    '',
    'Dilated is the variant at the edge of the target: each call gathers the strided rows of every dilation rate and merges',
    "the segments' parts in the kernel, a fixed cost that is a large share of a ~60 ms call at this T; on this shared",
    'machine its ratio moved between 0.9× and 2.5× across runs; on a quiet machine it was 1.2–1.5×, the other variants within 1.3×.',
    '',
    scaling,
    '',
    ceilingText,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchAttentionKernel());
