// The values that flow along edges, one type per port kind.
import type { DType, Tensor } from './tensor.js';

export type PortKind = 'text' | 'tokens' | 'tensor' | 'kv' | 'bias' | 'metrics' | 'model';

export interface TextValue {
  kind: 'text';
  text: string;
}

export interface TokensValue {
  kind: 'tokens';
  /** Token ids, one per token. */
  ids: Int32Array;
  /** [T, 2] character offsets (start, end) into `text`, in UTF-16 code units, end exclusive. */
  offsets: Int32Array;
  text: string;
  /** Name of the encoding that produced the ids (e.g. "cl100k_base"), so a consumer can decode. */
  encoding: string;
}

/**
 * Structured attention bias: a list of terms that attention kernels evaluate per tile, so no T×T
 * tensor is ever built. What each term type means belongs to the node library
 * (src/nodes/common/bias.ts); the engine only moves, sizes and summarises them.
 */
export interface BiasTermData {
  type: string;
  [field: string]: unknown;
}

export interface BiasValue {
  kind: 'bias';
  terms: BiasTermData[];
}

/**
 * KV-cache contents. `k` and `v` are what the cache holds, in cache order ([Hkv, Tkept, D]);
 * `positions` are the original positions of the kept tokens. When paged, `blocks` holds the block
 * storage and the per-sequence block tables (vLLM layout).
 */
export interface KvValue {
  kind: 'kv';
  k: Tensor;
  v: Tensor;
  positions: Int32Array;
  paged?: {
    blockSize: number;
    /** [numBlocks, Hkv, blockSize, D] */
    keyBlocks: Tensor;
    valueBlocks: Tensor;
    /** blockTables[s][i] = physical block of logical block i of sequence s. */
    blockTables: number[][];
    /** Number of tokens of each sequence. */
    lengths: number[];
  };
}

export type MetricValue = number | string | boolean | null | MetricValue[] | { [key: string]: MetricValue };
export interface MetricsValue {
  kind: 'metrics';
  values: Record<string, MetricValue>;
}

/** Where a model's weights come from: tensors by their Hugging Face names, read lazily. */
export interface WeightSource {
  /** Every tensor name, e.g. "model.layers.0.self_attn.q_proj.weight". */
  names(): string[];
  /** dtype as stored ("F32", "F16", "BF16") and shape, or undefined when there is no such tensor. */
  info(name: string): { dtype: string; shape: number[] } | undefined;
  /** Reads one tensor as float32 (converted from F16/BF16). */
  read(name: string): Promise<Tensor>;
  /** Bytes held in memory now (weights resident), for the profiler. */
  residentBytes(): number;
  /** Changes when the weights do (e.g. a hash of the headers and the files' sizes and times): the result cache's key. */
  fingerprint?(): string;
}

/**
 * A model: a Hugging Face config (its config.json, HF key names unchanged) and, when loaded, its
 * weights. `model.config` makes one without weights (enough to size a model); `model.load` with.
 */
export interface ModelValue {
  kind: 'model';
  config: Record<string, unknown>;
  weights?: WeightSource;
  /** Where it came from, for messages (a file or folder name). */
  source?: string;
}

export type Value = TextValue | TokensValue | Tensor | KvValue | BiasValue | MetricsValue | ModelValue;

export interface ValueOfKind {
  text: TextValue;
  tokens: TokensValue;
  tensor: Tensor;
  kv: KvValue;
  bias: BiasValue;
  metrics: MetricsValue;
  model: ModelValue;
}

/**
 * What the compiler knows about a value before it exists. `shape` entries are null when only the
 * run can tell (e.g. the number of tokens of a text). For `tokens` the shape is [T]; for `kv` it is
 * [Hkv, Tkept, D]; for `bias` [H?, T?] as far as known.
 */
export interface PortShape {
  kind: PortKind;
  dtype?: DType;
  shape?: (number | null)[];
  dims?: string[];
  /** For `metrics`: the top-level names it will hold, where the node can say before running (checks are validated against them). */
  keys?: string[];
  /** For `model`: the bytes its weights will hold once read (float32), where the node can say before running. */
  bytes?: number;
}

export const text = (s: string): TextValue => ({ kind: 'text', text: s });
export const metrics = (values: Record<string, MetricValue>): MetricsValue => ({ kind: 'metrics', values });
export const tensorShape = (dtype: DType, shape: (number | null)[], dims?: string[]): PortShape =>
  dims ? { kind: 'tensor', dtype, shape, dims } : { kind: 'tensor', dtype, shape };

/** Bytes held by a value (what the memory plan and the profiler count). */
export function valueBytes(v: Value): number {
  switch (v.kind) {
    case 'tensor':
      return v.data.byteLength;
    case 'text':
      return v.text.length * 2;
    case 'tokens':
      return v.ids.byteLength + v.offsets.byteLength;
    case 'kv':
      return (
        (v.paged ? v.paged.keyBlocks.data.byteLength + v.paged.valueBlocks.data.byteLength : 0) +
        v.k.data.byteLength +
        v.v.data.byteLength +
        v.positions.byteLength
      );
    case 'bias':
      return v.terms.reduce((n, t) => n + biasTermBytes(t), 0);
    case 'metrics':
      return metricBytes(v.values);
    case 'model':
      return v.weights?.residentBytes() ?? 0;
  }
}

/** A bias term's bytes: its typed arrays (a per-token segment map), or 16 for a term of a few numbers. */
function biasTermBytes(t: BiasTermData): number {
  const arrays = Object.values(t).filter(ArrayBuffer.isView);
  return arrays.length ? arrays.reduce((n, a) => n + a.byteLength, 0) : 16;
}

/** Bytes a value of this shape will hold, or null when the shape is not fully known. */
export function predictedBytes(s: PortShape): number | null {
  if (s.kind === 'tensor' || s.kind === 'kv') {
    if (!s.shape || s.shape.some((d) => d === null)) return null;
    const n = (s.shape as number[]).reduce((a, b) => a * b, 1);
    const per = s.dtype === 'uint8' ? 1 : 4;
    return s.kind === 'kv' ? 2 * n * per : n * per;
  }
  if (s.kind === 'tokens') {
    const t = s.shape?.[0];
    return t === null || t === undefined ? null : t * 12;
  }
  if (s.kind === 'model') return s.bytes ?? 0;
  return 0;
}

/**
 * Bytes of a metrics value by structure (8 per number, 2 per character of strings and keys), not by
 * its JSON text: a measured figure (tokens/s) must not change the plan by the digits it prints with.
 */
function metricBytes(m: MetricValue | Record<string, MetricValue>): number {
  if (m === null || typeof m === 'boolean') return 1;
  if (typeof m === 'number') return 8;
  if (typeof m === 'string') return 2 * m.length;
  if (Array.isArray(m)) return m.reduce((n: number, x) => n + metricBytes(x), 0);
  let n = 0;
  for (const [k, x] of Object.entries(m)) n += 2 * k.length + metricBytes(x);
  return n;
}

