// The `position` node: one type, one variant per technique (one file each, listed below). Every
// variant yields a RotaryPlan (frequencies, attention factor, xPos decay); what it does with it is
// its `effect`: rotate q and k, add the sinusoidal table, or pass them through (ALiBi adds a bias).
// Decoding convention (HF, and the attention kernels): k holds Tk tokens at positions n_0..n_{Tk−1};
// q holds the newest Tq ≤ Tk of them, so query row r sits at n_{Tk−Tq+r}.
import { variantFamily } from '../../engine/variants.js';
import type * as tfc from '@tensorflow/tfjs-core';
import { defineNode, ShapeError, type AnyNodeDef, type Cost, type RunContext } from '../../engine/node.js';
import { bindDims } from '../../engine/shapes.js';
import { f32, squeezeBatch, type Tensor } from '../../engine/tensor.js';
import { metrics, tensorShape, type BiasValue, type MetricValue, type ModelValue, type PortShape } from '../../engine/values.js';
import { parseModelConfig, readModelConfig, type ModelArch } from '../model/config.js';
import { biasTerms } from '../common/bias.js';
import { alibi } from './alibi.js';
import { lengthOf, positionsOf, ropeInv, type PositionParams, type PositionVariant, type RotaryPlan } from './common.js';
import { dynamic } from './dynamic.js';
import { ropeFromConfig } from './from-config.js';
import { linear } from './linear.js';
import { llama3 } from './llama3.js';
import { longrope } from './longrope.js';
import { none } from './none.js';
import { ntk } from './ntk.js';
import { rope } from './rope.js';
import { addSinusoidReference, rotaryTables, rotateReference, rotateTf, sinusoidTable } from './rotate.js';
import { sinusoidal } from './sinusoidal.js';
import { xpos } from './xpos.js';
import { yarn } from './yarn.js';
import type { FamilyDef } from '../../engine/registry.js';
import { positionMetrics } from './metrics.js';

export const variants: PositionVariant[] = [none, sinusoidal, rope, linear, ntk, dynamic, yarn, longrope, llama3, alibi, xpos];

export type PositionNodeParams = PositionParams & Record<string, unknown>;
const family = variantFamily<PositionVariant, PositionNodeParams>(variants);
const { params } = family;

/** The variant module of parsed position params. */
export const positionVariantOf = family.of;

interface Dims {
  H: number | null;
  Hkv: number | null;
  Tq: number | null;
  Tk: number | null;
  D: number | null;
}

/** q has at most as many tokens as k: its rows are k's last Tq tokens. */
function checkTq(Tq: number | null, Tk: number | null): void {
  if (Tq !== null && Tk !== null && Tq > Tk)
    throw new ShapeError('q', `"q" has Tq = ${Tq} tokens but k has Tk = ${Tk}: the queries are the last Tq of k's tokens, so Tq ≤ Tk`);
}

function inferDims(ins: { q: PortShape; k: PortShape; positions?: PortShape; model?: PortShape }, p: PositionNodeParams): Dims {
  const env: Record<string, number | null> = {};
  const [H, Tq, D] = bindDims(env, 'q', ins.q, ['H', 'Tq', 'D'], { dtype: 'float32' });
  const [Hkv, Tk] = bindDims(env, 'k', ins.k, ['Hkv', 'Tk', 'D'], { dtype: 'float32' });
  if (ins.positions) bindDims(env, 'positions', ins.positions, ['Tk'], { dtype: 'int32' });
  const dims = { H: H ?? null, Hkv: Hkv ?? null, Tq: Tq ?? null, Tk: env.Tk ?? Tk ?? null, D: env.D ?? D ?? null };
  checkTq(dims.Tq, dims.Tk);
  // A connected model replaces the params when the node runs: nothing here to check them against.
  if (ins.model) return dims;
  const v = positionVariantOf(p);
  const d = dims.D;
  if (p.rotaryDims !== undefined && v.effect !== 'rotate') throw new Error(`rotaryDims applies to the rotary variants, not ${p.variant}`);
  if (d !== null) {
    if (v.effect !== 'none' && d % 2 !== 0) throw new ShapeError('q', `${p.variant} pairs the dims of q: head dim D must be even, got ${d}`);
    if (p.rotaryDims !== undefined && p.rotaryDims > d) throw new ShapeError('q', `rotaryDims = ${p.rotaryDims} exceeds q's head dim D = ${d}`);
    v.check?.(p, rotaryOf(p, d));
  }
  return dims;
}

/** Channels that rotate: the first rotaryDims of each head, or all D. */
const rotaryOf = (p: PositionNodeParams, D: number) => p.rotaryDims ?? D;

/**
 * The params a run uses: a model config (the `model` input, or the `fromConfig` file) replaces the
 * variant and its params by the config's rotary, HF semantics; q and k must then have its head dim.
 */
async function resolveParams(ctx: RunContext | undefined, model: ModelValue | undefined, p: PositionNodeParams) {
  let arch: ModelArch | undefined;
  if (model) arch = parseModelConfig(model.config, model.source ?? 'model');
  else if (p.fromConfig !== undefined) {
    if (!ctx) throw new Error('position: fromConfig needs the file, read when the node runs');
    arch = readModelConfig(await ctx.readFile(p.fromConfig), p.fromConfig).arch;
  }
  return arch ? configParams(arch, p) : { params: p, headDim: undefined };
}

function configParams(arch: ModelArch, p: PositionNodeParams): { params: PositionNodeParams; headDim: number } {
  const r = ropeFromConfig(arch, { layer: p.configLayer, positionOffset: p.positionOffset });
  const params = { ...r.params, ...(r.rotaryDims < r.headDim ? { rotaryDims: r.rotaryDims } : {}) } as PositionNodeParams;
  return { params: family.of(params).params.parse(params) as PositionNodeParams, headDim: r.headDim };
}

function checkHeadDim(D: number, headDim: number | undefined, source: string): void {
  if (headDim !== undefined && D !== headDim)
    throw new ShapeError('q', `q and k have head dim D = ${D} but ${source} gives ${headDim} (head_dim, or qk_rope_head_dim for MLA)`);
}

/** The run's dims, checked again on the actual tensors (a .npy source may not declare its shape). */
function runDims(q: Tensor, k: Tensor, p: PositionNodeParams) {
  if (q.shape.length !== 3) throw new ShapeError('q', `"q" expects rank 3 [H, Tq, D], got [${q.shape.join(', ')}]`);
  if (k.shape.length !== 3) throw new ShapeError('k', `"k" expects rank 3 [Hkv, Tk, D], got [${k.shape.join(', ')}]`);
  const [H, Tq, D] = q.shape as [number, number, number];
  const [Hkv, Tk] = k.shape as [number, number, number];
  if (k.shape[2] !== D) throw new ShapeError('k', `"k" is [${k.shape.join(', ')}] but q is [${q.shape.join(', ')}]: D must match`);
  checkTq(Tq, Tk);
  inferDims({ q: tensorShape('float32', q.shape), k: tensorShape('float32', k.shape) }, p);
  return { H, Hkv, Tq, Tk, D };
}

/** Plan, positions, bias, frequencies and metrics: everything but the q/k transform, host-side. */
function prepare(q: Tensor, k: Tensor, given: Tensor | undefined, p: PositionNodeParams) {
  const dims = runDims(q, k, p);
  if (given && given.dtype !== 'int32') throw new ShapeError('positions', `"positions" expects int32, got ${given.dtype}`);
  // k's positions; q's are the last Tq of them. L (dynamic NTK, LongRoPE) is over all of k's.
  const positions = positionsOf(dims.Tk, p.positionOffset, given?.data as Int32Array | undefined);
  const qPositions = positions.subarray(dims.Tk - dims.Tq);
  const v = positionVariantOf(p);
  const L = lengthOf(positions);
  const R = rotaryOf(p, dims.D);
  const plan = v.plan(p, R, L);
  const bias: BiasValue = { kind: 'bias', terms: v.bias?.(p, dims.H) ?? [] };
  const frequencies = f32([plan.inv.length], plan.inv, ['D/2']);
  return { dims, R, v, positions, qPositions, plan, bias, frequencies, metrics: metrics(metricsOf(p, v, plan, R, L, bias)) };
}

/**
 * What the frequencies do, for checks and the inspector: which dims equal plain RoPE's, which are
 * divided by exactly the factor, the wavelength range, and the variant's own facts.
 */
function metricsOf(p: PositionNodeParams, v: PositionVariant, plan: RotaryPlan, D: number, L: number, bias: BiasValue) {
  const m: Record<string, MetricValue> = { variant: p.variant, headDim: D, maxPosition: L - 1 };
  if (p.rotaryDims !== undefined) m.rotaryDims = p.rotaryDims;
  if (v.effect === 'rotate') {
    const theta = ropeInv(p.base, D);
    const near = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.abs(b);
    m.attentionFactor = plan.attentionFactor;
    m.unchangedDims = plan.inv.filter((x, i) => near(x, theta[i]!)).length;
    if (plan.factor !== undefined) m.dividedDims = plan.inv.filter((x, i) => near(x, theta[i]! / plan.factor!)).length;
    m.minWavelength = (2 * Math.PI) / Math.max(...plan.inv);
    m.maxWavelength = (2 * Math.PI) / Math.min(...plan.inv);
    Object.assign(m, plan.facts);
  }
  for (const t of biasTerms(bias)) if (t.type === 'alibi') m.slopes = t.slopes;
  return m;
}

/** The last `rows` rows of a row-major table with `cols` columns, copied (so the upload owns its buffer). */
const lastRows = (table: Float32Array, rows: number, cols: number) => table.slice(table.length - rows * cols);

/** Runs `f` on x uploaded to the backend and reads the result back as a host tensor. */
async function onBackend(tf: typeof tfc, x: Tensor, f: (xt: tfc.Tensor3D) => tfc.Tensor, R?: number): Promise<Tensor> {
  const [H, T, D] = x.shape as [number, number, number];
  const xt = tf.tensor3d(x.data as Float32Array, [H, T, D]);
  // Partial rotary: f sees the first R channels; the rest pass through.
  const y =
    R === undefined || R === D
      ? f(xt)
      : tf.tidy(() => {
          const [rot, pass] = tf.split(xt, [R, D - R], 2) as [tfc.Tensor3D, tfc.Tensor3D];
          return tf.concat([f(rot), pass], 2);
        });
  try {
    return f32([H, T, D], (await y.data()) as Float32Array, ['H', 'T', 'D']);
  } finally {
    tf.dispose([xt, y]);
  }
}

async function transform(ctx: RunContext, q: Tensor, k: Tensor, prep: ReturnType<typeof prepare>, p: PositionNodeParams) {
  const { tf } = ctx;
  const { v, plan, positions, qPositions, R } = prep;
  const { Tq, Tk, D } = prep.dims;
  const want = { q: ctx.isConnected('q'), k: ctx.isConnected('k') };
  if (v.effect === 'none') return { q, k };
  if (v.effect === 'add') {
    // One table over k's positions; q adds its last Tq rows.
    const host = sinusoidTable(plan.inv, positions);
    const tableK = tf.tensor2d(host, [Tk, D]);
    const tableQ = Tq === Tk ? tableK : tf.tensor2d(lastRows(host, Tq, D), [Tq, D]);
    try {
      return {
        q: want.q ? await onBackend(tf, q, (x) => tf.add(x, tableQ)) : undefined,
        k: want.k ? await onBackend(tf, k, (x) => tf.add(x, tableK)) : undefined,
      };
    } finally {
      tf.dispose([...new Set([tableQ, tableK])]);
    }
  }
  const upload = (cos: Float32Array, sin: Float32Array, rows: number) => {
    ctx.track(cos.byteLength * 2);
    return { cos: tf.tensor2d(cos, [rows, R / 2]), sin: tf.tensor2d(sin, [rows, R / 2]), bytes: cos.byteLength * 2 };
  };
  // k's table over all Tk positions (xPos: decay ζ^(−n/scaleBase)). q's rows are its last Tq rows,
  // except for xPos, whose q decays the other way (ζ^(+n/scaleBase)) and gets its own table.
  const hostK = rotaryTables(plan, positions, plan.xpos ? -1 : 1);
  const tk = upload(hostK.cos, hostK.sin, Tk);
  const hostQ = plan.xpos
    ? rotaryTables(plan, qPositions, 1)
    : Tq === Tk
      ? undefined
      : { cos: lastRows(hostK.cos, Tq, R / 2), sin: lastRows(hostK.sin, Tq, R / 2) };
  const tq = hostQ ? upload(hostQ.cos, hostQ.sin, Tq) : tk;
  try {
    const qOut = want.q ? await onBackend(tf, q, (x) => rotateTf(tf, x, tq.cos, tq.sin, p.layout), R) : undefined;
    ctx.checkCancelled();
    ctx.progress(0.5);
    const kOut = want.k ? await onBackend(tf, k, (x) => rotateTf(tf, x, tk.cos, tk.sin, p.layout), R) : undefined;
    return { q: qOut, k: kOut };
  } finally {
    for (const t of new Set([tq, tk])) {
      tf.dispose([t.cos, t.sin]);
      ctx.release(t.bytes);
    }
  }
}

export const position = defineNode({
  type: 'position',
  family: 'position',
  title: 'Position encoding',
  summary:
    'Puts positions into q and k: RoPE and its context-extension rules (PI, NTK, dynamic NTK, YaRN, LongRoPE, Llama 3), sinusoidal, xPos, or ALiBi as a structured bias.',
  references: family.references,
  params,
  variants: family.docs,
  inputs: {
    q: {
      kind: 'tensor',
      dims: ['H', 'Tq', 'D'],
      doc: "queries: the newest Tq ≤ Tk tokens, at the last Tq of k's positions (Tq = 1 when decoding)",
    },
    k: { kind: 'tensor', dims: ['Hkv', 'Tk', 'D'], doc: 'keys: all Tk tokens, cached ones included' },
    positions: {
      kind: 'tensor',
      optional: true,
      dims: ['Tk'],
      doc: "int32 position of each of k's tokens (e.g. from `segment`); default positionOffset..positionOffset+Tk−1; q takes the last Tq",
    },
    model: {
      kind: 'model',
      optional: true,
      doc: "a model (model.config, model.load): its rope_theta, rope_scaling, head_dim and partial rotary factor replace the variant and its params, with HF semantics",
    },
  },
  outputs: {
    q: { kind: 'tensor', dims: ['H', 'Tq', 'D'] },
    k: { kind: 'tensor', dims: ['Hkv', 'Tk', 'D'] },
    bias: { kind: 'bias', doc: 'ALiBi slopes for attention; empty for the other variants' },
    frequencies: { kind: 'tensor', dims: ['D/2'], doc: 'float32 inverse frequencies actually used: those of the rotation, the sinusoidal table\'s base^(−2i/D) for sinusoidal, 0 for none and alibi' },
    metrics: {
      kind: 'metrics',
      metrics: positionMetrics,
      doc: "maxPosition (over k's positions), attentionFactor, unchangedDims / dividedDims against plain RoPE, wavelength range, effective base, YaRN low/high, ALiBi slopes",
    },
  },
  infer(ins, p) {
    const { H, Hkv, Tq, Tk, D } = inferDims(ins, p);
    const half = D === null || ins.model ? null : Math.floor(rotaryOf(p, D) / 2);
    return {
      q: tensorShape('float32', [H, Tq, D], ['H', 'Tq', 'D']),
      k: tensorShape('float32', [Hkv, Tk, D], ['Hkv', 'Tk', 'D']),
      bias: { kind: 'bias', shape: [H, Tk] },
      frequencies: tensorShape('float32', [half], ['D/2']),
      metrics: { kind: 'metrics' },
    };
  },
  cost(ins, p): Cost {
    const { H, Hkv, Tq, Tk, D } = inferDims(ins, p);
    const [h, hkv, tk, d] = [H ?? 0, Hkv ?? 0, Tk ?? 0, D ?? 0];
    const tq = Tq ?? tk;
    const elems = (h * tq + hkv * tk) * d;
    const effect = positionVariantOf(p).effect;
    if (effect === 'none') return { flops: 0, workspaceBytes: 0, note: 'q and k pass through' };
    // The larger of q, k on the backend: its upload, halves, four products, two sums and the result.
    // (An added sinusoid needs only the upload and the sum.)
    const temps = (effect === 'add' ? 2 : 6) * Math.max(h * tq, hkv * tk) * d * 4;
    // Table rows: k's Tk, plus a copy of q's last Tq when q is shorter (or, for xPos, always).
    const qRows = p.variant === 'xpos' || tq < tk ? tq : 0;
    const rows = tk + qRows;
    const tables = `${tk}×${effect === 'add' ? d : d / 2}${qRows ? ` for k, ${tq} rows for q` : ''}`;
    if (effect === 'add')
      return { flops: elems, workspaceBytes: 2 * rows * d * 4 + temps, bytesMoved: 2 * elems * 4, note: `sinusoid table ${tables} f32` };
    // Per element x·c ± y·s is 3 flops; the tables cost a cos and a sin per (t, i), counted as one each
    // (q's rows are copied from k's table except for xPos, which computes them).
    const computed = p.variant === 'xpos' ? rows : tk;
    return {
      flops: 3 * elems + computed * d,
      workspaceBytes: 2 * (2 * rows * (d / 2) * 4) + temps,
      bytesMoved: 2 * elems * 4,
      note: `cos/sin tables ${tables} f32, on host and backend`,
    };
  },
  // fromConfig: the config's rotary becomes the params before compiling, so shapes and checks hold.
  async prepare(params, readHead) {
    if (typeof params.fromConfig !== 'string') return params;
    const head = await readHead(params.fromConfig);
    if (!head || head.bytes.length < head.size) return params; // unreadable or long: the run reports it
    try {
      const { params: derived } = configParams(readModelConfig(head.bytes, params.fromConfig).arch, params as PositionNodeParams);
      return { ...derived, fromConfig: params.fromConfig, ...(params.configLayer !== undefined ? { configLayer: params.configLayer } : {}) };
    } catch (err) {
      throw Object.assign(err as Error, { param: 'fromConfig' });
    }
  },
  async run(ctx, ins, given) {
    const q = squeezeBatch(ins.q, 3);
    const k = squeezeBatch(ins.k, 3);
    const { params: p, headDim } = await resolveParams(ctx, ins.model, given);
    checkHeadDim(q.shape[2]!, headDim, ins.model?.source ?? given.fromConfig ?? 'the config');
    const prep = prepare(q, k, ins.positions, p);
    const out = await transform(ctx, q, k, prep, p);
    ctx.progress(1);
    return { ...out, bias: prep.bias, frequencies: prep.frequencies, metrics: prep.metrics };
  },
  reference(ins, given) {
    const q = squeezeBatch(ins.q, 3);
    const k = squeezeBatch(ins.k, 3);
    if (!ins.model && given.fromConfig !== undefined) throw new Error('position reference: pass the config as the `model` input');
    const { params: p, headDim } = ins.model ? configParams(parseModelConfig(ins.model.config, ins.model.source ?? 'model'), given) : { params: given, headDim: undefined };
    checkHeadDim(q.shape[2]!, headDim, ins.model?.source ?? 'the config');
    const prep = prepare(q, k, ins.positions, p);
    const { v, plan, positions, qPositions, R } = prep;
    const apply = (x: Tensor, at: Int32Array, sign: 1 | -1) =>
      v.effect === 'rotate'
        ? partialReference(x, R, (xr) => rotateReference(xr, at, plan, p.layout, sign))
        : v.effect === 'add'
          ? addSinusoidReference(x, at, plan.inv)
          : x;
    return { q: apply(q, qPositions, 1), k: apply(k, positions, -1), bias: prep.bias, frequencies: prep.frequencies, metrics: prep.metrics };
  },
});

export const nodes: AnyNodeDef[] = [position];

/** The family's palette and canvas data: its title and colour. */
export const familyDef: FamilyDef = { id: 'position', title: 'Position encoders', color: '#16a34a' };

/** Applies f to the first R channels of x [H, T, D] and passes the rest through (host-side). */
function partialReference(x: Tensor, R: number, f: (xr: Tensor) => Tensor): Tensor {
  const [H, T, D] = x.shape as [number, number, number];
  if (R === D) return f(x);
  const rows = H * T;
  const head = new Float32Array(rows * R);
  for (let r = 0; r < rows; r++) head.set(x.data.subarray(r * D, r * D + R) as Float32Array, r * R);
  const rotated = f(f32([H, T, R], head)).data;
  const out = Float32Array.from(x.data as Float32Array);
  for (let r = 0; r < rows; r++) out.set(rotated.subarray(r * R, (r + 1) * R) as Float32Array, r * D);
  return f32([H, T, D], out, ['H', 'T', 'D']);
}
