// Reading a param's JSON Schema (from the zod declaration) for people: its range and its type as
// text. One reader for `ctxlab nodes`, docs/nodes.md and the editor's inspector, so exclusive
// bounds, unions and nested objects read the same everywhere.
import type { JsonSchema } from '../catalog.js';

export interface Range {
  min?: number;
  max?: number;
  /** True when `min` itself is not allowed (`> min`). */
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
}

/** A bound worth showing: zod's .int() adds ±MAX_SAFE_INTEGER, which says nothing to a reader. */
const shown = (x: unknown): x is number => typeof x === 'number' && Math.abs(x) < Number.MAX_SAFE_INTEGER;

/** The numeric range a schema allows (inclusive or exclusive at each end), without zod's integer-safety bounds. */
export function rangeOf(s: JsonSchema): Range {
  const r: Range = {};
  if (shown(s.exclusiveMinimum)) Object.assign(r, { min: s.exclusiveMinimum, exclusiveMin: true });
  else if (shown(s.minimum)) r.min = s.minimum;
  if (shown(s.exclusiveMaximum)) Object.assign(r, { max: s.exclusiveMaximum, exclusiveMax: true });
  else if (shown(s.maximum)) r.max = s.maximum;
  return r;
}

/** "≥ 1, ≤ 256", "> 0", or '' when unbounded. */
export function rangeText(r: Range): string {
  const parts: string[] = [];
  if (r.min !== undefined) parts.push(`${r.exclusiveMin ? '>' : '≥'} ${r.min}`);
  if (r.max !== undefined) parts.push(`${r.exclusiveMax ? '<' : '≤'} ${r.max}`);
  return parts.join(', ');
}

/** A param's type as a reader wants it: `int (≥ 1, ≤ 256)`, `"a" | "b"`, `number (> 0)`, `{ a: int; b: string }`, `(int | null)[]`. */
export function typeText(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((e) => JSON.stringify(e)).join(' | ');
  const union = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(union)) return union.map(typeText).join(' | ');
  if (s.type === 'array') {
    const items = typeText((s.items ?? {}) as JsonSchema);
    return `${items.includes(' ') ? `(${items})` : items}[]`;
  }
  if (s.type === 'object') {
    const props = Object.entries((s.properties ?? {}) as Record<string, JsonSchema>);
    return props.length ? `{ ${props.map(([k, v]) => `${k}: ${typeText(v)}`).join('; ')} }` : 'object';
  }
  const t = s.type === 'integer' ? 'int' : String(s.type ?? 'any');
  const range = rangeText(rangeOf(s));
  return range ? `${t} (${range})` : t;
}
