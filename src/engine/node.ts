// The node contract: a node kind is declared once; palette, form, schema, docs, validation and
// export derive from this declaration.
import type { z } from 'zod';
import type * as tfc from '@tensorflow/tfjs-core';
import type { PortKind, PortShape, Value, ValueOfKind } from './values.js';

export type BackendName = 'cpu' | 'wasm' | 'webgpu';

export interface PortSpec {
  kind: PortKind;
  optional?: boolean;
  /** Expected dimension names, for docs and edge labels (e.g. ['H', 'T', 'D']). */
  dims?: string[];
  doc?: string;
  /**
   * For a `metrics` port: the schema of its values, keys described, so a view reads them by name
   * through it (and picks the nodes that declare what it draws) instead of parsing by hand.
   */
  metrics?: z.ZodType;
}
export type PortMap = Record<string, PortSpec>;

export interface Reference {
  title: string;
  year: number;
  url?: string;
}

/** Per-variant documentation for node types with a `variant` discriminated union. */
export interface VariantDoc {
  title: string;
  summary: string;
  formula?: string;
  references?: Reference[];
}

export interface Cost {
  /** Floating point operations (a multiply-add counts 2). */
  flops: number;
  /** Bytes of working memory held at once beyond inputs and outputs (score tiles, scratch). */
  workspaceBytes: number;
  /** Bytes read and written, for arithmetic intensity. */
  bytesMoved?: number;
  /** What dominates the workspace, for the memory guard's message (e.g. "scores 8×4096×4096 f32"). */
  note?: string;
}

type InValues<I extends PortMap> = {
  [K in keyof I]: I[K]['optional'] extends true ? ValueOfKind[I[K]['kind']] | undefined : ValueOfKind[I[K]['kind']];
};
type OutValues<O extends PortMap> = { [K in keyof O]?: ValueOfKind[O[K]['kind']] };
type InShapes<I extends PortMap> = {
  [K in keyof I]: I[K]['optional'] extends true ? PortShape | undefined : PortShape;
};
type OutShapes<O extends PortMap> = { [K in keyof O]?: PortShape };

export interface ProgressDetail {
  text?: string;
  /** Recent values of one quantity (≤ 200 points), e.g. the loss per step. */
  series?: { name: string; values: number[] };
}

export interface RunContext {
  nodeId: string;
  backend: BackendName;
  /** tfjs with the run's backend active. */
  tf: typeof tfc;
  /** Throws a CancelledError when the run was cancelled; kernels call it once per tile. */
  checkCancelled(): void;
  /**
   * Whether a graceful stop was asked for (the CLI's first Ctrl-C): a node that works in steps
   * (training, a search) ends after the current step and returns what it has, saying so in its
   * metrics; the run goes on, so sinks still write the result.
   */
  stopRequested?(): boolean;
  /** A node that stopped early says what share of its planned work it did; its profile's FLOPs (GFLOP/s, % of peak) scale by it. */
  workDone?(fraction: number): void;
  /**
   * Reports progress in [0, 1] within this node, with an optional line for people ("step 40/300 ·
   * loss 2.61 · ETA 1m 12s") and a live series (a training loss curve) the editor draws on the node.
   */
  progress(fraction: number, detail?: ProgressDetail): void;
  /** Whether an output port is connected; optional outputs (e.g. `probe`) are computed only then. */
  isConnected(port: string): boolean;
  /** Records working memory that a kernel allocates outside tfjs (typed arrays), for the profiler. */
  track(bytes: number): void;
  release(bytes: number): void;
  /**
   * Records that a kernel could not run here and the next implementation ran instead, with why
   * ("WGSL fused attention → wasm fused attention: …"); shown on the node, in the CLI and profile.json.
   */
  fallback?(reason: string): void;
  /**
   * A custom GPU kernel's time from timestamp queries (summed over its calls: the profile's gpuMs), or
   * why the adapter gives none (the profile's gpuMsUnavailable) — never a made-up figure.
   */
  gpuTime?(t: { ms: number } | { unavailable: string }): void;
  /** Reads a file named in params, resolved against the pipeline file's folder. */
  readFile(path: string): Promise<Uint8Array>;
  /**
   * Opens a file named in params for reads by byte range (a safetensors tensor without the rest of the
   * file), under the same read policy as readFile; hosts without ranged reads read it whole.
   */
  openFile(path: string): Promise<RandomAccessFile>;
  /** Hands a named result to the host (the CLI writes it as <out>/<name>.npy; the editor offers it). */
  emit(name: string, value: Value): void;
  /** Resolves a path in params against the pipeline file's folder. */
  resolvePath(path: string): string;
}

/** What a node's custom GPU kernel needs of the adapter for given shapes, and what runs instead without it. */
export interface AdapterNeed {
  /** The kernel and its fallback, as the run's fallback reason names them ("WGSL fused attention", "wasm fused attention"). */
  kernel: string;
  fallback: string;
  features?: { name: string; for: string }[];
  /** Minimum GPUSupportedLimits values, each with what it is for ("K/V chunks of 8 keys at head dim 128"). */
  limits?: { name: string; min: number; for: string }[];
}

export interface NodeDef<P = any, I extends PortMap = PortMap, O extends PortMap = PortMap> {
  /** Stable id used in pipeline files. */
  type: string;
  family: string;
  title: string;
  summary: string;
  formula?: string;
  references: Reference[];
  /** Parameters with defaults. Variant families use a discriminated union on `variant`. */
  params: z.ZodType<P>;
  /** Docs for each `variant` value, when the node type has variants. */
  variants?: Record<string, VariantDoc>;
  inputs: I;
  outputs: O;
  /** Output shapes from input shapes; throws ShapeError (with the port) when they do not unify. */
  infer(inputs: InShapes<I>, params: P): OutShapes<O>;
  /** Analytical cost from the inferred shapes. */
  cost?(inputs: InShapes<I>, params: P, outputs: OutShapes<O>): Cost;
  /**
   * What the node's custom WebGPU kernel needs of the adapter for these shapes (undefined: no such
   * kernel for these params); the compiler reports a fallback before the run (compile/adapter-needs.ts).
   */
  adapterNeeds?(inputs: InShapes<I>, params: P): AdapterNeed | undefined;
  run(ctx: RunContext, inputs: InValues<I>, params: P): Promise<OutValues<O>> | OutValues<O>;
  /** Plain-TypeScript reference (loops over typed arrays): the oracle for every backend. */
  reference?(inputs: InValues<I>, params: P): OutValues<O>;
  /**
   * Names the node hands to the host through ctx.emit, known from its params (a sink's file name):
   * the compiler refuses two nodes with one name, as the run would.
   */
  emits?(params: P): string[];
  /**
   * The exact computation this node approximates with these params, for the editor's accuracy
   * overlay; undefined when it is exact itself (or has no exact counterpart).
   */
  exact?(params: P): ExactCounterpart | undefined;
  /**
   * `volatile`: reads the outside world (a file), so it runs every time and its cache key is a hash
   * of what it produced. `stoppable`: works in steps and honours RunContext.stopRequested (the editor
   * offers "Stop & keep" while it runs).
   */
  flags?: { volatile?: boolean; stoppable?: boolean };
  /**
   * Fills params the node can learn from its files before compiling (a .npy's shape from its header),
   * so the compiler can infer and plan, and checks what `run` would refuse (a malformed header, a size
   * that does not match it). `readHead` gives a file's first bytes and its size, or undefined when it
   * cannot be read (the run then reports it). Throws an Error naming the file; the caller reports it
   * as an issue of the node.
   */
  prepare?(params: Record<string, unknown>, readHead: (path: string) => Promise<FileHead | undefined>): Promise<Record<string, unknown>>;
}

/**
 * What an approximate node is compared with. `sibling`: the same node type with `params`, on the same
 * inputs; each of `ports` against the sibling's port of that name (a metrics port names the `field`
 * compared: a number or an array of numbers, such as perplexity per length). `input`: the node's own
 * input (a quantizer's dequantized `out` against the `in` it quantized). `absent`: these outputs
 * restrict the computation downstream (a window mask) and the exact one has none: a node fed by one
 * is compared with a sibling that runs without that edge.
 */
export type ExactCounterpart =
  | { kind: 'sibling'; params: Record<string, unknown>; ports: ExactPort[] }
  | { kind: 'input'; pairs: { output: string; input: string }[] }
  | { kind: 'absent'; ports: string[] };

/** An output compared with the exact sibling's: a port, or one numeric field of a metrics port. */
export type ExactPort = string | { port: string; field: string };

/** Longest name a node may hand over through ctx.emit: it becomes `<name>.npy`, and file names stop at 255 bytes. */
export const MAX_EMIT_NAME = 200;

/** A file's first bytes (enough for any header the nodes read) and its size in bytes. */
export interface FileHead {
  bytes: Uint8Array;
  size: number;
}

/** A file read by byte ranges (Node: fs.open + read per range, through the host's read policy). */
export interface RandomAccessFile {
  /** The file's size in bytes. */
  size: number;
  /** Exactly `length` bytes from `offset` (callers never ask past `size`). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Changes when the file does (size and modification time), where the host knows; for cache keys. */
  version?: string;
}

/** Identity function that keeps the generic types of a declaration. */
export function defineNode<P, I extends PortMap, O extends PortMap>(def: NodeDef<P, I, O>): NodeDef<P, I, O> {
  return def;
}

/** Shape inference failure, naming the port whose shape is wrong. */
export class ShapeError extends Error {
  constructor(
    public port: string,
    message: string,
  ) {
    super(message);
    this.name = 'ShapeError';
  }
}

export class CancelledError extends Error {
  constructor() {
    super('run cancelled');
    this.name = 'CancelledError';
  }
}

export type AnyNodeDef = NodeDef<any, PortMap, PortMap>;
export type { Value };
