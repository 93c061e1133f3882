import type { AnyNodeDef } from '../../engine/node.js';
import { npySource } from './npy.js';
import { syntheticQkvNode } from './synthetic-qkv.js';
import type { FamilyDef } from '../../engine/registry.js';

export const nodes: AnyNodeDef[] = [syntheticQkvNode, npySource];

/** The family's palette and canvas data: its title and colour. */
export const familyDef: FamilyDef = { id: 'source', title: 'Sources', color: '#64748b' };
