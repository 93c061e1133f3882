// Records keyed by strings from a pipeline (node ids, ports, sink names, metric paths). A plain `{}`
// answers `constructor` or `hasOwnProperty` with Object.prototype's functions and takes `__proto__`
// as its prototype; these records have no prototype, and lookups read own properties only.

/** A record without a prototype, optionally filled from entries. */
export function dict<T>(entries?: Iterable<readonly [string, T]>): Record<string, T> {
  const d = Object.create(null) as Record<string, T>;
  if (entries) for (const [k, v] of entries) d[k] = v;
  return d;
}

/** `obj[key]` when it is an own property of `obj`, else undefined. */
export function own<T>(obj: Readonly<Record<string, T>> | undefined | null, key: string): T | undefined {
  return obj != null && Object.hasOwn(obj, key) ? obj[key] : undefined;
}
