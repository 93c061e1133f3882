// Helpers for `infer`: unify named dims and report mismatches with the port that caused them.
import { ShapeError } from './node.js';
import type { DType } from './tensor.js';
import type { PortShape } from './values.js';

export type Dim = number | null;

/**
 * Checks that `s` is a tensor of the given rank (a leading batch dim of 1 is dropped) and binds its
 * dims to `names` in `env`. A name already bound must agree; null (unknown) agrees with anything.
 */
export function bindDims(
  env: Record<string, Dim>,
  port: string,
  s: PortShape | undefined,
  names: string[],
  opts: { dtype?: DType } = {},
): Dim[] {
  if (!s) throw new ShapeError(port, `input "${port}" is not connected`);
  if (s.kind !== 'tensor') throw new ShapeError(port, `"${port}" expects a tensor, got ${s.kind}`);
  // A tensor of unknown rank (e.g. a .npy whose shape is not declared) binds nothing.
  if (!s.shape) return names.map((n) => env[n] ?? null);
  let shape = s.shape;
  if (shape.length === names.length + 1 && shape[0] === 1) shape = shape.slice(1);
  if (shape.length !== names.length)
    throw new ShapeError(port, `"${port}" expects rank ${names.length} [${names.join(', ')}], got [${shape.map(d => d ?? '?').join(', ')}]`);
  if (opts.dtype && s.dtype && s.dtype !== opts.dtype)
    throw new ShapeError(port, `"${port}" expects ${opts.dtype}, got ${s.dtype}`);
  names.forEach((name, i) => {
    const d = shape[i]!;
    const prev = env[name];
    if (prev === undefined || prev === null) env[name] = d;
    else if (d !== null && d !== prev)
      throw new ShapeError(port, `"${port}" dim ${name} = ${d} does not match ${name} = ${prev} from another input`);
  });
  return shape;
}

/** Requires that `a` divides `b` (grouped-query heads), naming the port. */
export function requireDivides(port: string, what: string, a: Dim, b: Dim): void {
  if (a !== null && b !== null && (a === 0 || b % a !== 0))
    throw new ShapeError(port, `${what}: ${a} must divide ${b}`);
}

export function requireKind(port: string, s: PortShape | undefined, kind: PortShape['kind']): PortShape {
  if (!s) throw new ShapeError(port, `input "${port}" is not connected`);
  if (s.kind !== kind) throw new ShapeError(port, `"${port}" expects ${kind}, got ${s.kind}`);
  return s;
}
