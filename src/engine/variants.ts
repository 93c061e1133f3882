// A node type with one variant per technique: each variant module declares its zod params (with a
// `variant` literal) and its docs; the node's params union, docs and dispatch table derive from the list.
import { z } from 'zod';
import type { Reference, VariantDoc } from './node.js';

export interface VariantModule {
  params: z.ZodObject<any>;
  doc: VariantDoc;
}

export function variantName(v: VariantModule): string {
  return (v.params.shape.variant as z.ZodLiteral<string>).value;
}

export function variantFamily<V extends VariantModule, P extends { variant: string }>(list: V[]) {
  const byName = new Map(list.map((v) => [variantName(v), v]));
  if (byName.size !== list.length) throw new Error(`duplicate variant names in [${list.map(variantName).join(', ')}]`);
  return {
    byName,
    /** The params schema: a discriminated union on `variant`. */
    params: z.discriminatedUnion('variant', list.map((v) => v.params) as unknown as [z.ZodObject<any>, ...z.ZodObject<any>[]]) as unknown as z.ZodType<P>,
    docs: Object.fromEntries([...byName].map(([name, v]) => [name, v.doc])) as Record<string, VariantDoc>,
    references: list.flatMap((v) => v.doc.references ?? []) as Reference[],
    /** The variant module of a parsed params object. */
    of: (p: P): V => byName.get(p.variant)!,
  };
}

/** The `variant` param of a node's params, when it has one. */
export function variantOf(params: unknown): string | undefined {
  const v = (params as { variant?: unknown } | undefined)?.variant;
  return typeof v === 'string' ? v : undefined;
}
