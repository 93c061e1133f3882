// `--set node.param=value` overrides, applied to the raw document before validation so that the
// usual param errors (with JSON paths) apply to them too.

export interface Override {
  node: string;
  /** Param path, dotted for nested params (e.g. "budget.question"). */
  param: string;
  value: unknown;
}

/** Parses "node.param=value"; the value is JSON when it parses as JSON, else a string. */
export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  const lhs = eq < 0 ? '' : text.slice(0, eq);
  const dot = lhs.indexOf('.');
  if (eq < 0 || dot <= 0 || dot === lhs.length - 1) throw new Error(`--set expects node.param=value, got "${text}"`);
  return { node: lhs.slice(0, dot), param: lhs.slice(dot + 1), value: parseValue(text.slice(eq + 1)) };
}

export function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** Returns a copy of `doc` with the overrides applied; throws naming an unknown node. */
export function applyOverrides(doc: unknown, overrides: Override[]): unknown {
  if (!overrides.length) return doc;
  const copy = structuredClone(doc) as { nodes?: { id?: string; params?: Record<string, unknown> }[] };
  for (const o of overrides) {
    const node = copy.nodes?.find((n) => n.id === o.node);
    if (!node) throw new Error(`--set ${o.node}.${o.param}: the pipeline has no node "${o.node}"`);
    node.params ??= {};
    const parts = o.param.split('.');
    let cur = node.params as Record<string, unknown>;
    for (const part of parts.slice(0, -1)) {
      if (typeof cur[part] !== 'object' || cur[part] === null) cur[part] = {};
      cur = cur[part] as Record<string, unknown>;
    }
    cur[parts.at(-1)!] = o.value;
  }
  return copy;
}
