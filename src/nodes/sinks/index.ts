import type { AnyNodeDef } from '../../engine/node.js';
import { compare } from './compare.js';
import { npySink } from './npy.js';
import type { FamilyDef } from '../../engine/registry.js';

export const nodes: AnyNodeDef[] = [npySink, compare];

/** The family's palette and canvas data: its title and colour. */
export const familyDef: FamilyDef = { id: 'sink', title: 'Sinks & metrics', color: '#475569' };
