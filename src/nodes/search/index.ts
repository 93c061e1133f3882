// Search nodes: parameters found by scoring a model, e.g. LongRoPE's rescale factors.
import type { AnyNodeDef } from '../../engine/node.js';
import { searchLongrope } from './longrope.js';

export const nodes: AnyNodeDef[] = [searchLongrope];
