import type { AnyNodeDef } from '../../engine/node.js';
import { compare } from './compare.js';
import { npySink } from './npy.js';

export const nodes: AnyNodeDef[] = [npySink, compare];
