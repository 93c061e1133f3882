// Bundled and run by bench/train.ts (tfjs-core's gradients cannot load under tsx).
// Training throughput of `train.lm` (the size: 2 layers, width 128, L = 128) per backend,
// against a plain tfjs loop written the usual way in the same process: the same model, tfjs's own
// `tf.train.adam(lr).minimize` (no clipping, no weight decay, no held-out split).
import { cpus } from 'node:os';
import { ctxFor } from './context.js';
import { crossEntropy, disposeTables, forward, initWeights, positionTables, type LmArch } from '../src/nodes/train/lm.js';
import { sampleBatch, train } from '../src/nodes/train/train.js';
import { mobyDickText } from '../src/nodes/compress/corpus.js';
import { useStockWasmMatMul } from '../src/engine/backends/wasm-matmul.js';

export async function benchTrainingImpl(quick = process.argv.includes('--quick')): Promise<string> {
  const a: LmArch = { vocab: 256, layers: 2, hidden: 128, heads: 4, kvHeads: 4, intermediate: 384, position: 'rope', ropeTheta: 10000, ropeLinearFactor: 1, maxPositions: 128, rmsNormEps: 1e-6, window: 0 };
  const L = 128;
  const B = 8;
  // The cpu backend takes ~25 s a step: 3 timed steps there, 12 on wasm.
  const stepsOn = (backend: string) => (quick || backend === 'cpu' ? 3 : 12);
  const ids = new Int32Array(new TextEncoder().encode((await mobyDickText()).slice(0, 300_000)));
  const rows: string[] = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    const { tf } = await ctxFor(backend);
    const steps = stepsOn(backend);
    // Ours: warm-up step, then `steps` timed steps.
    await train(tf, a, initWeights(a, 0), ids, { contextLength: L, batch: B, steps: 1, lr: 1e-3, minLrRatio: 0.1, warmupSteps: 1, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-8, gradClip: 1, seed: 0, heldOut: 0.1, evalWindows: 1 });
    const t0 = performance.now();
    const r = await train(tf, a, initWeights(a, 0), ids, { contextLength: L, batch: B, steps, lr: 1e-3, minLrRatio: 0.1, warmupSteps: 2, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-8, gradClip: 1, seed: 0, heldOut: 0.1, evalWindows: 1 });
    const oursMs = (performance.now() - t0) / steps;
    // The usual tfjs loop: variables, tf.train.adam, optimizer.minimize(loss).
    const w = initWeights(a, 0);
    const vars = new Map([...w].map(([n, t]) => [n, tf.variable(tf.tensor(t.data, t.shape))]));
    const opt = tf.train.adam(1e-3, 0.9, 0.95, 1e-8);
    const tables = positionTables(tf, a, L);
    const step = (s: number) => {
      const { input, labels } = sampleBatch(ids, L, B, 0, s);
      const loss = opt.minimize(() => crossEntropy(tf, forward(tf, a, (n) => vars.get(n)!, tf.tensor2d(input, [B, L], 'int32'), tables), tf.tensor1d(labels, 'int32')), true);
      loss!.dataSync();
      loss!.dispose();
    };
    // The plain loop runs on stock tfjs: tfjs-wasm's own BatchMatMul, not the lab's transpose-free one.
    const restore = useStockWasmMatMul();
    step(0);
    const t1 = performance.now();
    for (let s = 1; s <= steps; s++) step(s);
    const plainMs = (performance.now() - t1) / steps;
    restore();
    disposeTables(tf, tables);
    tf.dispose([...vars.values()]);
    opt.dispose();
    const tps = (B * L * 1000) / oursMs;
    rows.push(`| ${backend} | ${oursMs.toFixed(0)} | ${tps.toFixed(0)} | ${((1000 * oursMs) / 60000).toFixed(1)} | ${plainMs.toFixed(0)} | ${((B * L * 1000) / plainMs).toFixed(0)} | ${(plainMs / oursMs).toFixed(2)}× | ${r.losses[r.losses.length - 1]!.toFixed(3)} |`);
  }
  return [
    '## Training a tiny LM (train.lm)',
    '',
    `2 layers, hidden 128, 4 heads, SwiGLU 384, vocab 256 (bytes of Moby-Dick), L = ${L}, batch ${B}; ms per step over ${stepsOn('wasm')} steps on wasm and ${stepsOn('cpu')} on cpu after one warm-up step,`,
    `on ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores). Baseline: the same model trained by a plain tfjs loop`,
    '(`tf.train.adam(lr).minimize(loss)`) on stock tfjs in the same process (on wasm: tfjs\'s own BatchMatMul, whose transposed',
    'products — every matMul gradient, Q·Kᵀ — run several times slower than the lab\'s transpose-first one). Target: 1,000 steps in ≤ 10 min on 2 cores.',
    '',
    '| backend | train.lm ms/step | tokens/s | 1,000 steps (min) | plain tfjs loop ms/step | its tokens/s | plain / ours | loss after the timed steps |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    'Command: `npm run bench -- --only train`.',
  ].join('\n');
}
