import type { AnyNodeDef } from '../../engine/node.js';
import { npySource } from './npy.js';
import { syntheticQkvNode } from './synthetic-qkv.js';

export const nodes: AnyNodeDef[] = [syntheticQkvNode, npySource];
