// `--set node.param=value` overrides, applied to the raw document before validation so that the
// usual param errors (with JSON paths) apply to them too.
import { tooDeep } from './limits.js';

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
  const param = lhs.slice(dot + 1);
  checkParamPath(param, text);
  return { node: lhs.slice(0, dot), param, value: parseValue(text.slice(eq + 1)) };
}

/** Segments that would walk into or replace an object's prototype rather than name a param. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/** Refuses `a..b`, `.a` and prototype segments (`qkv.__proto__.x=1` would pollute Object.prototype). */
function checkParamPath(param: string, text: string): void {
  for (const part of param.split('.')) {
    if (!part) throw new Error(`--set ${text}: empty segment in the param path "${param}"`);
    if (FORBIDDEN_SEGMENTS.has(part)) throw new Error(`--set ${text}: "${part}" cannot be a param name`);
  }
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
  // Too deep to copy (structuredClone recurses): returned as is, for compile to refuse with its path.
  if (tooDeep(doc)) return doc;
  const copy = structuredClone(doc) as { nodes?: { id?: string; params?: Record<string, unknown> }[] };
  for (const o of overrides) {
    // Overrides also arrive from the editor and the worker API, not only through parseOverride.
    checkParamPath(o.param, `${o.node}.${o.param}`);
    const node = Array.isArray(copy.nodes) ? copy.nodes.find((n) => n?.id === o.node) : undefined;
    if (!node) throw new Error(`--set ${o.node}.${o.param}: the pipeline has no node "${o.node}"`);
    node.params ??= {};
    if (typeof node.params !== 'object' || Array.isArray(node.params)) throw new Error(`--set ${o.node}.${o.param}: the params of node "${o.node}" are not an object`);
    const parts = o.param.split('.');
    let cur = node.params as Record<string, unknown>;
    for (const part of parts.slice(0, -1)) {
      const next = Object.hasOwn(cur, part) ? cur[part] : undefined;
      if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[part] = {};
      cur = cur[part] as Record<string, unknown>;
    }
    cur[parts.at(-1)!] = o.value;
  }
  return copy;
}
