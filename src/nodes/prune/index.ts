// prune: model compression by zeroing weights (the survey's §6). On a `model` it prunes every linear
// weight of the decoder layers (q/k/v/o, gate/up/down; embeddings, norms and the head stay dense, as
// in the Wanda paper); on a `weight` tensor [out, in] that one matrix. The pruned model is a new
// WeightSource over the old one that serves the pruned tensors in their place.
import { z } from 'zod';
import { defineNode, ShapeError, type AnyNodeDef } from '../../engine/node.js';
import { f32, type Tensor } from '../../engine/tensor.js';
import { metrics, type MetricValue, type ModelValue, type WeightSource } from '../../engine/values.js';
import { hashBytes, hashString } from '../../engine/run/hash.js';
import { forwardArch } from '../model/llama.js';
import { calibrate, LINEARS, type LayerTensors } from './calibrate.js';
import { pruneMatrix, sparseBytes, type PruneStructure, type SparseBytes } from './masks.js';
import type { FamilyDef } from '../../engine/registry.js';

const params = z
  .object({
    method: z.enum(['magnitude', 'wanda']).default('magnitude').describe('magnitude: score |W|, compared across the matrix; wanda: |W|·‖X_j‖₂, compared within each output row'),
    pattern: z.enum(['unstructured', 'n:m']).default('unstructured').describe('unstructured (to `sparsity`) or N:M (keep n of every m consecutive inputs; 2:4 for sparse tensor cores)'),
    sparsity: z.number().min(0).max(1).default(0.5).describe('fraction of weights set to zero (unstructured)'),
    n: z.number().int().min(1).default(2).describe('N:M: weights kept per group'),
    m: z.number().int().min(1).default(4).describe('N:M: group size along the input dim'),
    calibrationLength: z.number().int().min(2).max(1 << 16).default(128).describe('Wanda on a model: tokens per calibration window'),
    calibrationWindows: z.number().int().min(1).max(1024).default(4).describe('Wanda on a model: most calibration windows (the first ones)'),
  })
  .refine((p) => p.pattern !== 'n:m' || p.n <= p.m, { message: 'n must be at most m', path: ['n'] });
type P = z.infer<typeof params>;

const structureOf = (p: P): PruneStructure => (p.pattern === 'n:m' ? { kind: 'nm', n: p.n, m: p.m } : { kind: 'unstructured', sparsity: p.sparsity });

/** A WeightSource serving `pruned` tensors in place of the base's. */
export function prunedWeights(base: WeightSource, pruned: Map<string, Tensor>, tag: string): WeightSource {
  let id: string | undefined;
  return {
    names: () => base.names(),
    info: (name) => (pruned.has(name) ? { dtype: 'F32', shape: pruned.get(name)!.shape } : base.info(name)),
    read: async (name) => pruned.get(name) ?? base.read(name),
    residentBytes: () => base.residentBytes() + [...pruned.values()].reduce((n, t) => n + t.data.byteLength, 0),
    // The result cache's key: the base's identity and the pruned tensors' bytes.
    fingerprint: () =>
      (id ??= hashString(
        JSON.stringify([
          base.fingerprint?.() ?? base.names().map((n) => [n, base.info(n)]),
          tag,
          [...pruned].map(([n, t]) => [n, hashBytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))]),
        ]),
      )),
  };
}

const BYTE_KEYS = ['denseF32', 'denseBf16', 'csrF32', 'csrBf16', 'semi24Bf16'] as const;

function summarise(p: P, mats: [string, Float32Array, number, number][]): Record<string, MetricValue> {
  const per: Record<string, MetricValue> = {};
  const total: Record<string, number | null> = Object.fromEntries(BYTE_KEYS.map((k) => [k, 0]));
  let zeros = 0;
  let count = 0;
  for (const [name, w, rows, cols] of mats) {
    const b: SparseBytes = sparseBytes(w, rows, cols);
    zeros += rows * cols - b.nonzeros;
    count += rows * cols;
    per[name] = 1 - b.nonzeros / (rows * cols);
    for (const k of BYTE_KEYS) total[k] = total[k] === null || b[k] === null ? null : total[k]! + b[k]!;
  }
  return {
    method: p.method,
    pattern: p.pattern === 'n:m' ? `${p.n}:${p.m}` : 'unstructured',
    sparsity: count ? zeros / count : 0,
    matrices: per,
    params: count,
    nonzeros: count - zeros,
    bytes: total,
  };
}

export const prune = defineNode({
  type: 'prune',
  family: 'prune',
  title: 'Prune',
  summary:
    'Zeroes weights of a model\'s decoder linears (q/k/v/o, gate/up/down) or of one weight tensor: magnitude or Wanda scores, unstructured to a target sparsity or N:M (2:4). Reports the sparsity reached (overall and per matrix) and the bytes dense, CSR and 2:4 semi-structured formats need.',
  formula:
    'magnitude: S_ij = |W_ij|, prune the ⌊s·out·in⌋ lowest of the matrix; Wanda: S_ij = |W_ij|·‖X_j‖₂ (X: the layer input over the calibration tokens), prune the ⌊s·in⌋ lowest of each output row i; N:M: in every M consecutive inputs of a row keep the N highest S. CSR bytes = nnz·(value + 4) + 4·(out + 1); 2:4 bytes = out·in/2·2 + out·in/8',
  references: [
    { title: 'A Simple and Effective Pruning Approach for Large Language Models (Wanda)', year: 2023 },
    { title: 'Learning both Weights and Connections for Efficient Neural Networks', year: 2015 },
    { title: 'Accelerating Sparse Deep Neural Networks (NVIDIA 2:4 structured sparsity)', year: 2021 },
    { title: 'Beyond the Limits: A Survey of Techniques to Extend the Context Length in Large Language Models', year: 2024 },
  ],
  params,
  inputs: {
    model: { kind: 'model', optional: true, doc: 'a Llama-family model with weights: every decoder linear is pruned' },
    weight: { kind: 'tensor', optional: true, dims: ['out', 'in'], doc: 'or one weight matrix [out, in] (HF layout)' },
    tokens: { kind: 'tokens', optional: true, dims: ['T'], doc: 'Wanda on a model: calibration tokens' },
    norms: { kind: 'tensor', optional: true, dims: ['in'], doc: 'Wanda on a weight: the input norms ‖X_j‖₂ [in]' },
  },
  outputs: {
    model: { kind: 'model', doc: 'the pruned model (when a model came in)' },
    weight: { kind: 'tensor', dims: ['out', 'in'], doc: 'the pruned matrix (when a weight came in)' },
    metrics: { kind: 'metrics', doc: 'sparsity (overall), matrices (sparsity per matrix), params, nonzeros, bytes {denseF32, denseBf16, csrF32, csrBf16, semi24Bf16}' },
  },
  // The accuracy overlay compares a pruned matrix with the dense one that came in. A pruned model
  // has no pair: model values have no element-wise error; what pruning costs a model shows on the
  // logits of a model.forward fed by it, beside one fed by the dense model.
  exact: () => ({ kind: 'input', pairs: [{ output: 'weight', input: 'weight' }] }),
  infer(ins, p) {
    if (!!ins.model === !!ins.weight) throw new ShapeError('model', 'connect either "model" or "weight" (exactly one)');
    if (ins.weight) {
      const s = ins.weight.shape;
      if (ins.weight.dtype && ins.weight.dtype !== 'float32') throw new ShapeError('weight', `expects float32, got ${ins.weight.dtype}`);
      if (s && s.length !== 2) throw new ShapeError('weight', `expects a matrix [out, in], got [${s.join(', ')}]`);
      if (p.pattern === 'n:m' && s && typeof s[1] === 'number' && s[1] % p.m !== 0) throw new ShapeError('weight', `N:M needs the input dim (${s[1]}) to be a multiple of m = ${p.m}`);
      if (p.method === 'wanda') {
        if (!ins.norms) throw new ShapeError('norms', 'Wanda on a weight needs its input norms ‖X_j‖₂ [in] on "norms"');
        const n = ins.norms.shape;
        if (n && s && n.length === 1 && n[0] !== null && s[1] !== null && n[0] !== s[1]) throw new ShapeError('norms', `has ${n[0]} entries; the weight has ${s[1]} input columns`);
      }
    }
    if (ins.model && p.method === 'wanda' && !ins.tokens) throw new ShapeError('tokens', 'Wanda on a model needs calibration tokens on "tokens"');
    return {
      ...(ins.model ? { model: { kind: 'model' as const, bytes: ins.model.bytes } } : {}),
      ...(ins.weight ? { weight: ins.weight } : {}),
      metrics: { kind: 'metrics', keys: ['method', 'pattern', 'sparsity', 'matrices', 'params', 'nonzeros', 'bytes'] },
    };
  },
  cost: (ins, p) => ({
    flops: 0,
    workspaceBytes: ins.model?.bytes ?? 0,
    note: ins.model && p.method === 'wanda' ? `calibration forward over ≤ ${p.calibrationWindows}×${p.calibrationLength} tokens, twice per layer` : 'a sort per matrix',
  }),
  async run(ctx, ins, p) {
    const structure = structureOf(p);
    if (ins.weight) {
      if (ins.model) throw new ShapeError('model', 'connect either "model" or "weight" (exactly one)');
      const w = ins.weight;
      if (w.shape.length !== 2) throw new ShapeError('weight', `expects a matrix [out, in], got [${w.shape.join(', ')}]`);
      const [rows, cols] = w.shape as [number, number];
      let norms: ArrayLike<number> | undefined;
      if (p.method === 'wanda') {
        if (!ins.norms) throw new ShapeError('norms', 'Wanda on a weight needs its input norms ‖X_j‖₂ [in] on "norms"');
        if (ins.norms.data.length !== cols) throw new ShapeError('norms', `has ${ins.norms.data.length} entries; the weight has ${cols} input columns`);
        norms = ins.norms.data as Float32Array;
      }
      if (p.pattern === 'n:m' && cols % p.m !== 0) throw new ShapeError('weight', `N:M needs the input dim (${cols}) to be a multiple of m = ${p.m}`);
      const out = pruneMatrix(Float32Array.from(w.data as Float32Array), rows, cols, { method: p.method, structure, norms });
      return { weight: f32([rows, cols], out, w.dims), metrics: metrics(summarise(p, [['weight', out, rows, cols]])) };
    }
    const model = ins.model;
    if (!model) throw new ShapeError('model', 'connect either "model" or "weight" (exactly one)');
    const arch = forwardArch(model);
    if (!model.weights) throw new ShapeError('model', `the model has no weights (${model.source ?? 'a config only'}): connect model.load or train.lm`);
    if (p.pattern === 'n:m')
      for (const d of [arch.hiddenSize, arch.numHeads * arch.headDim, arch.intermediateSize])
        if (d % p.m !== 0) throw new ShapeError('model', `N:M needs every input dim to be a multiple of m = ${p.m}; the model has one of ${d}`);
    const pruned = new Map<string, Tensor>();
    const mats: [string, Float32Array, number, number][] = [];
    const pruneLayer = (layer: number, weights: LayerTensors, norms?: Record<string, Float64Array>): LayerTensors => {
      const out: LayerTensors = {};
      for (const lin of LINEARS) {
        const name = `model.layers.${layer}.${lin}.weight`;
        const { shape, data } = weights[name]!;
        const [rows, cols] = shape as [number, number];
        const w = pruneMatrix(data, rows, cols, { method: p.method, structure, norms: norms?.[lin] });
        out[name] = { shape, data: w };
        pruned.set(name, f32(shape, w));
        mats.push([name, w, rows, cols]);
      }
      return out;
    };
    if (p.method === 'wanda') {
      const ids = ins.tokens?.ids;
      if (!ids) throw new ShapeError('tokens', 'Wanda on a model needs calibration tokens on "tokens"');
      const L = Math.min(p.calibrationLength, ids.length);
      const windows: Int32Array[] = [];
      for (let s = 0; s + L <= ids.length && windows.length < p.calibrationWindows; s += L) windows.push(ids.subarray(s, s + L));
      for (const id of ids.subarray(0, windows.length * L))
        if (!(id >= 0 && id < arch.vocabSize)) throw new ShapeError('tokens', `token id ${id} is outside the model's vocabulary [0, ${arch.vocabSize})`);
      await calibrate(ctx, model, windows, (l, norms, weights) => pruneLayer(l, weights, norms));
    } else {
      for (let l = 0; l < arch.numLayers; l++) {
        const weights: LayerTensors = {};
        for (const lin of LINEARS) {
          const name = `model.layers.${l}.${lin}.weight`;
          const t = await model.weights.read(name);
          weights[name] = { shape: t.shape, data: t.data as Float32Array };
        }
        pruneLayer(l, weights);
        ctx.checkCancelled();
        ctx.progress((l + 1) / arch.numLayers);
      }
    }
    const m = summarise(p, mats);
    const tag = `${p.method} ${m.pattern}${p.pattern === 'unstructured' ? ` ${p.sparsity}` : ''}`;
    const out: ModelValue = { kind: 'model', config: model.config, weights: prunedWeights(model.weights, pruned, tag), source: `${model.source ?? 'model'} (pruned: ${tag})` };
    return { model: out, metrics: metrics(m) };
  },
});

export const nodes: AnyNodeDef[] = [prune];

/** The family's palette and canvas data: its title and colour. */
export const familyDef: FamilyDef = { id: 'prune', title: 'Pruning', color: '#b45309' };
