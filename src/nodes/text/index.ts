import type { AnyNodeDef } from '../../engine/node.js';

/** Node kinds of this family, registered by src/nodes/index.ts. */
export const nodes: AnyNodeDef[] = [];
