// The `block` family: whole layers (attention + feed-forward) computed in a way that changes their cost,
// e.g. the Blockwise Parallel Transformer's fused per-block attention and FFN.
import type { AnyNodeDef } from '../../engine/node.js';
import { bpt } from './bpt.js';

/** Node kinds of this family, registered by src/nodes/index.ts. */
export const nodes: AnyNodeDef[] = [bpt];
