// Runs the document in the engine worker and streams its events into the metrics store (batched per
// animation frame). Also: backend selection, cancel, sweeps, and fetching values for previews.
import type { BackendName } from '../../engine/node.js';
import type { BackendInfo, NodeProfile, RunEvent } from '../../engine/run/events.js';
import type { Value } from '../../engine/values.js';
import type { Override } from '../../engine/schema/overrides.js';
import { Comlink, startEngine, type EngineClient } from '../engine/client.js';
import type { Editor } from './editor.js';
import { idleRun, type Metrics, type MetricsState, type NodeMetrics } from './metrics.js';
import { createStore } from './store.js';

export interface RunnerSettings {
  backend: BackendName;
  /** What the worker reported for the chosen backend (adapter, fallback). */
  info?: BackendInfo;
  busy: boolean;
  error?: string;
  /** Pre-flight memory guard, bytes. */
  memoryBudget: number;
  /** Whether the worker is being replaced after a cancel it could not honour. */
  restarting?: boolean;
}

export interface SweepPoint {
  value: number;
  status: 'ok' | 'refused' | 'failed' | 'cancelled' | 'invalid';
  message?: string;
  totalMs: number;
  nodes: Record<string, { ms: number; peak: number; type: string; variant?: string }>;
}

export interface SweepState {
  running: boolean;
  node?: string;
  param?: string;
  values: number[];
  points: SweepPoint[];
  current?: number;
  backend?: BackendInfo;
}

export const GiB = 1024 ** 3;

export function defaultBackend(): BackendName {
  return typeof navigator !== 'undefined' && 'gpu' in navigator ? 'webgpu' : 'wasm';
}

export interface RunnerHost {
  baseDirOf?(id: unknown): string | undefined;
  readData?(path: string): Promise<Uint8Array>;
}

export function createRunner(editor: Editor, metrics: Metrics, host: RunnerHost = {}) {
  let client: EngineClient | undefined;
  const engine = () => (client ??= startEngine(host.readData ? (p) => host.readData!(p) : undefined));
  /** Relative paths in params resolve against the pipeline file's folder (when the host knows it). */
  const baseDir = () => host.baseDirOf?.(editor.store.get().file.id);
  const settings = createStore<RunnerSettings>({ backend: defaultBackend(), busy: false, memoryBudget: 4 * GiB });
  const sweep = createStore<SweepState>({ running: false, values: [], points: [] });
  let runSeq = 0;
  let sweepCancelled = false;

  // Events arrive faster than frames: apply them in batches.
  let queue: RunEvent[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const events = queue;
    queue = [];
    if (events.length) metrics.set((s) => reduce(s, events));
  };
  // Events come through their own Comlink port, so they can trail the run's result: a run is shown as
  // finished only once its 'run-finished' event has arrived too.
  let onRunFinished: (() => void) | undefined;
  const enqueue = (e: RunEvent) => {
    queue.push(e);
    if (e.type === 'run-finished') onRunFinished?.();
    if (!scheduled) {
      scheduled = true;
      if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') requestAnimationFrame(flush);
      else setTimeout(flush, 16);
    }
  };

  async function selectBackend(name: BackendName): Promise<BackendInfo | undefined> {
    settings.set((s) => ({ ...s, backend: name, busy: true, error: undefined }));
    try {
      const info = await engine().api.useBackend(name);
      if (settings.get().backend === name) settings.set((s) => ({ ...s, info, busy: false }));
      return info;
    } catch (err) {
      settings.set((s) => ({ ...s, busy: false, error: (err as Error).message }));
      return undefined;
    }
  }

  async function run(opts: { cache?: boolean } = {}) {
    const seq = ++runSeq;
    const doc = editor.doc();
    const { backend, memoryBudget } = settings.get();
    metrics.set((s) => ({ ...s, run: { ...idleRun, phase: 'starting', startedAt: performance.now(), previous: s.run.profile ?? s.run.previous } }));
    settings.set((s) => ({ ...s, busy: true }));
    try {
      const api = engine().api;
      if (opts.cache === false) await api.clearCache();
      const finished = new Promise<void>((resolve) => (onRunFinished = resolve));
      const r = await api.run(doc, { backend, keep: 'all', memoryBudget, baseDir: baseDir() }, Comlink.proxy(enqueue));
      // Invalid or refused runs stream nothing; a finished one waits (briefly) for its trailing events.
      if (r.ok) await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 2000))]);
      onRunFinished = undefined;
      flush();
      if (seq !== runSeq) return;
      if (!r.ok) {
        metrics.set((s) => ({ ...s, run: { ...s.run, phase: 'done', status: r.stage, issues: r.issues } }));
      } else {
        metrics.set((s) => ({ ...s, run: { ...s.run, phase: 'done', status: r.status, checks: r.checks, executed: r.executed, profile: r.profile, backend: r.profile.backend } }));
        settings.set((s) => ({ ...s, info: r.profile.backend }));
      }
    } catch (err) {
      if (seq !== runSeq) return;
      metrics.set((s) => ({ ...s, run: { ...s.run, phase: 'done', status: 'failed', issues: [{ path: '$', message: (err as Error).message }] } }));
    } finally {
      if (seq === runSeq) settings.set((s) => ({ ...s, busy: false }));
    }
  }

  /**
   * Cancels the run: the kernels see the shared flag at their next tile. A worker that does not
   * answer within 4 s (a long kernel with no checkpoint) is replaced.
   */
  function cancel() {
    sweepCancelled = true;
    if (!client) return;
    client.cancel();
    const seq = runSeq;
    setTimeout(() => {
      const phase = metrics.get().run.phase;
      if (seq !== runSeq || (phase !== 'running' && phase !== 'starting' && !sweep.get().running)) return;
      console.warn('the engine worker did not stop within 4 s of cancel; replacing it');
      client?.terminate();
      client = undefined;
      runSeq++;
      settings.set((s) => ({ ...s, busy: false, restarting: false }));
      metrics.set((s) => ({
        ...s,
        nodes: Object.fromEntries(Object.entries(s.nodes).map(([id, m]) => [id, m.status === 'running' || m.status === 'queued' ? { ...m, status: 'skipped' } : m])) as Record<string, NodeMetrics>,
        run: { ...s.run, phase: 'done', status: 'cancelled' },
      }));
      sweep.set((s) => ({ ...s, running: false, current: undefined }));
      void selectBackend(settings.get().backend);
    }, 4000);
  }

  async function runSweep(node: string, param: string, values: number[]) {
    sweepCancelled = false;
    const doc = editor.doc();
    const { backend, memoryBudget } = settings.get();
    sweep.set({ running: true, node, param, values, points: [] });
    settings.set((s) => ({ ...s, busy: true }));
    const seq = ++runSeq;
    try {
      for (const value of values) {
        if (sweepCancelled || seq !== runSeq) break;
        sweep.set((s) => ({ ...s, current: value }));
        const overrides: Override[] = [{ node, param, value }];
        const t0 = performance.now();
        const r = await engine().api.run(doc, { backend, overrides, memoryBudget, cache: false, keep: 'sinks', baseDir: baseDir() });
        const point: SweepPoint = { value, status: 'ok', totalMs: performance.now() - t0, nodes: {} };
        if (!r.ok) {
          point.status = r.stage;
          point.message = r.issues.map((i) => i.message).join('; ');
        } else {
          point.status = r.status === 'ok' ? 'ok' : r.status;
          point.totalMs = r.profile.totalMs;
          if (r.errors.length) point.message = r.errors.map((e) => `${e.nodeId}: ${e.message}`).join('; ');
          for (const p of r.profile.nodes as NodeProfile[])
            if (p.status === 'done') point.nodes[p.nodeId] = { ms: p.wallMs, peak: p.peakBytes, type: p.type, variant: p.variant };
          sweep.set((s) => ({ ...s, backend: r.profile.backend }));
        }
        sweep.set((s) => ({ ...s, points: [...s.points, point] }));
        if (point.status === 'cancelled') break;
      }
    } finally {
      if (seq === runSeq) {
        sweep.set((s) => ({ ...s, running: false, current: undefined }));
        settings.set((s) => ({ ...s, busy: false }));
      }
    }
  }

  /** A value from the last run (runs keep every output for previews). */
  async function fetchValue(nodeId: string, port: string): Promise<Value | undefined> {
    if (!client) return undefined;
    return client.api.getOutput(nodeId, port);
  }

  function resetResults() {
    metrics.set({ nodes: {}, run: idleRun });
  }

  return { settings, sweep, selectBackend, run, cancel, runSweep, fetchValue, resetResults, sharedCancel: () => engine().sharedCancel };
}
export type Runner = ReturnType<typeof createRunner>;

/** Applies a batch of run events to the metrics state. */
export function reduce(s: MetricsState, events: RunEvent[]): MetricsState {
  let nodes = s.nodes;
  let run = s.run;
  const setNode = (id: string, m: NodeMetrics) => {
    if (nodes === s.nodes) nodes = { ...nodes };
    nodes[id] = m;
  };
  for (const e of events) {
    switch (e.type) {
      case 'run-started':
        nodes = Object.fromEntries(e.nodes.map((id) => [id, { status: 'queued' } as NodeMetrics]));
        run = { ...run, phase: 'running', backend: e.backend, predictedPeakBytes: e.predictedPeakBytes, order: e.nodes, memory: [] };
        break;
      case 'node-started':
        setNode(e.nodeId, { status: 'running', progress: 0 });
        break;
      case 'node-progress':
        setNode(e.nodeId, { ...nodes[e.nodeId], status: 'running', progress: e.fraction });
        break;
      case 'node-finished':
        setNode(e.nodeId, { status: e.profile.status, profile: e.profile, outputs: e.outputs });
        break;
      case 'node-failed':
        setNode(e.nodeId, { status: 'failed', profile: e.profile, error: e.message });
        break;
      case 'node-skipped':
        setNode(e.nodeId, { status: 'skipped', error: e.reason });
        break;
      case 'memory':
        run = { ...run, memory: [...run.memory, e.sample] };
        break;
      case 'run-finished':
        run = { ...run, status: e.status, profile: e.profile };
        if (e.status === 'cancelled')
          for (const [id, m] of Object.entries(nodes))
            if (m.status === 'running' || m.status === 'queued') setNode(id, { ...m, status: 'skipped', error: 'cancelled' });
        break;
    }
  }
  return nodes === s.nodes && run === s.run ? s : { nodes, run };
}
