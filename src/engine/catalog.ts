// Serializable descriptions of the node catalog, derived from the declarations: for `ctxlab nodes`,
// docs/nodes.md, the JSON Schema and the editor's palette.
import { z } from 'zod';
import type { AnyNodeDef, PortSpec, Reference, VariantDoc } from './node.js';
import type { Registry } from './registry.js';
import { typeText } from './schema/param-text.js';

export type JsonSchema = Record<string, unknown>;

export interface NodeInfo {
  type: string;
  family: string;
  title: string;
  summary: string;
  formula?: string;
  references: Reference[];
  inputs: Record<string, PortInfo>;
  outputs: Record<string, PortInfo>;
  /** JSON Schema of the params as a user writes them (defaults shown, all optional where defaulted). */
  params: JsonSchema;
  variants?: Record<string, VariantDoc & { params: JsonSchema }>;
}

export function paramsJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/** A port as data: a metrics port's declared schema as JSON Schema (its keys and their descriptions). */
export type PortInfo = Omit<PortSpec, 'metrics'> & { metrics?: JsonSchema };

const portInfos = (ports: Record<string, PortSpec>): Record<string, PortInfo> =>
  Object.fromEntries(Object.entries(ports).map(([name, { metrics, ...spec }]) => [name, metrics ? { ...spec, metrics: z.toJSONSchema(metrics, { io: 'output', unrepresentable: 'any' }) as JsonSchema } : spec]));

export function nodeInfo(def: AnyNodeDef): NodeInfo {
  const params = paramsJsonSchema(def.params);
  const info: NodeInfo = {
    type: def.type, family: def.family, title: def.title, summary: def.summary, formula: def.formula,
    references: def.references, inputs: portInfos(def.inputs), outputs: portInfos(def.outputs), params,
  };
  if (def.variants) {
    const options = ((params.oneOf ?? params.anyOf) as JsonSchema[] | undefined) ?? [];
    info.variants = Object.fromEntries(
      Object.entries(def.variants).map(([name, doc]) => {
        const own = options.find((o) => ((o.properties as Record<string, JsonSchema> | undefined)?.variant?.const ?? null) === name) ?? {};
        return [name, { ...doc, params: own }];
      }),
    );
  }
  return info;
}

export function catalog(registry: Registry): NodeInfo[] {
  return registry.all().map(nodeInfo);
}

/** Params of a schema as (name, type, default, description) rows, for tables in the CLI and docs. */
export function paramRows(schema: JsonSchema): { name: string; type: string; default?: unknown; description?: string; required: boolean }[] {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => ({
    name,
    type: typeText(s),
    default: s.default,
    description: s.description as string | undefined,
    required: required.has(name) && s.default === undefined,
  }));
}
