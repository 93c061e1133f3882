// The catalog of node kinds. Registering the same type twice is an error, never a silent override.
import type { AnyNodeDef } from './node.js';

/** A family's data for people (the palette's group title, the canvas colour), declared by the family. */
export interface FamilyDef {
  /** The `family` its node declarations name. */
  id: string;
  title: string;
  /** CSS colour of its nodes. */
  color: string;
}

export class Registry {
  private readonly defs = new Map<string, AnyNodeDef>();
  private readonly familyDefs = new Map<string, FamilyDef>();

  /** With `families`, every node must name one of them (a new family cannot go without its title and colour). */
  constructor(defs: Iterable<AnyNodeDef> = [], families: FamilyDef[] = []) {
    for (const f of families) {
      if (this.familyDefs.has(f.id)) throw new Error(`family "${f.id}" is registered twice`);
      this.familyDefs.set(f.id, f);
    }
    for (const d of defs) this.register(d);
  }

  /** The family's declared data, in registration order (the palette's order). */
  family(id: string): FamilyDef | undefined {
    return this.familyDefs.get(id);
  }

  families(): FamilyDef[] {
    return [...this.familyDefs.values()];
  }

  register(def: AnyNodeDef): this {
    if (this.defs.has(def.type)) throw new Error(`node type "${def.type}" is registered twice`);
    if (this.familyDefs.size && !this.familyDefs.has(def.family))
      throw new Error(`node type "${def.type}" names family "${def.family}", which is not registered (declare its familyDef)`);
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
