// Every node family, registered once. A family folder exports `nodes`; adding a family is one line here.
import { Registry } from '../engine/registry.js';
import { nodes as sources } from './sources/index.js';
import { nodes as sinks } from './sinks/index.js';
import { nodes as attention } from './attention/index.js';
import { nodes as position } from './position/index.js';
import { nodes as segment } from './segment/index.js';
import { nodes as text } from './text/index.js';
import { nodes as compress } from './compress/index.js';
import { nodes as ssm } from './ssm/index.js';
import { nodes as quantize } from './quantize/index.js';
import { nodes as kvCache } from './kv-cache/index.js';
import { nodes as model } from './model/index.js';
import { nodes as train } from './train/index.js';
import { nodes as block } from './block/index.js';
import { nodes as prune } from './prune/index.js';
import { nodes as search } from './search/index.js';

export const families = { sources, sinks, text, compress, position, segment, attention, ssm, quantize, kvCache, model, train, block, prune, search };

export function createRegistry(): Registry {
  return new Registry(Object.values(families).flat());
}

export const registry = createRegistry();
