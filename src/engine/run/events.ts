// What a run streams to its caller, and the profile it leaves behind. Plain data: these cross
// worker boundaries through Comlink and are written as profile.json.
import type { BackendName, ProgressDetail } from '../node.js';
import type { BackendPeak } from '../backends/peak.js';

export interface BackendInfo {
  requested: BackendName;
  /** The backend that actually ran. */
  name: BackendName;
  /** Why the requested backend was not used, when it was not. */
  fallbackReason?: string;
  adapter?: { vendor: string; architecture: string; description?: string; isFallbackAdapter?: boolean; features?: string[]; limits?: Record<string, number> };
  /** Where it runs: "node worker_thread", "web worker", "in-process". */
  host: string;
  /** wasm: the threads its kernels (attention, scan, quantize) run on in this run (1 where memory cannot be shared). */
  threads?: number;
}

export type NodeStatus = 'queued' | 'running' | 'done' | 'cached' | 'failed' | 'skipped';

export interface NodeProfile {
  nodeId: string;
  type: string;
  variant?: string;
  status: NodeStatus;
  /** Start and end, ms since the run started. */
  startMs: number;
  endMs: number;
  wallMs: number;
  /** Bytes allocated by the node (tfjs tensors, tracked scratch, outputs). */
  bytesAllocated: number;
  /** Peak bytes held while the node ran (its working memory plus its outputs). */
  peakBytes: number;
  outputBytes: number;
  /** Predicted peak of this node alone: workspace + outputs (from `cost` and the inferred shapes). */
  predictedPeakBytes: number;
  /** Bytes of values alive while the node ran (its inputs and other pending values), measured. */
  liveBytes: number;
  flops: number;
  /** flops / wall time, in GFLOP/s; null when the node does no arithmetic to speak of. */
  gflops: number | null;
  /** bytesMoved (cost model) / wall time, in GB/s; null without a byte count. Absent on nodes that did not run. */
  gbps?: number | null;
  /** gflops and gbps as % of the backend's measured peak (RunProfile.peak): the roofline. */
  peakFlopsPct?: number | null;
  peakBytesPct?: number | null;
  /** Kernels that could not run here, each with the implementation that ran instead and why (absent: none). */
  fallbacks?: string[];
  /** GPU time of the node's own WGSL kernels from timestamp queries (tfjs's ops not included); absent when it ran none. */
  gpuMs?: number;
  /** Why a node that ran a WGSL kernel has no gpuMs (the adapter has no 'timestamp-query'). */
  gpuMsUnavailable?: string;
  /** Float values that are NaN or ±Infinity, per output port (only ports that have any). */
  nonFinite?: Record<string, number>;
  error?: string;
}

export interface MemorySample {
  tMs: number;
  bytes: number;
}

export interface RunProfile {
  /** Schema of this object: "context-lab/profile", version 1 (see docs/profile.md). */
  format: 'context-lab/profile';
  version: 1;
  pipeline: string;
  backend: BackendInfo;
  status: 'ok' | 'failed' | 'cancelled';
  startedAt: string;
  totalMs: number;
  predictedPeakBytes: number;
  measuredPeakBytes: number;
  nodes: NodeProfile[];
  memory: MemorySample[];
  /** The backend's f32 multiply-add peak and copy bandwidth, measured once per session (backends/peak.ts). */
  peak?: BackendPeak;
  /** Why there is no peak, when there is none. */
  peakError?: string;
}

export type RunEvent =
  | { type: 'run-started'; backend: BackendInfo; nodes: string[]; predictedPeakBytes: number }
  | { type: 'node-started'; nodeId: string; tMs: number }
  | { type: 'node-progress'; nodeId: string; fraction: number; detail?: ProgressDetail }
  | { type: 'node-finished'; nodeId: string; profile: NodeProfile; outputs: Record<string, ValueSummary> }
  | { type: 'node-failed'; nodeId: string; message: string; profile: NodeProfile }
  | { type: 'node-skipped'; nodeId: string; reason: string }
  | { type: 'memory'; sample: MemorySample }
  | { type: 'run-finished'; status: RunProfile['status']; profile: RunProfile };

/** A small description of a value for overlays and previews (full values are fetched on demand). */
export interface ValueSummary {
  kind: string;
  dtype?: string;
  shape?: number[];
  bytes: number;
  stats?: { min: number; max: number; mean: number; std: number };
  histogram?: { min: number; max: number; counts: number[] };
  /** For metrics values, the metrics themselves. */
  metrics?: Record<string, unknown>;
  /** For text and tokens, a preview. */
  preview?: string;
}
