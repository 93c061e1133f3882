// Views find the nodes they draw by what the nodes declare (a metrics schema on an output port, the
// kind of value an input takes), not by their type strings or port names.
import { z } from 'zod';
import type { AnyNodeDef } from '../../engine/node.js';
import type { PortKind } from '../../engine/values.js';

/** The declared schema of field `field` of an object schema, optional unwrapped. */
function fieldOf(schema: z.ZodType, field: string): z.ZodType | undefined {
  let f = schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>)[field] : undefined;
  while (f instanceof z.ZodOptional) f = f.unwrap() as z.ZodType;
  return f;
}

/**
 * The metrics port of `def` that declares `schema`: as the port's whole schema, or (with `field`) as
 * the schema of that field. Identity, not likeness: a node opts in by declaring the very schema.
 */
export function metricsPortDeclaring(def: AnyNodeDef | undefined, schema: z.ZodType, field?: string): string | undefined {
  for (const [port, spec] of Object.entries(def?.outputs ?? {})) {
    const declared = spec.metrics;
    if (declared && (field === undefined ? declared === schema : fieldOf(declared, field) === schema)) return port;
  }
  return undefined;
}

/** The graph's nodes whose declarations declare `schema` (see metricsPortDeclaring), with the port. */
export function nodesDeclaring(
  nodes: readonly { id: string; data: { type: string } }[],
  defOf: (type: string) => AnyNodeDef | undefined,
  schema: z.ZodType,
  field?: string,
): { id: string; port: string }[] {
  return nodes.flatMap((n) => {
    const port = metricsPortDeclaring(defOf(n.data.type), schema, field);
    return port ? [{ id: n.id, port }] : [];
  });
}

/**
 * For each of `ids`, the output ("node.port") connected to its input that declares values of `kind`
 * (a model.memory's config comes with the `model` value it is given), or '' when none is.
 */
export function sourcesOfKind(
  ids: readonly string[],
  nodes: readonly { id: string; data: { type: string } }[],
  edges: readonly { source: string; sourceHandle?: string | null; target: string; targetHandle?: string | null }[],
  defOf: (type: string) => AnyNodeDef | undefined,
  kind: PortKind,
): string[] {
  return ids.map((id) => {
    const def = defOf(nodes.find((n) => n.id === id)?.data.type ?? '');
    const inputs = new Set(Object.entries(def?.inputs ?? {}).filter(([, spec]) => spec.kind === kind).map(([port]) => port));
    const e = edges.find((x) => x.target === id && x.targetHandle != null && inputs.has(x.targetHandle));
    return e ? `${e.source}.${e.sourceHandle}` : '';
  });
}
