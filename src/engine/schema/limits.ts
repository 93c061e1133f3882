// Limits on a pipeline document, checked before anything walks it recursively: structuredClone,
// postMessage (Comlink), JSON.stringify and zod recurse, and a document nested 10^4 levels deep
// overflows their stack. Real pipelines nest a few levels (nodes[i].params.budget.question).

/** Deepest nesting of objects and arrays a pipeline document may have (the root is level 1). */
export const MAX_NESTING = 64;

export const NESTING_MESSAGE = `nested deeper than ${MAX_NESTING} levels of objects and arrays (a pipeline never needs that many)`;

/**
 * The path (keys and indices) to the first object or array nested deeper than `max` levels, or
 * undefined. Iterative, so it cannot overflow the stack itself.
 */
export function tooDeep(raw: unknown, max = MAX_NESTING): PropertyKey[] | undefined {
  const stack: { value: object; path: PropertyKey[] }[] = [];
  if (typeof raw === 'object' && raw !== null) stack.push({ value: raw, path: [] });
  while (stack.length) {
    const { value, path } = stack.pop()!;
    if (path.length >= max) return path;
    const entries: [PropertyKey, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    for (const [k, v] of entries) if (typeof v === 'object' && v !== null) stack.push({ value: v, path: [...path, k] });
  }
  return undefined;
}
