// The `compress` node (prompt compressor): one type, one variant per technique, each in its own file.
// Both score tokens with a pluggable LM (lm.ts); the default is an n-gram model trained on a public
// domain novel that an npm package ships (corpus.ts). The compressors are host-side bookkeeping over
// LM scores, so run() is the plain-TypeScript implementation itself.
import { variantFamily } from '../../engine/variants.js';
import { defineNode, type AnyNodeDef } from '../../engine/node.js';
import { requireKind } from '../../engine/shapes.js';
import { tensorShape } from '../../engine/values.js';
import { compressOutputs, type CompressVariant } from './common.js';
import { CORPUS } from './corpus.js';
import { loadScoringLM } from './lm.js';
import { llmlingua } from './llmlingua.js';
import { selectiveContext } from './selective-context.js';
import type { FamilyDef } from '../../engine/registry.js';

export { registerScoringLM, type ScoringLM, type ScoringLMFactory } from './lm.js';

export const variants: CompressVariant[] = [selectiveContext, llmlingua];

export type CompressParams = { variant: string; lm: string } & Record<string, unknown>;
const family = variantFamily<CompressVariant, CompressParams>(variants);
const { params } = family;

export const compress = defineNode({
  type: 'compress',
  family: 'compress',
  title: 'Prompt compressor',
  summary:
    `Drops the tokens a scoring LM finds least informative; outputs the kept tokens and a keep mask. Default LM: a Kneser–Ney trigram trained on ${CORPUS.title} from ${CORPUS.package} (${CORPUS.licence}), plus a cache of the prompt itself.`,
  formula: 'I(x_t) = −log p(x_t | x_<t); keep the most informative tokens or units',
  references: [
    ...variants.flatMap((v) => v.doc.references ?? []),
    { title: 'An Empirical Study of Smoothing Techniques for Language Modeling (interpolated Kneser–Ney)', year: 1998 },
    { title: 'A Cache-Based Natural Language Model for Speech Recognition', year: 1990 },
    { title: CORPUS.title, year: 1851 },
  ],
  params,
  variants: family.docs,
  inputs: {
    tokens: { kind: 'tokens', dims: ['T'], doc: 'the prompt, tokenized' },
  },
  outputs: {
    tokens: { kind: 'tokens', dims: ['Tkept'], doc: 'the kept tokens; their text is the compressed prompt' },
    kept: { kind: 'tensor', dims: ['T'], doc: 'uint8 mask over the input tokens: 1 = kept' },
    metrics: { kind: 'metrics', doc: 'inputTokens, outputTokens, ratio = outputTokens / inputTokens; whether the facts survive: numbers/numbersKept/numbersSurvived and entities/entitiesKept/entitiesSurvived (named entities: capitalised words not at a sentence start); and per-variant figures' },
  },
  infer(ins) {
    const s = requireKind('tokens', ins.tokens, 'tokens');
    const T = s.shape?.[0] ?? null;
    return {
      tokens: { kind: 'tokens', shape: [null] },
      kept: tensorShape('uint8', [T], ['T']),
      metrics: { kind: 'metrics' },
    };
  },
  cost(ins) {
    const T = ins.tokens.shape?.[0] ?? 0;
    return {
      flops: 0,
      // LM scores (f64), sort keys and the keep mask per token.
      workspaceBytes: T * 25,
      note: 'n-gram look-ups: O(T) for Selective Context, O(T·N/segmentTokens) for LLMLingua (the compressed prefix is re-read per segment); the LM is built once per encoding and process',
    };
  },
  // The exact prompt is the uncompressed one; the overlay says the lengths differ rather than inventing an error.
  exact: () => ({ kind: 'input', pairs: [{ output: 'tokens', input: 'tokens' }] }),
  async run(ctx, { tokens }, p) {
    const lm = await loadScoringLM(p.lm, tokens.encoding);
    ctx.checkCancelled();
    const r = family.of(p).compress(ctx, tokens, lm, p);
    return compressOutputs(tokens, r);
  },
});

export const nodes: AnyNodeDef[] = [compress];

/** The family's palette and canvas data: its title and colour. */
export const familyDef: FamilyDef = { id: 'compress', title: 'Prompt compression', color: '#ca8a04' };
