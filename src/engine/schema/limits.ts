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
  // Each entry links to its parent, so a path is built only for the one that is too deep (a 10⁵-node
  // document is walked with no per-object arrays: this runs on every load and validate).
  interface Item { value: object; depth: number; key: PropertyKey; parent: Item | undefined }
  const stack: Item[] = [];
  if (typeof raw === 'object' && raw !== null) stack.push({ value: raw, depth: 0, key: '', parent: undefined });
  while (stack.length) {
    const item = stack.pop()!;
    if (item.depth >= max) {
      const path: PropertyKey[] = [];
      for (let at: Item | undefined = item; at?.parent; at = at.parent) path.push(at.key);
      return path.reverse();
    }
    const { value } = item;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (typeof v === 'object' && v !== null) stack.push({ value: v, depth: item.depth + 1, key: i, parent: item });
      }
    } else {
      for (const k in value) {
        if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
        const v: unknown = (value as Record<string, unknown>)[k];
        if (typeof v === 'object' && v !== null) stack.push({ value: v, depth: item.depth + 1, key: k, parent: item });
      }
    }
  }
  return undefined;
}
