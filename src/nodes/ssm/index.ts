// The `ssm` family: attention-free sequence mixers. Four node types rather than one type with
// variants, because their ports differ: the selective scan takes raw u, Δ, A, B, C; a Mamba block
// takes hidden states [L, dModel] and owns its weights; RWKV takes k, v and per-channel decay/bonus;
// AFT takes q, k, v (and optional position biases).
import type { AnyNodeDef } from '../../engine/node.js';
import { aft } from './aft.js';
import { mambaBlock } from './mamba-block.js';
import { rwkv } from './rwkv.js';
import { rwkvBlock } from './rwkv-block.js';
import { selectiveScan } from './selective-scan.js';
import type { FamilyDef } from '../../engine/registry.js';

/** Node kinds of this family, registered by src/nodes/index.ts. */
export const nodes: AnyNodeDef[] = [selectiveScan, mambaBlock, rwkv, rwkvBlock, aft];

/** The family's palette and canvas data: its title and colour. */
export const familyDef: FamilyDef = { id: 'ssm', title: 'SSM / attention-free', color: '#7c3aed' };
