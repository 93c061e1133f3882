// The catalog of node kinds. Registering the same type twice is an error, never a silent override.
import type { AnyNodeDef } from './node.js';

export class Registry {
  private readonly defs = new Map<string, AnyNodeDef>();

  constructor(defs: Iterable<AnyNodeDef> = []) {
    for (const d of defs) this.register(d);
  }

  register(def: AnyNodeDef): this {
    if (this.defs.has(def.type)) throw new Error(`node type "${def.type}" is registered twice`);
    this.defs.set(def.type, def);
    return this;
  }

  get(type: string): AnyNodeDef | undefined {
    return this.defs.get(type);
  }

  has(type: string): boolean {
    return this.defs.has(type);
  }

  all(): AnyNodeDef[] {
    return [...this.defs.values()];
  }

  types(): string[] {
    return [...this.defs.keys()];
  }
}
