// The examples every node with a plain-TS reference declares for the parity test (parity.test.ts):
// small inputs for the node and its params, per variant for variant nodes. That test runs each on
// every backend against the reference and fails for a node type or a variant without an example, so
// a new variant is checked by adding one line here. This is the one list: other tests that loop over
// a family's variants take theirs from here (examplesOf).
import type { BackendName } from '../engine/node.js';
import { f32, i32, type Tensor } from '../engine/tensor.js';
import type { Value } from '../engine/values.js';
import { fillGaussian } from './common/random.js';

export interface NodeExamples {
  /** The node's inputs (fresh each call: some kernels may keep what they are given). */
  inputs(): Record<string, Value | undefined>;
  /** Params of a node without variants, each one run (defaults fill the rest). */
  params?: Record<string, unknown>[];
  /** For a variant node: params per variant name, each one run. */
  variants?: Record<string, Record<string, unknown>[]>;
  tol: { atol: number; rtol?: number };
  /** Backends beyond cpu and wasm's default, or fewer (a node whose kernel is only plain TS). */
  backends?: BackendName[];
}

const gauss = (shape: number[], seed: number, scale = 1): Tensor =>
  f32(shape, fillGaussian(new Float32Array(shape.reduce((a, b) => a * b, 1)), seed, ...shape).map((x) => x * scale));
const uniform = (shape: number[], seed: number, lo: number, hi: number): Tensor =>
  f32(shape, gauss(shape, seed).data.map((x) => lo + (hi - lo) * (0.5 + Math.atan(x) / Math.PI)));

const T = 40;
const byName = (list: Record<string, unknown>[]) => {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const p of list) (out[p.variant as string] ??= []).push(p);
  return out;
};

export const PARITY_EXAMPLES: Record<string, NodeExamples> = {
  attention: {
    inputs: () => ({ q: gauss([4, T, 8], 1), k: gauss([2, T, 8], 2), v: gauss([2, T, 6], 3) }),
    variants: byName([
      { variant: 'naive' },
      { variant: 'flash', blockSize: 16 },
      { variant: 'flash-decoding', numSplits: 3 },
      { variant: 'sliding-window', window: 7 },
      { variant: 'longformer', window: 6, globalTokens: 3 },
      { variant: 'dilated', segmentLengths: [8, 16, 40], dilationRates: [1, 2, 4] },
      { variant: 'bigbird', blockSize: 8, seed: 3 },
      { variant: 'linformer', projectedLength: 8 },
      { variant: 'linear' },
      { variant: 'cosformer' },
      { variant: 'relu' },
      { variant: 'sima' },
      { variant: 'soft', landmarks: 8 },
      { variant: 'paged', blockSize: 4 },
      { variant: 'star', causal: false },
      { variant: 'ring', devices: 3 },
      { variant: 'dilated-distributed', devices: 2, segmentLengths: [10, 40], dilationRates: [1, 2] },
    ]),
    tol: { atol: 2e-5, rtol: 1e-4 },
  },
  position: {
    inputs: () => ({ q: gauss([4, 33, 16], 11), k: gauss([2, 33, 16], 12), positions: i32([33], Array.from({ length: 33 }, (_, t) => 5000 + 7 * t)) }),
    // Head dim 16 (longrope's lists have D/2 = 8 entries), scaled so that each rule changes something
    // at these positions. The position tests run the same list (examplesOf('position')).
    variants: byName([
      { variant: 'rope' },
      { variant: 'linear', factor: 4 },
      { variant: 'ntk', factor: 4 },
      { variant: 'dynamic', factor: 2, maxPositionEmbeddings: 64 },
      { variant: 'yarn', factor: 8, originalMaxPositionEmbeddings: 256 },
      { variant: 'longrope', shortFactor: Array(8).fill(1.5), longFactor: [1, 2, 3, 4, 5, 6, 7, 8], originalMaxPositionEmbeddings: 1024 },
      { variant: 'llama3', factor: 8, originalMaxPositionEmbeddings: 64 },
      { variant: 'xpos', scaleBase: 4096 },
      { variant: 'sinusoidal' },
      { variant: 'none' },
      { variant: 'alibi' },
    ]),
    tol: { atol: 2e-5, rtol: 1e-5 },
  },
  quantize: {
    inputs: () => ({ in: gauss([8, 64], 21) }),
    variants: byName([
      { variant: 'absmax-int8' },
      { variant: 'group', bits: 4, groupSize: 32, axis: 1 },
      { variant: 'nf4', blockSize: 64 },
      { variant: 'fp16' },
      { variant: 'bf16' },
    ]),
    tol: { atol: 0 },
  },
  'kv-cache': {
    inputs: () => ({ q: gauss([4, T, 8], 5), k: gauss([2, T, 8], 6), v: gauss([2, T, 8], 7) }),
    variants: byName([
      { variant: 'contiguous', maxTokens: 64 },
      { variant: 'paged', blockSize: 8, sequences: 2, sharedPrefixTokens: 16, prefillTokens: 20 },
      { variant: 'streaming', sinkTokens: 2, recentTokens: 10 },
      { variant: 'h2o', heavyTokens: 4, recentTokens: 6, prefillTokens: 8 },
      { variant: 'kivi', groupSize: 4, residualTokens: 8 },
    ]),
    tol: { atol: 0 },
  },
  segment: {
    inputs: () => ({}),
    variants: byName([
      { variant: 'fixed', windowSize: 4, overlap: 1, length: 10 },
      { variant: 'pcw', contextWindowSize: 4, taskTokens: 3, length: 11 },
      { variant: 'streaming', sinkTokens: 1, recentTokens: 2, length: 5 },
      { variant: 'structured', groups: 2, groupLengths: [3, 2], taskTokens: 4, length: 9 },
    ]),
    tol: { atol: 0 },
  },
  'source.synthetic-qkv': { inputs: () => ({}), params: [{ heads: 4, kvHeads: 2, seqLen: 24, headDim: 8, seed: 3 }], tol: { atol: 1e-6, rtol: 1e-6 } },
  compare: { inputs: () => ({ a: gauss([6, 5], 31), b: gauss([6, 5], 32) }), params: [{}], tol: { atol: 1e-6, rtol: 1e-6 } },
  embedding: {
    inputs: () => ({ tokens: { kind: 'tokens', ids: Int32Array.of(5, 9, 5, 200), offsets: new Int32Array(8), text: '', encoding: 'bytes' } }),
    params: [{ dim: 16, seed: 3 }],
    tol: { atol: 0 },
  },
  'qkv-projection': { inputs: () => ({ x: gauss([37, 24], 1) }), params: [{ heads: 4, kvHeads: 2, headDim: 8, seed: 5 }], tol: { atol: 2e-5, rtol: 1e-5 } },
  'ssm.selective-scan': {
    inputs: () => ({
      u: gauss([8, 37], 1), delta: gauss([8, 37], 2, 0.5), A: f32([8, 4], uniform([8, 4], 3, 0.5, 4).data.map((x) => -x)),
      B: gauss([4, 37], 4), C: gauss([4, 37], 5), D: gauss([8], 6), z: gauss([8, 37], 7), deltaBias: uniform([8], 8, -4, -1),
    }),
    params: [{ deltaSoftplus: true, chunkSize: 16 }],
    tol: { atol: 1e-5, rtol: 1e-5 },
  },
  'ssm.mamba-block': { inputs: () => ({ x: gauss([37, 8], 5) }), params: [{ dModel: 8, dState: 4, dConv: 3, expand: 2, seed: 3, chunkSize: 8 }], tol: { atol: 1e-5, rtol: 1e-4 } },
  'ssm.rwkv': {
    inputs: () => ({ k: gauss([40, 6], 1), v: gauss([40, 6], 2), timeDecay: gauss([6], 3, 0.5), timeFirst: gauss([6], 4, 0.5) }),
    params: [{}],
    tol: { atol: 1e-5, rtol: 1e-5 },
  },
  'ssm.rwkv-block': { inputs: () => ({ x: gauss([33, 16], 1) }), params: [{ hiddenSize: 16, layerId: 1, numHiddenLayers: 4, seed: 2 }], tol: { atol: 2e-4, rtol: 1e-4 } },
  'ssm.aft': {
    inputs: () => ({ q: gauss([45, 6], 1), k: gauss([45, 6], 2, 2), v: gauss([45, 6], 3), w: gauss([45, 45], 4, 0.5) }),
    params: [{ mode: 'full' }, { mode: 'simple' }, { mode: 'local', window: 7, blockSize: 16 }],
    tol: { atol: 1e-5, rtol: 1e-4 },
  },
  'block.bpt': { inputs: () => ({ x: gauss([1, 20, 8], 2) }), params: [{ hiddenSize: 8, heads: 2, blockSize: 7, kvBlockSize: 8 }], tol: { atol: 2e-5, rtol: 1e-5 } },
  'block.low-rank-attention': { inputs: () => ({ x: gauss([21, 12], 1) }), params: [{ heads: 2, headDim: 4, rank: 3, seed: 4 }], tol: { atol: 2e-5, rtol: 1e-4 } },
};

/** Every params example of a node type, across its variants (for tests that loop over them too). */
export function examplesOf(type: string): Record<string, unknown>[] {
  const ex = PARITY_EXAMPLES[type];
  if (!ex) throw new Error(`no parity examples for "${type}" in src/nodes/parity-examples.ts`);
  return ex.variants ? Object.values(ex.variants).flat() : (ex.params ?? []);
}
