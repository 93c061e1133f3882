// Migrations: one function per version step. A document of any older version walks the chain up to
// PIPELINE_VERSION before validation.
import { PIPELINE_FORMAT, PIPELINE_VERSION } from './pipeline.js';

type Doc = Record<string, unknown>;

/**
 * Version 0 was the draft format of the first prototype: nodes had `kind`, `config`, `x`, `y`; edges
 * were `links` of `{ source: { node, port }, target: { node, port } }`.
 */
function v0to1(doc: Doc): Doc {
  const { nodes, links, ...rest } = doc as { nodes?: unknown; links?: unknown };
  // Whatever is not an object is passed on unchanged, for validation to report with its path.
  const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  return {
    ...rest,
    format: PIPELINE_FORMAT,
    version: 1,
    nodes: asArray(nodes).map((n) => {
      if (!isObj(n)) return n;
      const { kind, config, x, y, ...keep } = n;
      const node: Record<string, unknown> = { ...keep, type: kind, params: config ?? {} };
      if (typeof x === 'number' && typeof y === 'number') node.position = { x, y };
      return node;
    }),
    edges: asArray(links).map((l) => {
      if (!isObj(l)) return l;
      const s = (l.source ?? {}) as { node?: string; port?: string };
      const t = (l.target ?? {}) as { node?: string; port?: string };
      return { from: `${s.node}.${s.port}`, to: `${t.node}.${t.port}` };
    }),
  };
}

/** migrations[v] upgrades a document of version v to v + 1. */
export const migrations: Record<number, (doc: Doc) => Doc> = { 0: v0to1 };

export interface MigrationResult {
  doc: unknown;
  from: number | undefined;
  applied: number[];
}

/** Upgrades `raw` through the chain; leaves anything that is not an older pipeline untouched. */
export function migrate(raw: unknown): MigrationResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { doc: raw, from: undefined, applied: [] };
  let doc = raw as Doc;
  const from = typeof doc.version === 'number' ? doc.version : undefined;
  const applied: number[] = [];
  if (doc.format !== PIPELINE_FORMAT || from === undefined || !Number.isInteger(from)) return { doc, from, applied };
  let v = from;
  while (v < PIPELINE_VERSION && migrations[v]) {
    doc = migrations[v]!(doc);
    applied.push(v);
    v += 1;
  }
  return { doc, from, applied };
}
