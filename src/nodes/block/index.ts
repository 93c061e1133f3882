// The `block` family: whole layers (attention + feed-forward) computed in a way that changes their cost,
// e.g. the Blockwise Parallel Transformer's fused per-block attention and FFN, or low-rank (LED) projections.
import type { AnyNodeDef } from '../../engine/node.js';
import { bpt } from './bpt.js';
import { lowRankAttention } from './low-rank.js';
import type { FamilyDef } from '../../engine/registry.js';

/** Node kinds of this family, registered by src/nodes/index.ts. */
export const nodes: AnyNodeDef[] = [bpt, lowRankAttention];

/** The family's palette and canvas data: its title and colour. */
export const familyDef: FamilyDef = { id: 'block', title: 'Fused layers', color: '#0369a1' };
