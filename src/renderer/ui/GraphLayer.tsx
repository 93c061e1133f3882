// Zoomed out past FAR_ZOOM, the graph drawn on one <canvas> (graph-layer.ts) while React Flow's node
// and edge DOM is hidden (styles.css: .canvas.far). It redraws on the next animation frame when the
// view moves, and rebuilds its scene when the graph, the run state, the analysis or the UI (heat,
// theme) changes; it never re-renders React. Canvas.tsx handles the pointer and the wheel while it
// is shown, through the `Layer` it publishes.
import { useStore as useRfStore, useStoreApi, type ReactFlowState } from '@xyflow/react';
import { memo, useEffect, useRef, type MutableRefObject } from 'react';
import { useApp } from '../app-context.js';
import { PORT_COLORS } from '../model/catalog.js';
import type { FlowEdge, FlowNode } from '../model/graph.js';
import { estimateHeight, NODE_WIDTH } from '../model/layout.js';
import { heatScale } from '../state/derived.js';
import { useStore } from '../state/store.js';
import { drawScene, FAR_ZOOM, type Scene, type SceneEdge, type SceneNode } from './graph-layer.js';
import { heatColor } from './PipelineNode.js';

type App = ReturnType<typeof useApp>;
type FlowState = ReactFlowState<FlowNode, FlowEdge>;

/** `?graphLayer=off`: DOM nodes at every zoom, the editor benchmark's side-by-side baseline (bench/editor.ts). */
const LAYER_OFF = typeof location !== 'undefined' && new URLSearchParams(location.search).get('graphLayer') === 'off';

/**
 * Whether the graph is drawn on the canvas: zoomed out past FAR_ZOOM, once every node has been
 * measured. A node not measured yet (a file just opened, a node just added) shows the DOM for the
 * frames React Flow needs to measure it, so the layer draws every node at its real size.
 */
export function useFar(): boolean {
  const { editor } = useApp();
  const zoomedOut = useRfStore((s) => !LAYER_OFF && s.transform[2] < FAR_ZOOM);
  const measured = useStore(editor.store, (s) => s.nodes.length > 0 && s.nodes.every((n) => n.measured?.height));
  return zoomedOut && measured;
}

// An output's handle centre when React Flow has no bounds for it: model/layout.ts's port rows.
const PORT_TOP = 58;
const PORT_ROW = 21;

/** The scene in flow coordinates, with the colours the DOM nodes would have. */
function buildScene(app: App, s: FlowState, css: CSSStyleDeclaration): Scene {
  const { catalog, metrics, analysis, ui } = app;
  const runs = metrics.get().nodes;
  const issues = analysis.store.get().byNode;
  const heat = ui.store.get().heat;
  const scale = heatScale(runs);
  const v = (name: string) => css.getPropertyValue(name).trim();
  const rings: Record<string, string | null> = {
    idle: null,
    queued: v('--text-3'),
    running: v('--accent'),
    done: v('--ok'),
    cached: '#2bb3c0', // .st-cached .status-dot
    failed: v('--err'),
    skipped: v('--warn'),
  };
  const nodes: SceneNode[] = [];
  const byId = new Map<string, SceneNode>();
  for (const n of s.nodes) {
    const pos = s.nodeLookup.get(n.id)?.internals.positionAbsolute ?? n.position;
    const fam = catalog.familyStyle(catalog.def(n.data.type)?.family ?? 'unknown').color;
    const m = runs[n.id];
    let fill = fam;
    if (heat !== 'off' && m?.status === 'done' && m.profile) {
      const [value, max] = heat === 'ms' ? [m.profile.wallMs, scale.ms] : [m.profile.peakBytes, scale.bytes];
      fill = heatColor(max > 0 ? value / max : 0);
    }
    const node: SceneNode = {
      id: n.id,
      x: pos.x,
      y: pos.y,
      w: n.measured?.width ?? NODE_WIDTH,
      h: n.measured?.height ?? estimateHeight(n, catalog),
      fill,
      stripe: fam,
      ring: rings[m?.status ?? 'idle'] ?? null,
      issue: !!issues[n.id]?.length,
      selected: !!n.selected,
    };
    nodes.push(node);
    byId.set(n.id, node);
  }
  const handle = (node: SceneNode, kind: 'source' | 'target', port: string | null | undefined): { x: number; y: number } => {
    const hb = s.nodeLookup.get(node.id)?.internals.handleBounds?.[kind]?.find((h) => h.id === port);
    if (hb) return { x: node.x + hb.x + hb.width / 2, y: node.y + hb.y + hb.height / 2 };
    const def = catalog.def(s.nodeLookup.get(node.id)?.data.type ?? '');
    const i = Math.max(0, Object.keys((kind === 'source' ? def?.outputs : def?.inputs) ?? {}).indexOf(port ?? ''));
    return { x: kind === 'source' ? node.x + node.w : node.x, y: node.y + PORT_TOP + (i + 0.5) * PORT_ROW };
  };
  const edges = new Map<string, SceneEdge[]>();
  for (const e of s.edges) {
    const [a, b] = [byId.get(e.source), byId.get(e.target)];
    if (!a || !b) continue;
    const kind = catalog.def(s.nodeLookup.get(e.source)?.data.type ?? '')?.outputs[e.sourceHandle ?? '']?.kind;
    const color = kind ? PORT_COLORS[kind] : v('--border-strong');
    const [p, q] = [handle(a, 'source', e.sourceHandle), handle(b, 'target', e.targetHandle)];
    let list = edges.get(color);
    if (!list) edges.set(color, (list = []));
    list.push({ x0: p.x, y0: p.y, x1: q.x, y1: q.y, color });
  }
  return { nodes, edges };
}

/**
 * The drawn layer, for Canvas.tsx's input handling while zoomed out. Pans and wheel zooms there move
 * `view` and redraw the canvas without touching React Flow (whose store update wakes every node and
 * edge component, hidden or not); the view is handed to React Flow when the gesture ends.
 */
export interface Layer {
  /** The scene drawn, in flow coordinates. */
  scene(): Scene;
  /** The viewport drawn: React Flow's, except while a gesture moves it. */
  view: { x: number; y: number; zoom: number };
  /** A gesture is moving `view`: React Flow's transform is stale until `sync()`. */
  busy: boolean;
  /** Draws `view` on the next frame. */
  redraw(): void;
  /** Hands `view` to React Flow. */
  sync(): void;
}

export const GraphLayer = memo(function GraphLayer({ layerRef }: { layerRef: MutableRefObject<Layer | null> }) {
  return useFar() ? <FarCanvas layerRef={layerRef} /> : null;
});

function FarCanvas({ layerRef }: { layerRef: MutableRefObject<Layer | null> }) {
  const app = useApp();
  const rf = useStoreApi<FlowNode, FlowEdge>();
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current!;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    let scene: Scene | null = null;
    let frame = 0;
    const transform = () => {
      const [x, y, zoom] = rf.getState().transform;
      return { x, y, zoom };
    };
    const layer: Layer = {
      scene: () => (scene ??= buildScene(app, rf.getState(), getComputedStyle(canvas))),
      view: transform(),
      busy: false,
      redraw: () => void (frame ||= requestAnimationFrame(draw)),
      sync: () => void rf.getState().panZoom?.setViewport(layer.view, { duration: 0 }),
    };
    function draw() {
      frame = 0;
      const s = rf.getState();
      const css = getComputedStyle(canvas);
      const dpr = window.devicePixelRatio || 1;
      const [w, h] = [Math.round(s.width * dpr), Math.round(s.height * dpr)];
      if (canvas.width !== w || canvas.height !== h) [canvas.width, canvas.height] = [w, h];
      const palette = { background: css.getPropertyValue('--node-bg').trim(), accent: css.getPropertyValue('--accent').trim() };
      drawScene(ctx!, layer.scene(), { ...layer.view, width: s.width, height: s.height }, dpr, palette);
    }
    const rebuild = () => {
      scene = null;
      layer.redraw();
    };
    let last = rf.getState();
    const offs = [
      rf.subscribe((s) => {
        if (s.nodes !== last.nodes || s.edges !== last.edges) rebuild();
        // React Flow moved the view (fit, zoom buttons, minimap, a sync): draw what it shows.
        if (s.transform !== last.transform && !layer.busy) layer.view = transform();
        if (s.transform !== last.transform || s.width !== last.width || s.height !== last.height) layer.redraw();
        last = s;
      }),
      app.metrics.subscribe(rebuild),
      app.analysis.store.subscribe(rebuild),
      app.ui.store.subscribe(rebuild),
    ];
    layerRef.current = layer;
    draw();
    return () => {
      cancelAnimationFrame(frame);
      for (const off of offs) off();
      if (layerRef.current === layer) layerRef.current = null;
    };
  }, [app, rf, layerRef]);
  return <canvas ref={ref} className="graph-layer" data-testid="graph-layer" aria-hidden />;
}
