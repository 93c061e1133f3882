// The inspector's form model: JSON Schema (from the zod params) → fields; variant switching;
// validation messages by param path.
import type { JsonSchema } from '../../engine/catalog.js';
import { rangeOf } from '../../engine/schema/param-text.js';
import type { AnyNodeDef } from '../../engine/node.js';
import type { Catalog } from './catalog.js';

export type FieldKind = 'number' | 'integer' | 'boolean' | 'enum' | 'string' | 'array' | 'object' | 'json';

export interface Field {
  name: string;
  kind: FieldKind;
  schema: JsonSchema;
  required: boolean;
  description?: string;
  default?: unknown;
  /** The numeric range (engine/schema/param-text.ts: rangeOf); rangeText() says it. */
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
  options?: unknown[];
  /** For arrays: the item schema. For objects: the nested fields. */
  items?: JsonSchema;
  fields?: Field[];
  /** Whether null is allowed (nullable zod fields). */
  nullable?: boolean;
}

function kindOf(s: JsonSchema): { kind: FieldKind; schema: JsonSchema; nullable: boolean } {
  const union = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (union) {
    const nonNull = union.filter((o) => o.type !== 'null');
    const nullable = nonNull.length < union.length;
    if (nonNull.length === 1) return { ...kindOf({ ...nonNull[0], description: s.description, default: s.default }), nullable };
    if (nonNull.every((o) => o.const !== undefined)) return { kind: 'enum', schema: { ...s, enum: nonNull.map((o) => o.const) }, nullable };
    return { kind: 'json', schema: s, nullable };
  }
  if (Array.isArray(s.type)) {
    const types = (s.type as string[]).filter((t) => t !== 'null');
    const inner = kindOf({ ...s, type: types.length === 1 ? types[0] : undefined });
    return { ...inner, nullable: types.length < (s.type as string[]).length };
  }
  if (Array.isArray(s.enum)) return { kind: 'enum', schema: s, nullable: s.enum.includes(null) };
  if (s.const !== undefined) return { kind: 'enum', schema: { ...s, enum: [s.const] }, nullable: false };
  switch (s.type) {
    case 'number':
      return { kind: 'number', schema: s, nullable: false };
    case 'integer':
      return { kind: 'integer', schema: s, nullable: false };
    case 'boolean':
      return { kind: 'boolean', schema: s, nullable: false };
    case 'string':
      return { kind: 'string', schema: s, nullable: false };
    case 'array':
      return { kind: 'array', schema: s, nullable: false };
    case 'object':
      return s.properties ? { kind: 'object', schema: s, nullable: false } : { kind: 'json', schema: s, nullable: false };
    default:
      return { kind: 'json', schema: s, nullable: false };
  }
}

/** The form fields of an object schema, in declaration order (`skip`: e.g. "variant", edited apart). */
export function fieldsOf(schema: JsonSchema | undefined, skip: readonly string[] = []): Field[] {
  const props = (schema?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema?.required as string[] | undefined) ?? []);
  return Object.entries(props)
    .filter(([name]) => !skip.includes(name))
    .map(([name, raw]) => {
      const { kind, schema: s, nullable } = kindOf(raw);
      const f: Field = { name, kind, schema: s, required: required.has(name) && raw.default === undefined, nullable };
      const description = (raw.description ?? s.description) as string | undefined;
      if (description) f.description = description;
      if (raw.default !== undefined) f.default = raw.default;
      else if (s.default !== undefined) f.default = s.default;
      Object.assign(f, rangeOf(s));
      if (kind === 'enum') f.options = s.enum as unknown[];
      if (kind === 'array') f.items = (s.items ?? {}) as JsonSchema;
      if (kind === 'object') f.fields = fieldsOf(s);
      return f;
    });
}

/** "≥ 1, ≤ 256" style text for a number field's range. */
export { rangeText } from '../../engine/schema/param-text.js';

/**
 * Params after switching the variant: the params the new variant also has keep their values
 * (`causal`, `scale`, …); the others are dropped so the new variant's defaults apply.
 */
export function switchVariant(catalog: Catalog, type: string, params: Record<string, unknown>, variant: string): Record<string, unknown> {
  const next: Record<string, unknown> = { variant };
  const schema = catalog.paramSchema(type, { variant });
  const props = (schema?.properties ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(params)) if (k !== 'variant' && k in props) next[k] = v;
  return next;
}

/** Validation messages of the params, keyed by dotted param path ("" for the whole object). */
export function paramIssues(def: AnyNodeDef, params: Record<string, unknown>): Map<string, string> {
  const r = def.params.safeParse(params);
  const out = new Map<string, string>();
  if (r.success) return out;
  for (const i of r.error.issues) {
    const key = i.path.map(String).join('.');
    if (!out.has(key)) out.set(key, i.message);
  }
  return out;
}

/** Sets (or, with undefined, removes) a dotted path in a params object, returning a new object. */
export function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return obj;
  const copy: Record<string, unknown> = { ...obj };
  if (rest.length === 0) {
    if (value === undefined) delete copy[head];
    else copy[head] = value;
    return copy;
  }
  const child = typeof copy[head] === 'object' && copy[head] !== null && !Array.isArray(copy[head]) ? (copy[head] as Record<string, unknown>) : {};
  const next = setPath(child, rest, value);
  if (Object.keys(next).length === 0) delete copy[head];
  else copy[head] = next;
  return copy;
}

/** Parses a number field's text: undefined for empty, NaN kept so validation can mark it. */
export function parseNumber(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  // Accept 4K / 64k / 1M shorthands for sizes.
  const m = /^(-?\d+(?:\.\d+)?)\s*([kKmM])$/.exec(t);
  if (m) return Number(m[1]) * (m[2]!.toLowerCase() === 'k' ? 1024 : 1024 * 1024);
  return Number(t);
}
