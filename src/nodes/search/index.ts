// Search nodes: parameters found by scoring a model, e.g. LongRoPE's rescale factors.
import type { AnyNodeDef } from '../../engine/node.js';
import { searchLongrope } from './longrope.js';
import type { FamilyDef } from '../../engine/registry.js';

export const nodes: AnyNodeDef[] = [searchLongrope];

/** The family's palette and canvas data: its title and colour. */
export const familyDef: FamilyDef = { id: 'search', title: 'Search', color: '#4338ca' };
