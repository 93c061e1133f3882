// The `segment` node (window segmenter): one type, one variant per technique. It turns a sequence
// length into per-token positions (for `position.positions`), a structured mask for `attention.bias`,
// and window metadata. The length comes from `tokens`, from any tensor on `like`, or from the
// `length` param when neither is connected.
import { variantFamily } from '../../engine/variants.js';
import { defineNode, ShapeError, type AnyNodeDef } from '../../engine/node.js';
import { requireKind } from '../../engine/shapes.js';
import { i32, type Tensor } from '../../engine/tensor.js';
import { metrics, tensorShape, type PortShape, type TokensValue } from '../../engine/values.js';
import type { SegmentParams, SegmentVariant } from './common.js';
import { fixed } from './fixed.js';
import { pcw } from './pcw.js';
import { streaming } from './streaming.js';
import { structured } from './structured.js';
import type { FamilyDef } from '../../engine/registry.js';

export const variants: SegmentVariant[] = [fixed, pcw, streaming, structured];

export type SegmentNodeParams = SegmentParams & Record<string, unknown>;
const family = variantFamily<SegmentVariant, SegmentNodeParams>(variants);
const { params } = family;

const NEEDS_LENGTH =
  'segment needs the sequence length: connect `tokens`, or `like` (any tensor whose T is dim 0 of [T] or dim −2 of [.., T, D]), or set the `length` param';

/** T of a `like` tensor: dim 0 of a vector, else dim −2 ([T, dim], [H, T, D], [1, H, T, D]). */
function lengthOfShape(shape: readonly (number | null)[]): number | null {
  if (shape.length === 0) throw new ShapeError('like', '"like" is a scalar: it needs a T dimension ([T] or [.., T, D])');
  return shape.length === 1 ? shape[0]! : shape[shape.length - 2]!;
}

/** T from whichever input is connected (exactly one, or none with the `length` param). */
function sequenceLength(
  ins: { tokens?: PortShape | TokensValue; like?: PortShape | Tensor },
  p: SegmentNodeParams,
  fromValue: boolean,
): number | null {
  if (ins.tokens && ins.like) throw new ShapeError('like', 'segment: connect either `tokens` or `like`, not both');
  let T: number | null;
  let port: string;
  if (ins.tokens) {
    port = 'tokens';
    if (fromValue) T = (ins.tokens as TokensValue).ids.length;
    else T = requireKind('tokens', ins.tokens as PortShape, 'tokens').shape?.[0] ?? null;
  } else if (ins.like) {
    port = 'like';
    const s = fromValue ? (ins.like as Tensor).shape : requireKind('like', ins.like as PortShape, 'tensor').shape;
    T = s ? lengthOfShape(s) : null;
  } else if (p.length !== undefined) {
    return p.length;
  } else {
    throw new ShapeError('tokens', NEEDS_LENGTH);
  }
  if (p.length !== undefined && T !== null && T !== p.length)
    throw new ShapeError(port, `the length param (${p.length}) disagrees with T = ${T} from "${port}"`);
  return T ?? p.length ?? null;
}

function segmentValues(ins: { tokens?: TokensValue; like?: Tensor }, p: SegmentNodeParams) {
  const T = sequenceLength(ins, p, true)!;
  const s = family.of(p).segment(p, T);
  return { positions: i32([T], s.positions, ['T']), bias: { kind: 'bias' as const, terms: s.terms }, windows: metrics(s.windows) };
}

export const segment = defineNode({
  type: 'segment',
  family: 'segment',
  title: 'Window segmenter',
  summary:
    'Splits a sequence into windows: per-token positions for the position encoder and a structured mask for attention (fixed windows, Parallel Context Windows, StreamingLLM, Structured Prompting).',
  references: family.references,
  params,
  variants: family.docs,
  inputs: {
    tokens: { kind: 'tokens', optional: true, dims: ['T'], doc: 'the token sequence (connect this or `like`)' },
    like: { kind: 'tensor', optional: true, doc: 'any tensor giving T: dim 0 of [T], else dim −2 ([T, dim], [H, T, D])' },
  },
  outputs: {
    positions: { kind: 'tensor', dims: ['T'], doc: 'int32 position of each token, for position.positions' },
    bias: { kind: 'bias', doc: 'structured mask (segments, windows, streaming) for attention.bias' },
    windows: { kind: 'metrics', doc: 'window index ranges [start, end), task span, count, maxPosition' },
  },
  infer(ins, p) {
    const T = sequenceLength(ins, p, false);
    if (T !== null) family.of(p).check(p, T);
    return {
      positions: tensorShape('int32', [T], ['T']),
      bias: { kind: 'bias', shape: [null, T] },
      windows: { kind: 'metrics' },
    };
  },
  // Host-side bookkeeping: a position and a segment id per token.
  cost(ins, p) {
    const T = sequenceLength(ins, p, false) ?? 0;
    return { flops: T, workspaceBytes: 4 * T, note: `segment ids ${T} i32` };
  },
  // For the accuracy overlay the mask is the approximation: exact attention sees every key, so an
  // attention fed this bias is compared with the same attention without it (what the windows cost).
  // The positions stay: they are what a position encoder is given, not a restriction of attention.
  exact: () => ({ kind: 'absent', ports: ['bias'] }),
  // Bookkeeping only, O(T) on the host: run() is the reference.
  run: (_ctx, ins, p) => segmentValues(ins, p),
  reference: (ins, p) => segmentValues(ins, p),
});

export const nodes: AnyNodeDef[] = [segment];

/** The family's palette and canvas data: its title and colour. */
export const familyDef: FamilyDef = { id: 'segment', title: 'Window segmenters', color: '#0d9488' };
