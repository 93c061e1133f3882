// Real models: configs, memory plans, weights and the forward pass.
import type { AnyNodeDef } from '../../engine/node.js';
import { modelConfig } from './config-node.js';
import { modelMemory } from './memory-node.js';
import { modelLoad } from './load.js';
import { modelForward } from './forward.js';
import { evalPerplexity } from './eval-perplexity.js';
import { evalPasskey } from './eval-passkey.js';
import type { FamilyDef } from '../../engine/registry.js';

/** Node kinds of this family, registered by src/nodes/index.ts. */
export const nodes: AnyNodeDef[] = [modelConfig, modelMemory, modelLoad, modelForward, evalPerplexity, evalPasskey];

/** The family's palette and canvas data: its title and colour. */
export const familyDef: FamilyDef = { id: 'model', title: 'Models', color: '#0f766e' };
