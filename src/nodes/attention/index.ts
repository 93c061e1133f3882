// The `attention` node: one type, one variant per technique. Each variant lives in its own file and
// is listed in `variants` below; params, docs and dispatch derive from that list.
import { z } from 'zod';
import { defineNode, type AnyNodeDef, type VariantDoc } from '../../engine/node.js';
import { squeezeBatch, type Tensor } from '../../engine/tensor.js';
import { tensorShape } from '../../engine/values.js';
import type { AttentionVariant } from './common.js';
import { inferAttention } from './common.js';
import { flash } from './flash.js';
import { naive } from './naive.js';
import { attentionDims } from './reference.js';

export const variants: AttentionVariant[] = [naive, flash];

const byName = new Map(variants.map((v) => [(v.params.shape.variant as z.ZodLiteral<string>).value, v]));
export type AttentionParams = { variant: string; causal: boolean; scale?: number } & Record<string, unknown>;
const params = z.discriminatedUnion(
  'variant',
  variants.map((v) => v.params) as unknown as [z.ZodObject<any>, ...z.ZodObject<any>[]],
) as unknown as z.ZodType<AttentionParams>;

export const attention = defineNode({
  type: 'attention',
  family: 'attention',
  title: 'Attention',
  summary: 'Scaled dot-product attention over [H, T, D] tensors, with grouped-query K/V and structured bias; one variant per kernel.',
  references: variants.flatMap((v) => v.doc.references ?? []),
  params,
  variants: Object.fromEntries([...byName].map(([name, v]) => [name, v.doc])) as Record<string, VariantDoc>,
  inputs: {
    q: { kind: 'tensor', dims: ['H', 'T', 'D'], doc: 'queries' },
    k: { kind: 'tensor', dims: ['Hkv', 'T', 'D'], doc: 'keys (Hkv divides H: grouped-query)' },
    v: { kind: 'tensor', dims: ['Hkv', 'T', 'D'], doc: 'values' },
    bias: { kind: 'bias', optional: true, doc: 'structured bias: ALiBi slopes, segment and streaming masks' },
  },
  outputs: {
    out: { kind: 'tensor', dims: ['H', 'T', 'D'] },
  },
  infer(ins) {
    const s = inferAttention(ins);
    return { out: tensorShape('float32', [s.H, s.Tq, s.Dv], ['H', 'T', 'D']) };
  },
  cost(ins, p) {
    return byName.get(p.variant)!.cost(inferAttention(ins), p);
  },
  async run(ctx, ins, p) {
    const q = squeezeBatch(ins.q, 3);
    const k = squeezeBatch(ins.k, 3);
    const v = squeezeBatch(ins.v, 3);
    const out: Tensor = await byName.get(p.variant)!.run(ctx, { q, k, v, bias: ins.bias }, p, attentionDims(q, k, v));
    return { out };
  },
  reference(ins, p) {
    const q = squeezeBatch(ins.q, 3);
    const k = squeezeBatch(ins.k, 3);
    const v = squeezeBatch(ins.v, 3);
    return { out: byName.get(p.variant)!.reference({ q, k, v, bias: ins.bias }, p, attentionDims(q, k, v)) };
  },
});

export const nodes: AnyNodeDef[] = [attention];
