// The `quantize` node: one type, one variant per number format. Each variant lives in its own file
// and is listed in `variants`; params, docs and dispatch derive from that list. Every variant reports
// the same metrics, with bytesAfter counting codes and scales/zeros at the size they are stored.
import { variantFamily } from '../../engine/variants.js';
import { defineNode, ShapeError, type AnyNodeDef } from '../../engine/node.js';
import { f32 } from '../../engine/tensor.js';
import { metrics, tensorShape } from '../../engine/values.js';
import { absmaxInt8 } from './absmax-int8.js';
import { bf16 } from './bf16.js';
import { QUANT_METRICS, quantMetrics, type QuantVariant, type Quantized } from './common.js';
import { fp16 } from './fp16.js';
import { group } from './group.js';
import { nf4 } from './nf4.js';
import type { FamilyDef } from '../../engine/registry.js';

export const variants: QuantVariant[] = [absmaxInt8, group, nf4, fp16, bf16];

export type QuantizeParams = { variant: string } & Record<string, unknown>;
const family = variantFamily<QuantVariant, QuantizeParams>(variants);
const { params } = family;

function result(x: { shape: number[]; dims?: string[] }, q: Quantized, m: ReturnType<typeof quantMetrics>) {
  const out = f32([...x.shape], q.out, x.dims);
  return q.scales ? { out, codes: q.codes, scales: q.scales, metrics: metrics(m) } : { out, codes: q.codes, metrics: metrics(m) };
}

export const quantize = defineNode({
  type: 'quantize',
  family: 'quantize',
  title: 'Quantize',
  summary:
    'Quantizes a float32 tensor and dequantizes it back, reporting what it saves and what it costs: bytes before and after (codes plus scales as stored), MSE, max error and SQNR. One variant per format.',
  formula: 'x̂ = dequant(quant(x)); ratio = bytes(x)/(bytes(codes) + bytes(scales)); SQNR = 10·log10(Σx²/Σ(x−x̂)²)',
  references: family.references,
  params,
  variants: family.docs,
  inputs: { in: { kind: 'tensor', doc: 'float32 tensor of any shape' } },
  outputs: {
    out: { kind: 'tensor', doc: 'the dequantized values, shaped like the input' },
    codes: { kind: 'tensor', doc: 'the stored codes: packed uint32 words (low bits first), or int8 as uint8' },
    scales: { kind: 'tensor', doc: 'per-group/block/channel scales (and mins); absent for fp16/bf16' },
    metrics: { kind: 'metrics', doc: 'bytesBefore, bytesAfter, ratio, bitsPerValue, mse, maxAbs, sqnrDb' },
  },
  infer(ins, p) {
    const s = ins.in;
    if (!s) throw new ShapeError('in', 'input "in" is not connected');
    if (s.kind !== 'tensor') throw new ShapeError('in', `"in" expects a tensor, got ${s.kind}`);
    if (s.dtype && s.dtype !== 'float32') throw new ShapeError('in', `"in" expects float32, got ${s.dtype}`);
    const shape = s.shape ?? [];
    const metricsShape = { kind: 'metrics' as const, keys: [...QUANT_METRICS] };
    if (!s.shape) return { out: tensorShape('float32', []), metrics: metricsShape };
    if (shape.length === 0) throw new ShapeError('in', '"in" must have at least one dimension');
    const { codes, scales } = family.of(p).infer(shape, p);
    const out = tensorShape('float32', shape, s.dims);
    return scales ? { out, codes, scales, metrics: metricsShape } : { out, codes, metrics: metricsShape };
  },
  cost(ins, p) {
    const n = (ins.in.shape ?? []).reduce((a: number, d) => a * (d ?? 0), 1);
    return family.of(p).cost(n, p);
  },
  async run(ctx, ins, p) {
    const x = ins.in;
    if (x.dtype !== 'float32') throw new Error(`quantize: "in" must be float32, got ${x.dtype}`);
    ctx.checkCancelled();
    const q = await family.of(p).run(ctx, x, p);
    return result(x, q, quantMetrics(x, q));
  },
  exact: () => ({ kind: 'input', pairs: [{ output: 'out', input: 'in' }] }),
  reference(ins, p) {
    const q = family.of(p).reference(ins.in, p);
    return result(ins.in, q, quantMetrics(ins.in, q));
  },
});

export const nodes: AnyNodeDef[] = [quantize];

/** The family's palette and canvas data: its title and colour. */
export const familyDef: FamilyDef = { id: 'quantize', title: 'Quantizers', color: '#db2777' };
