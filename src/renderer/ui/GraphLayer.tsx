// Zoomed out past FAR_ZOOM, the graph drawn on one <canvas> (graph-layer.ts) while React Flow's node
// and edge DOM is hidden (styles.css: .canvas.far). It redraws on the next animation frame when the
// view moves, and rebuilds its scene when the graph, the run state, the analysis or the UI (heat,
// theme) changes; it never re-renders React. Canvas.tsx handles the pointer and the wheel while it
// is shown, through the `Layer` it publishes.
import { useStore as useRfStore, useStoreApi, type ReactFlowState } from '@xyflow/react';
import { memo, useEffect, useRef, type MutableRefObject } from 'react';
import { useApp } from '../app-context.js';
import type { FlowEdge, FlowNode } from '../model/graph.js';
import { useStore } from '../state/store.js';
import { buildScene, drawScene, FAR_ZOOM, lodTextPx, type Scene } from './graph-layer.js';

type App = ReturnType<typeof useApp>;
type FlowState = ReactFlowState<FlowNode, FlowEdge>;

/** `?graphLayer=off`: DOM nodes at every zoom, the editor benchmark's side-by-side baseline (bench/editor.ts). */
export const LAYER_OFF = typeof location !== 'undefined' && new URLSearchParams(location.search).get('graphLayer') === 'off';

/**
 * Whether the graph is drawn on the canvas: zoomed out past FAR_ZOOM, once every node has been
 * measured. A node not measured yet (a node just added) shows the DOM for the frames React Flow
 * needs to measure it, so that the layer draws every node at its real size; except while a large
 * file's DOM nodes are still being mounted behind the layer (Canvas.tsx: the last ones are hidden).
 */
export function useFar(): boolean {
  const { editor } = useApp();
  const zoomedOut = useRfStore((s) => !LAYER_OFF && s.transform[2] < FAR_ZOOM);
  const mounting = useRfStore((s) => !!s.nodes.at(-1)?.hidden);
  const measured = useStore(editor.store, (s) => s.nodes.length > 0 && s.nodes.every((n) => n.measured?.height));
  return zoomedOut && (measured || mounting);
}

/** The scene of React Flow's graph, with the run state, analysis and heat mode of the app. */
function sceneOf(app: App, s: FlowState, css: CSSStyleDeclaration): Scene {
  return buildScene({
    nodes: s.nodes,
    edges: s.edges,
    internals: (id) => s.nodeLookup.get(id)?.internals,
    catalog: app.catalog,
    runs: app.metrics.get().nodes,
    issues: app.analysis.store.get().byNode,
    heat: app.ui.store.get().heat,
    color: (name) => css.getPropertyValue(name).trim(),
  });
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
      scene: () => (scene ??= sceneOf(app, rf.getState(), getComputedStyle(canvas))),
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
      const prop = (name: string) => css.getPropertyValue(name).trim();
      const palette = { background: prop('--node-bg'), accent: prop('--accent'), text: prop('--text'), text2: prop('--text-2') };
      const scene = layer.scene();
      drawScene(ctx!, scene, { ...layer.view, width: s.width, height: s.height }, dpr, palette);
      canvas.dataset.nodes = String(scene.nodes.length); // what the editor benchmark waits for
      // The zoomed-out text's size on screen (0: left out), for the layout test.
      const px = lodTextPx(layer.view.zoom);
      const textPx = px ? px.toFixed(1) : '0';
      if (canvas.dataset.textPx !== textPx) canvas.dataset.textPx = textPx;
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
