// Every node family, registered once. A family folder exports `nodes` and its `familyDef` (title, colour); adding a family is one line here.
import { Registry } from '../engine/registry.js';
import { nodes as sources, familyDef as sourcesFamily } from './sources/index.js';
import { nodes as sinks, familyDef as sinksFamily } from './sinks/index.js';
import { nodes as attention, familyDef as attentionFamily } from './attention/index.js';
import { nodes as position, familyDef as positionFamily } from './position/index.js';
import { nodes as segment, familyDef as segmentFamily } from './segment/index.js';
import { nodes as text, familyDef as textFamily } from './text/index.js';
import { nodes as compress, familyDef as compressFamily } from './compress/index.js';
import { nodes as ssm, familyDef as ssmFamily } from './ssm/index.js';
import { nodes as quantize, familyDef as quantizeFamily } from './quantize/index.js';
import { nodes as kvCache, familyDef as kvCacheFamily } from './kv-cache/index.js';
import { nodes as model, familyDef as modelFamily } from './model/index.js';
import { nodes as train, familyDef as trainFamily } from './train/index.js';
import { nodes as block, familyDef as blockFamily } from './block/index.js';
import { nodes as prune, familyDef as pruneFamily } from './prune/index.js';
import { nodes as search, familyDef as searchFamily } from './search/index.js';

export const families = { sources, sinks, text, compress, position, segment, attention, ssm, quantize, kvCache, model, train, block, prune, search };

/** Family titles and colours, in the palette's order. */
export const familyDefs = [sourcesFamily, textFamily, compressFamily, segmentFamily, positionFamily, attentionFamily, ssmFamily, blockFamily, quantizeFamily, kvCacheFamily, modelFamily, trainFamily, pruneFamily, searchFamily, sinksFamily];

export function createRegistry(): Registry {
  return new Registry(Object.values(families).flat(), familyDefs);
}

export const registry = createRegistry();
