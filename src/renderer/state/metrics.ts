// Live run results, keyed by node id, apart from the React Flow nodes: a progress tick re-renders
// only the node it concerns, never the graph.
import type { BackendInfo, MemorySample, NodeProfile, NodeStatus, RunProfile, ValueSummary } from '../../engine/run/events.js';
import type { ProgressDetail } from '../../engine/node.js';
import type { CheckResult } from '../../engine/run/checks.js';
import type { CompileIssue } from '../../engine/compile/compile.js';
import { createStore } from './store.js';
import { dict } from '../../engine/dict.js';

export interface NodeMetrics {
  status: NodeStatus;
  progress?: number;
  /** The node's own progress line and live series (a training loss curve), while it runs. */
  detail?: ProgressDetail;
  profile?: NodeProfile;
  outputs?: Record<string, ValueSummary>;
  error?: string;
}

export interface RunState {
  phase: 'idle' | 'starting' | 'running' | 'done';
  status?: RunProfile['status'] | 'invalid' | 'refused';
  backend?: BackendInfo;
  startedAt?: number;
  predictedPeakBytes?: number;
  memory: MemorySample[];
  profile?: RunProfile;
  checks: CheckResult[];
  issues: CompileIssue[];
  /** A run the memory guard refused: the node over the budget, its predicted peak and the budget (bytes). */
  refusal?: { nodeId: string; predictedBytes: number; budgetBytes: number };
  /** Node ids in execution order. */
  order: string[];
  executed?: number;
  /** The previous run's profile, for comparison. */
  previous?: RunProfile;
}

export interface MetricsState {
  nodes: Record<string, NodeMetrics>;
  run: RunState;
}

export const idleRun: RunState = { phase: 'idle', memory: [], checks: [], issues: [], order: [] };

export function createMetrics() {
  return createStore<MetricsState>({ nodes: dict(), run: idleRun });
}
export type Metrics = ReturnType<typeof createMetrics>;
