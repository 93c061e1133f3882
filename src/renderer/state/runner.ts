// Runs the document in the engine worker and streams its events into the metrics store (batched per
// animation frame). Also: backend selection, cancel, sweeps, and fetching values for previews.
import type { BackendName } from '../../engine/node.js';
import type { BackendInfo, RunEvent } from '../../engine/run/events.js';
import type { Value } from '../../engine/values.js';
import type { Override } from '../../engine/schema/overrides.js';
import { dict } from '../../engine/dict.js';
import { Comlink, EngineWorkerDied, startEngine, type EngineClient } from '../engine/client.js';
import type { Editor } from './editor.js';
import { idleRun, type Metrics, type MetricsState, type NodeMetrics } from './metrics.js';
import { createStore } from './store.js';
import { initialBackend, storeBackend, storedBackend, storedThreads, storeThreads } from './backend-choice.js';
import { formatBytes } from '../model/format.js';
import { affectedNodes, runSweep as runEngineSweep, type SweepPoint as EngineSweepPoint } from '../../engine/run/sweep.js';

export interface RunnerSettings {
  backend: BackendName;
  /** What the worker reported for the chosen backend (adapter, fallback). */
  info?: BackendInfo;
  /** Why this backend (the user's last choice, or what the machine has), for the selector's tooltip. */
  reason?: string;
  /** The worker is starting the chosen backend; a run waits for it. */
  starting: boolean;
  busy: boolean;
  /** Cancel was pressed and the run has not stopped yet. */
  cancelling: boolean;
  /** Stop & keep was pressed: stoppable nodes end after their current step; the run goes on. */
  stopping?: boolean;
  error?: string;
  /** Pre-flight memory guard, bytes. */
  memoryBudget: number;
  /** Threads of the wasm kernels; undefined: auto (the cores available). Kept across reloads. */
  threads?: number;
}

export type SweepPoint = EngineSweepPoint<number>;

export interface SweepState {
  running: boolean;
  node?: string;
  param?: string;
  values: number[];
  points: SweepPoint[];
  /** The swept node and its downstream nodes in topological order: what the sweep can change. */
  affected: string[];
  current?: number;
  backend?: BackendInfo;
  /** performance.now() when the sweep ended, so the run bar can tell it from a later run. */
  finishedAt?: number;
}

export const GiB = 1024 ** 3;

/** Before the adapter has been asked: the stored choice, else a guess from navigator.gpu. */
export function defaultBackend(): BackendName {
  return storedBackend() ?? (typeof navigator !== 'undefined' && 'gpu' in navigator ? 'webgpu' : 'wasm');
}

/** A budget that admits `predictedBytes`: the next power of two GiB (at least twice the current one). */
export function suggestBudget(predictedBytes: number, currentBytes: number): number {
  const need = Math.max(predictedBytes, 2 * currentBytes);
  return 2 ** Math.ceil(Math.log2(need / GiB)) * GiB;
}

/** How long a cancelled run may keep the UI busy before it is left to stop in the background. */
const CANCEL_UI_MS = 100;
/** How long a cancelled run may keep the worker before the worker is replaced. */
const CANCEL_REPLACE_MS = 3000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RunnerHost {
  baseDirOf?(id: unknown): string | undefined;
  readData?(path: string): Promise<Uint8Array>;
}

export function createRunner(editor: Editor, metrics: Metrics, host: RunnerHost = {}) {
  let client: EngineClient | undefined;
  const engine = () => (client ??= startEngine(host.readData ? (p) => host.readData!(p) : undefined));
  /** Relative paths in params resolve against the pipeline file's folder (when the host knows it). */
  const baseDir = () => host.baseDirOf?.(editor.store.get().file.id);
  const settings = createStore<RunnerSettings>({ backend: defaultBackend(), starting: false, busy: false, cancelling: false, memoryBudget: 4 * GiB, threads: storedThreads() });
  const sweep = createStore<SweepState>({ running: false, values: [], points: [], affected: [] });
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

  // Runs wait for the default backend to be decided and for the chosen backend to start: a run sent
  // while wasm is still loading used to race its start-up.
  let userChose = false;
  // The backend starts as soon as it is decided, so that it is ready when the user presses Run.
  let backendReady: Promise<unknown> = initialBackend().then(({ backend, reason }) => {
    if (userChose) return;
    settings.set((s) => ({ ...s, reason }));
    return startBackend(backend);
  });

  function startBackend(name: BackendName, retry = false): Promise<BackendInfo | undefined> {
    settings.set((s) => ({ ...s, backend: name, starting: true, info: undefined, error: undefined }));
    const p = engine()
      .api.useBackend(name, { retry })
      .then(
        (info) => {
          if (settings.get().backend === name) settings.set((s) => ({ ...s, info, starting: false }));
          return info;
        },
        (err: Error) => {
          if (settings.get().backend === name) settings.set((s) => ({ ...s, starting: false, error: err.message }));
          return undefined;
        },
      );
    backendReady = p;
    return p;
  }

  /** Waits for the chosen backend, following a re-choice (or a replaced worker) made meanwhile. */
  async function backendSettled() {
    let p: Promise<unknown>;
    do await (p = backendReady);
    while (p !== backendReady);
  }

  /** The user picks a backend (remembered across reloads); `retry` starts again one that fell back. */
  function selectBackend(name: BackendName, opts: { retry?: boolean } = {}): Promise<BackendInfo | undefined> {
    userChose = true;
    storeBackend(name);
    settings.set((s) => ({ ...s, reason: `${name}: your choice` }));
    return startBackend(name, opts.retry);
  }

  /** The worker's current run; after a cancel it may still be inside a kernel. */
  let inflight: Promise<unknown> | undefined;
  function track<P extends Promise<unknown>>(p: P): P {
    inflight = p;
    p.then(
      () => inflight === p && (inflight = undefined),
      () => inflight === p && (inflight = undefined),
    );
    return p;
  }

  function replaceWorker() {
    console.warn('the engine worker did not stop after cancel; replacing it');
    client?.terminate();
    client = undefined;
    inflight = undefined;
    void startBackend(settings.get().backend);
  }

  /** Waits for a cancelled run still in the worker; replaces the worker when it does not return in time. */
  async function drain() {
    const p = inflight;
    if (!p) return;
    const returned = await Promise.race([p.then(() => true, () => true), sleep(CANCEL_REPLACE_MS).then(() => false)]);
    if (!returned && inflight === p) replaceWorker();
  }

  async function run(opts: { cache?: boolean } = {}) {
    const seq = ++runSeq;
    const doc = editor.doc();
    metrics.set((s) => ({ ...s, run: { ...idleRun, phase: 'starting', startedAt: performance.now(), previous: s.run.profile ?? s.run.previous } }));
    settings.set((s) => ({ ...s, busy: true, cancelling: false, stopping: false }));
    try {
      await drain();
      await backendSettled();
      if (seq !== runSeq) return;
      const { backend, memoryBudget, threads } = settings.get();
      const api = engine().api;
      if (opts.cache === false) await api.clearCache();
      const finished = new Promise<void>((resolve) => (onRunFinished = resolve));
      // Events of a run the UI has let go of (cancelled) are dropped.
      const onEvent = (e: RunEvent) => seq === runSeq && enqueue(e);
      const r = await track(api.run(doc, { backend, keep: 'all', memoryBudget, threads, baseDir: baseDir() }, Comlink.proxy(onEvent)));
      // Invalid or refused runs stream nothing; a finished one waits (briefly) for its trailing events.
      if (r.ok) await Promise.race([finished, sleep(2000)]);
      onRunFinished = undefined;
      flush();
      if (seq !== runSeq) return;
      if (!r.ok) {
        const refusal = r.refusal;
        metrics.set((s) => ({
          ...s,
          nodes: refusal ? dict([[refusal.nodeId, { status: 'skipped', error: `refused: needs ${formatBytes(refusal.predictedBytes)} at peak, over the ${formatBytes(refusal.budgetBytes)} budget` }]]) : s.nodes,
          run: { ...s.run, phase: 'done', status: r.stage, issues: r.issues, refusal },
        }));
      } else {
        metrics.set((s) => ({ ...s, run: { ...s.run, phase: 'done', status: r.status, checks: r.checks, executed: r.executed, profile: r.profile, backend: r.profile.backend } }));
        settings.set((s) => ({ ...s, info: r.profile.backend }));
      }
    } catch (err) {
      if (seq !== runSeq) return;
      flush();
      const message = workerDied(err) ?? (err as Error).message;
      metrics.set((s) => ({ ...s, run: { ...s.run, phase: 'done', status: 'failed', issues: [{ path: '$', message }] } }));
    } finally {
      if (seq === runSeq) settings.set((s) => ({ ...s, busy: false, cancelling: false }));
    }
  }

  /**
   * After the worker died (out of memory, a crash): the nodes it was running fail with the reason, the
   * rest are skipped, and the next run starts a fresh worker. Returns the message naming the node, or
   * undefined when `err` is not a worker death.
   */
  function workerDied(err: unknown): string | undefined {
    if (!(err instanceof EngineWorkerDied)) return undefined;
    client?.terminate();
    client = undefined;
    inflight = undefined;
    const running = Object.entries(metrics.get().nodes).filter(([, m]) => m.status === 'running').map(([id]) => id);
    const message = running.length ? `${err.message}, while node ${running.map((id) => `"${id}"`).join(', ')} ran` : err.message;
    metrics.set((s) => ({
      ...s,
      nodes: dict(Object.entries(s.nodes).map(([id, m]) =>
        [id, m.status === 'running' ? { ...m, status: 'failed' as const, error: err.message } : m.status === 'queued' ? { ...m, status: 'skipped' as const, error: 'the engine worker stopped' } : m] as const)),
    }));
    return message;
  }

  const active = () => {
    const phase = metrics.get().run.phase;
    return phase === 'running' || phase === 'starting' || sweep.get().running;
  };

  /** Shows the run as cancelled and lets go of it: its late result and events are ignored. */
  function letGo() {
    runSeq++;
    onRunFinished = undefined;
    settings.set((s) => ({ ...s, busy: false, cancelling: false }));
    metrics.set((s) => ({
      ...s,
      nodes: dict(Object.entries(s.nodes).map(([id, m]) => [id, m.status === 'running' || m.status === 'queued' ? { ...m, status: 'skipped' as const, error: 'cancelled' } : m] as const)),
      run: { ...s.run, phase: 'done', status: 'cancelled' },
    }));
    sweep.set((s) => (s.running ? { ...s, running: false, current: undefined, finishedAt: performance.now() } : s));
  }

  /**
   * Cancels the run: the kernels see the shared flag at their next check. The UI shows
   * "cancelling…" at once and is idle within CANCEL_UI_MS: a kernel that has not returned by then
   * finishes in the background (the next run waits for it, or replaces the worker).
   */
  function cancel() {
    sweepCancelled = true;
    if (!active()) return;
    client?.cancel();
    settings.set((s) => ({ ...s, cancelling: true }));
    const seq = runSeq;
    if (!inflight) return letGo(); // still waiting for the backend: nothing was sent to the worker
    setTimeout(() => {
      if (seq !== runSeq || !active()) return;
      const p = inflight;
      letGo();
      setTimeout(() => p && inflight === p && replaceWorker(), CANCEL_REPLACE_MS);
    }, CANCEL_UI_MS);
  }

  /** Stop & keep: stoppable nodes (training, a search) end after their current step; the nodes after them still run. */
  function stop() {
    if (!active() || settings.get().cancelling) return;
    client?.stop();
    settings.set((s) => ({ ...s, stopping: true }));
  }

  async function runSweep(node: string, param: string, values: number[]) {
    sweepCancelled = false;
    const doc = editor.doc();
    sweep.set({ running: true, node, param, values, points: [], affected: affectedNodes(doc, node) });
    settings.set((s) => ({ ...s, busy: true, cancelling: false }));
    const seq = ++runSeq;
    // A cancelled sweep is let go at once (letGo bumps runSeq): late results are not its points.
    const ours = () => seq === runSeq;
    try {
      await drain();
      await backendSettled();
      const { backend, memoryBudget, threads } = settings.get();
      await runEngineSweep(values, {
        run: async (value) => {
          const overrides: Override[] = [{ node, param, value }];
          const r = await track(engine().api.run(doc, { backend, overrides, memoryBudget, threads, cache: false, keep: 'sinks', baseDir: baseDir() }));
          if (r.ok && ours()) sweep.set((s) => ({ ...s, backend: r.profile.backend }));
          return r;
        },
        died: workerDied,
        stopped: () => sweepCancelled || !ours(),
        onStart: (value, warmup) => warmup || sweep.set((s) => ({ ...s, current: value })),
        onPoint: (point) => ours() && sweep.set((s) => ({ ...s, points: [...s.points, point] })),
      });
    } finally {
      if (ours()) {
        sweep.set((s) => ({ ...s, running: false, current: undefined, finishedAt: performance.now() }));
        settings.set((s) => ({ ...s, busy: false, cancelling: false }));
      }
    }
  }

  /** A value from the last run (runs keep every output for previews). */
  async function fetchValue(nodeId: string, port: string): Promise<Value | undefined> {
    if (!client) return undefined;
    return client.api.getOutput(nodeId, port);
  }

  function resetResults() {
    metrics.set({ nodes: dict(), run: idleRun });
  }

  /** Raises the memory guard's budget (the refusal's offer). */
  function setBudget(bytes: number) {
    settings.set((s) => ({ ...s, memoryBudget: bytes }));
  }

  /** The wasm kernels' thread count for the next runs (undefined: auto), remembered across reloads. */
  function setThreads(n: number | undefined) {
    storeThreads(n);
    settings.set((s) => ({ ...s, threads: n }));
  }

  return { settings, sweep, selectBackend, run, cancel, stop, runSweep, fetchValue, resetResults, setBudget, setThreads, sharedCancel: () => engine().sharedCancel };
}
export type Runner = ReturnType<typeof createRunner>;

/** Applies a batch of run events to the metrics state. */
export function reduce(s: MetricsState, events: RunEvent[]): MetricsState {
  let nodes = s.nodes;
  let run = s.run;
  const setNode = (id: string, m: NodeMetrics) => {
    // Node ids are keys: records without a prototype, so ids like `constructor` or `__proto__` are ordinary.
    if (nodes === s.nodes) nodes = dict(Object.entries(nodes));
    nodes[id] = m;
  };
  for (const e of events) {
    switch (e.type) {
      case 'run-started':
        nodes = dict(e.nodes.map((id) => [id, { status: 'queued' } as NodeMetrics] as const));
        run = { ...run, phase: 'running', backend: e.backend, predictedPeakBytes: e.predictedPeakBytes, order: e.nodes, memory: [] };
        break;
      case 'node-started':
        setNode(e.nodeId, { status: 'running', progress: 0 });
        break;
      case 'node-progress':
        setNode(e.nodeId, { ...nodes[e.nodeId], status: 'running', progress: e.fraction, ...(e.detail ? { detail: e.detail } : {}) });
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
