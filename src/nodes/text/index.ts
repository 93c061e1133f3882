// From text to tensors: a text source, tokenizers, a seeded hash embedding and a seeded Q/K/V projection.
import type { AnyNodeDef } from '../../engine/node.js';
import { embedding } from './embedding.js';
import { qkvProjection } from './qkv-projection.js';
import { sourceText } from './source-text.js';
import { tokenizer } from './tokenizer.js';
import type { FamilyDef } from '../../engine/registry.js';

/** Node kinds of this family, registered by src/nodes/index.ts. */
export const nodes: AnyNodeDef[] = [sourceText, tokenizer, embedding, qkvProjection];

/** The family's palette and canvas data: its title and colour. */
export const familyDef: FamilyDef = { id: 'text', title: 'Text & tokens', color: '#d97706' };
