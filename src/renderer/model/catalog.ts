// Palette and inspector metadata, derived from the node declarations in the registry (family titles
// and colours from the families' own declarations): nothing here is typed per node kind or family.
import { nodeInfo, type JsonSchema, type NodeInfo } from '../../engine/catalog.js';
import type { AnyNodeDef } from '../../engine/node.js';
import type { Registry } from '../../engine/registry.js';
import type { PortKind } from '../../engine/values.js';
import { aliasesOf, rank, type Searchable } from './search.js';

export interface FamilyStyle {
  title: string;
  color: string;
}


export const PORT_COLORS: Record<PortKind, string> = {
  text: '#f59e0b',
  tokens: '#f97316',
  tensor: '#3b82f6',
  kv: '#a855f7',
  bias: '#10b981',
  metrics: '#ec4899',
  model: '#64748b',
};

export interface PaletteEntry {
  /** Unique key: type, or type/variant. */
  key: string;
  type: string;
  variant?: string;
  title: string;
  summary: string;
  family: string;
  /** What search matches against. */
  search: Searchable;
}

export interface PaletteGroup {
  family: string;
  style: FamilyStyle;
  entries: PaletteEntry[];
}

export class Catalog {
  private readonly infos = new Map<string, NodeInfo>();

  constructor(readonly registry: Registry) {}

  /** The family's title and colour as the family declares them; a neutral style for one the registry does not know. */
  familyStyle(family: string): FamilyStyle {
    const f = this.registry.family(family);
    return f ? { title: f.title, color: f.color } : { title: family.charAt(0).toUpperCase() + family.slice(1), color: '#6b7280' };
  }

  def(type: string): AnyNodeDef | undefined {
    return this.registry.get(type);
  }

  /** The node's catalog entry (JSON Schema of its params, variant docs), computed once per type. */
  info(type: string): NodeInfo | undefined {
    let i = this.infos.get(type);
    if (!i) {
      const def = this.registry.get(type);
      if (!def) return undefined;
      i = nodeInfo(def);
      this.infos.set(type, i);
    }
    return i;
  }

  private entryList: PaletteEntry[] | undefined;

  /** One entry per node type, and one per variant of types that have variants. */
  entries(): PaletteEntry[] {
    if (this.entryList) return this.entryList;
    const out: PaletteEntry[] = [];
    for (const def of this.registry.all()) {
      const family = this.familyStyle(def.family).title;
      // "attention", "source.synthetic-qkv" → also "synthetic-qkv", "synthetic qkv".
      const ids = [def.type, ...def.type.split('.').slice(1).flatMap((p) => [p, p.replace(/-/g, ' ')])];
      out.push({
        key: def.type, type: def.type, title: def.title, summary: def.summary, family: def.family,
        // A type with variants leaves the techniques' names (its references) to the variant entries.
        search: { title: def.title, ids, aliases: aliasesOf(def.title, def.variants ? [] : def.references), context: [family, def.family], text: def.summary },
      });
      for (const [variant, doc] of Object.entries(def.variants ?? {}))
        out.push({
          key: `${def.type}/${variant}`, type: def.type, variant, title: `${def.title} · ${doc.title}`, summary: doc.summary, family: def.family,
          search: { title: doc.title, ids: [variant, variant.replace(/-/g, ' ')], aliases: aliasesOf(doc.title, doc.references), context: [def.title, family, ...ids], text: doc.summary },
        });
    }
    return (this.entryList = out);
  }

  /** Entries matching `query`, best match first (see model/search.ts). */
  search(query: string): PaletteEntry[] {
    return rank(query, this.entries(), (e) => e.search);
  }

  /**
   * Entries grouped by family: in catalog order without a query; with one, only the matches, the
   * family of the best match first and each family's entries best first.
   */
  groups(query = ''): PaletteGroup[] {
    const hits = query.trim() ? this.search(query) : this.entries();
    const byFamily = new Map<string, PaletteEntry[]>();
    for (const e of hits) byFamily.set(e.family, [...(byFamily.get(e.family) ?? []), e]);
    const families = [...byFamily];
    if (!query.trim()) {
      const ids = this.registry.families().map((f) => f.id);
      const order = (f: string) => ids.indexOf(f) + 1 || ids.length + 1;
      families.sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b));
    }
    return families.map(([family, entries]) => ({ family, style: this.familyStyle(family), entries }));
  }

  /** Params for a new node: the variant (when the type has variants) and nothing else, so defaults apply. */
  newParams(type: string, variant?: string): Record<string, unknown> {
    const def = this.registry.get(type);
    if (!def?.variants) return {};
    return { variant: variant ?? Object.keys(def.variants)[0] };
  }

  /** JSON Schema of the params that apply to these params (the current variant's, for variant types). */
  paramSchema(type: string, params: Record<string, unknown>): JsonSchema | undefined {
    const info = this.info(type);
    if (!info) return undefined;
    if (info.variants) {
      const v = typeof params.variant === 'string' ? params.variant : undefined;
      return v ? info.variants[v]?.params : undefined;
    }
    return info.params;
  }
}
