// A node type with one variant per technique: each variant module declares its zod params (with a
// `variant` literal) and its docs; the node's params union, docs and dispatch table derive from the list.
import { z } from 'zod';
import type { Reference, VariantDoc } from './node.js';

/** A variant's params: a zod object whose `variant` key is a string literal. */
export type VariantSchema = z.ZodObject<{ variant: z.ZodLiteral<string> } & z.ZodRawShape>;

export interface VariantModule {
  params: VariantSchema;
  doc: VariantDoc;
}

/**
 * Declares a variant from its params schema and its implementation. A family re-exports this with
 * its own signature, `(params: S, impl: FamilyImpl<z.output<S>>) => FamilyVariant<z.output<S>>`, so
 * every variant's params are typed by its schema and never by hand.
 */
export function defineVariant<S extends VariantSchema, Impl extends { doc: VariantDoc }>(params: S, impl: Impl): Impl & { params: S } {
  return { params, ...impl };
}

export function variantName(v: VariantModule): string {
  return v.params.shape.variant.value;
}

export function variantFamily<V extends VariantModule, P extends { variant: string }>(list: V[]) {
  const byName = new Map(list.map((v) => [variantName(v), v]));
  if (byName.size !== list.length) throw new Error(`duplicate variant names in [${list.map(variantName).join(', ')}]`);
  return {
    byName,
    /** The params schema: a discriminated union on `variant`. */
    params: z.discriminatedUnion('variant', list.map((v) => v.params) as [VariantSchema, ...VariantSchema[]]) as unknown as z.ZodType<P>,
    docs: Object.fromEntries([...byName].map(([name, v]) => [name, v.doc])) as Record<string, VariantDoc>,
    references: list.flatMap((v) => v.doc.references ?? []) as Reference[],
    /** The variant module of a parsed params object. */
    of: (p: P): V => {
      const v = byName.get(p.variant);
      if (!v) throw new Error(`unknown variant "${p.variant}" (known: ${[...byName.keys()].join(', ')})`);
      return v;
    },
  };
}

/** The `variant` param of a node's params, when it has one. */
export function variantOf(params: unknown): string | undefined {
  const v = (params as { variant?: unknown } | undefined)?.variant;
  return typeof v === 'string' ? v : undefined;
}
