// The graph canvas (React Flow): drop from the palette, connect with the compiler's port rule and
// its reason shown at the cursor, quick-add on double-click, minimap, zoom controls, snap to grid.
// Zoomed out past FAR_ZOOM the graph is drawn on one canvas (GraphLayer.tsx), which then takes the
// pointer and the wheel (useFarInput).
import {
  Background,
  BackgroundVariant,
  getViewportForBounds,
  ControlButton,
  Controls,
  MiniMap,
  ReactFlow,
  useConnection,
  useReactFlow,
  useStore as useRfStore,
  useStoreApi,
  type Connection,
  type Edge,
  type EdgeChange,
  type IsValidConnection,
  type Node,
  type NodeChange,
  type OnConnectEnd,
} from '@xyflow/react';
import { memo, useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type MouseEvent, type MutableRefObject, type RefObject } from 'react';
import { checkPortKinds } from '../../engine/compile/compile.js';
import { useApp } from '../app-context.js';
import { canvasAspect, countOverlaps, estimateHeight, layoutGraph, makeRoom, NODE_WIDTH } from '../model/layout.js';
import type { FlowEdge, FlowNode } from '../model/graph.js';
import { useStore } from '../state/store.js';
import type { Commands } from './commands.js';
import { DND_MIME } from './Palette.js';
import { PipelineNode } from './PipelineNode.js';
import { ShapeEdge } from './ShapeEdge.js';
import { GraphLayer, LAYER_OFF, useFar, type Layer } from './GraphLayer.js';
import { FAR_ZOOM, hitNode } from './graph-layer.js';

const nodeTypes = { pipeline: PipelineNode };
const edgeTypes = { shape: ShapeEdge };

/** Why an edge may not be drawn, or null: the compiler's port rule plus graph sanity (no self-loops, no cycles). */
export function connectionProblem(app: ReturnType<typeof useApp>, c: Connection | Edge): string | null {
  const { editor, catalog, analysis } = app;
  const s = editor.store.get();
  if (!c.source || !c.target || !c.sourceHandle || !c.targetHandle) return 'pick an output and an input';
  if (c.source === c.target) return 'a node cannot feed itself';
  const src = s.nodes.find((n) => n.id === c.source);
  const tgt = s.nodes.find((n) => n.id === c.target);
  const out = src && catalog.def(src.data.type)?.outputs[c.sourceHandle];
  const inp = tgt && catalog.def(tgt.data.type)?.inputs[c.targetHandle];
  if (!out || !inp) return 'connect an output (right) to an input (left)';
  const reason = checkPortKinds(out, inp, analysis.store.get().shapes[c.source]?.[c.sourceHandle]);
  if (reason) return `${c.source}.${c.sourceHandle} → ${c.target}.${c.targetHandle}: ${reason}`;
  // A path from the target back to the source would close a cycle.
  const succ = new Map<string, string[]>();
  for (const e of s.edges) succ.set(e.source, [...(succ.get(e.source) ?? []), e.target]);
  const stack = [c.target];
  const seen = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    if (id === c.source) return `this edge would close a cycle through ${c.source} and ${c.target}`;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(succ.get(id) ?? []));
  }
  return null;
}

/**
 * Below half size, node text is too small to read anyway: nodes draw as coloured boxes (much cheaper
 * to paint) with their badges, or their title before a run, in a font that grows in steps as the zoom
 * falls so that it stays 9-13 px on screen (styles.css: .lod-1 … .lod-3). Steps, not a continuous
 * scale: a class change re-styles every node, which must not happen on every frame of a zoom.
 */
export const lodLevel = (zoom: number) => (zoom >= 0.5 ? 0 : zoom >= 0.36 ? 1 : zoom >= 0.26 ? 2 : 3);
/** The smallest canvas that shows the minimap. */
const MINIMAP_MIN = { width: 640, height: 400 };
const MINIMAP_STYLE = { width: 168, height: 112 };

// Props React Flow copies into its store on every render when they change identity: a new object or
// function here makes it update its store (and, for defaultEdgeOptions, re-render every edge).
const SNAP_GRID: [number, number] = [16, 16];
const MULTI_SELECT_KEYS = ['Shift', 'Meta', 'Control'];
const DEFAULT_EDGE_OPTIONS = { type: 'shape' };
const DEFAULT_VIEWPORT = { x: 40, y: 30, zoom: 0.85 };
/** Files with more nodes are not laid out on open (and a zoomed-out one mounts its DOM nodes in chunks). */
const LAYOUT_MAX = 300;
/** DOM nodes mounted per idle period behind the far-zoom layer (~100 ms of React and measuring). */
const MOUNT_CHUNK = 50;
/** A press that moves less than this (px) is a click: a hand's jitter must not turn it into a pan. */
const CLICK_DISTANCE = 4;
const PRO_OPTIONS = { hideAttribution: false };

export function Canvas({ commands, mouseRef }: { commands: Commands; mouseRef: MutableRefObject<{ x: number; y: number } | null> }) {
  const { editor } = useApp();
  const empty = useStore(editor.store, (s) => s.nodes.length === 0);
  const lod = useRfStore((s) => lodLevel(s.transform[2]));
  const far = useFar();
  // The far-zoom layer, while it is shown.
  const layerRef = useRef<Layer | null>(null);
  // The minimap only where it leaves the canvas room (in a 1024×700 window it would cover a third of it).
  const canvasRef = useRef<HTMLDivElement>(null);
  const [roomy, setRoomy] = useState(true);
  useEffect(() => {
    const el = canvasRef.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => setRoomy(el.clientWidth >= MINIMAP_MIN.width && el.clientHeight >= MINIMAP_MIN.height));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  useFarInput(layerRef, canvasRef);

  // A change of detail level re-renders only this frame: the flow below keeps its props.
  return (
    <div
      className={`canvas${lod ? ` lod lod-${lod}` : ''}${far ? ' far' : ''}`}
      ref={canvasRef}
      data-testid="canvas"
      onPointerMove={(e) => (mouseRef.current = { x: e.clientX, y: e.clientY })}
      // A pan drags the pane: captured, the pointer's moves go straight to it instead of being
      // hit-tested against every node and edge under the cursor (a fifth of a pan frame at 500 nodes).
      onPointerDown={(e) => {
        const t = e.target as HTMLElement;
        if (e.button === 0 && !e.shiftKey && t.classList.contains('react-flow__pane')) t.setPointerCapture?.(e.pointerId);
      }}
      onPointerLeave={() => (mouseRef.current = null)}
    >
      <Flow commands={commands} mouseRef={mouseRef} canvasRef={canvasRef} roomy={roomy} layerRef={layerRef} />
      {empty && (
        <div className="canvas-empty">
          <div>
            <div className="big">Drag nodes here from the palette</div>
            <div>
              or double-click / press <span className="kbd">/</span> to search · <span className="kbd">?</span> for shortcuts
            </div>
          </div>
        </div>
      )}
    </div>
  );
}

interface FlowProps {
  commands: Commands;
  mouseRef: MutableRefObject<{ x: number; y: number } | null>;
  canvasRef: RefObject<HTMLDivElement | null>;
  roomy: boolean;
  layerRef: MutableRefObject<Layer | null>;
}

/**
 * React Flow and what it draws. Memoised, and every prop it passes on keeps its identity between
 * renders: React Flow copies changed props into its store, which wakes each node's and edge's
 * subscription, so a careless render of this component costs every node and edge on a large graph.
 */
const Flow = memo(function Flow({ commands, mouseRef, canvasRef, roomy, layerRef }: FlowProps) {
  const app = useApp();
  const { editor, ui, catalog } = app;
  const nodes = useStore(editor.store, (s) => s.nodes);
  const edges = useStore(editor.store, (s) => s.edges);
  const snap = useStore(ui.store, (s) => s.snap);
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const rf = useStoreApi<FlowNode, FlowEdge>();
  const lastProblem = useRef<string | null>(null);

  // A large file that opens zoomed out past FAR_ZOOM is drawn by the canvas layer at once, from the
  // layout's size estimates; React Flow gets its first `mounted` nodes and the rest hidden, and
  // mounts (and measures) another chunk each time the browser is idle. Zooming in mounts the rest.
  const [mounted, setMounted] = useState(Infinity);
  const zoomedIn = useRfStore((s) => s.transform[2] >= FAR_ZOOM);
  const flowNodes = useMemo(() => (mounted >= nodes.length ? nodes : nodes.map((n, i) => (i < mounted ? n : { ...n, hidden: true }))), [nodes, mounted]);
  useEffect(() => {
    if (mounted >= nodes.length) return;
    if (zoomedIn) {
      setMounted(Infinity);
      return;
    }
    const next = () => setMounted((m) => m + MOUNT_CHUNK);
    if (typeof requestIdleCallback !== 'function') return void setTimeout(next, 0);
    const id = requestIdleCallback(next, { timeout: 250 });
    return () => cancelIdleCallback(id);
  }, [mounted, nodes.length, zoomedIn]);

  useEffect(() => {
    const fit = () => requestAnimationFrame(() => flow.fitView({ padding: 0.12, maxZoom: 1, includeHiddenNodes: true }));
    // A document just opened: once its nodes are measured, tidy it up if its nodes overlap (files
    // written by hand or by another tool), then fit it in view.
    const loaded = () => {
      const nodes = editor.store.get().nodes;
      // Too large to lay out, and fitted below FAR_ZOOM: fitted now on estimated sizes, drawn by the
      // layer, its DOM nodes mounted behind it (runs before React renders the file's nodes).
      if (nodes.length > LAYOUT_MAX && !LAYER_OFF) {
        const { width, height, minZoom } = rf.getState();
        const view = getViewportForBounds(estimatedBounds(nodes, catalog), width, height, minZoom, 1, 0.12);
        if (view.zoom < FAR_ZOOM) {
          setMounted(0);
          void flow.setViewport(view);
          return;
        }
      }
      setMounted(Infinity); // the previous file's nodes may still have been mounting
      const t0 = performance.now();
      const wait = () => {
        const nodes = editor.store.get().nodes;
        if (nodes.some((n) => !n.measured?.height) && performance.now() - t0 < 1500) return void requestAnimationFrame(wait);
        const overlaps = countOverlaps(nodes, catalog);
        if (overlaps > 0 && nodes.length <= LAYOUT_MAX) {
          void layoutGraph(nodes, editor.store.get().edges, catalog, { aspect: canvasAspect(canvasRef.current) }).then((pos) => {
            editor.setPositions(pos, { keepClean: true });
            ui.toast(`Laid out the graph: ${overlaps} node${overlaps === 1 ? '' : 's'} overlapped (Ctrl Z restores the file's positions)`, 'info', 4000);
            fit();
          });
        } else fit();
      };
      requestAnimationFrame(wait);
    };
    window.addEventListener('ctxlab:fit', fit);
    window.addEventListener('ctxlab:loaded', loaded);
    return () => {
      window.removeEventListener('ctxlab:fit', fit);
      window.removeEventListener('ctxlab:loaded', loaded);
    };
  }, [flow, rf, editor, catalog, ui, canvasRef]);

  const isValidConnection: IsValidConnection<FlowEdge> = useCallback(
    (c) => {
      const problem = connectionProblem(app, c);
      lastProblem.current = problem;
      return !problem;
    },
    [app],
  );

  const onNodesChange = useCallback(
    (c: NodeChange<FlowNode>[]) => {
      // A node that grew (an error, badges, a live line appeared) pushes the nodes under it down
      // instead of running under them.
      const before = new Map(editor.store.get().nodes.map((n) => [n.id, n.measured?.height]));
      editor.onNodesChange(c);
      const grown = new Set(c.flatMap((ch) => (ch.type === 'dimensions' && ch.dimensions && (before.get(ch.id) ?? Infinity) < ch.dimensions.height ? [ch.id] : [])));
      if (grown.size) {
        const moves = makeRoom(editor.store.get().nodes, grown, catalog);
        if (moves.size) editor.setPositions(moves, { undoable: false });
      }
    },
    [editor, catalog],
  );
  const onEdgesChange = useCallback((c: EdgeChange<FlowEdge>[]) => editor.onEdgesChange(c), [editor]);
  const onConnect = useCallback(
    (c: Connection) => {
      const replaced = editor.connect(c);
      if (replaced)
        ui.toast(`${c.target}.${c.targetHandle} was fed by ${replaced.source}.${replaced.sourceHandle}: replaced by ${c.source}.${c.sourceHandle}`, 'info', 8000, {
          label: 'Undo',
          run: () => editor.undo(),
        });
    },
    [editor, ui],
  );
  const onConnectStart = useCallback(() => (lastProblem.current = null), []);
  const onConnectEnd = useCallback<OnConnectEnd>(
    (_e, state) => {
      // Dropped on a handle that the rule refused: say why.
      if (state.toHandle && !state.isValid && lastProblem.current) ui.toast(`Refused: ${lastProblem.current}`, 'error', 6000);
      lastProblem.current = null;
    },
    [ui],
  );
  const onDrop = useCallback(
    (e: DragEvent) => {
      const raw = e.dataTransfer.getData(DND_MIME);
      if (!raw) return;
      e.preventDefault();
      const { type, variant } = JSON.parse(raw) as { type: string; variant?: string };
      const pos = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      editor.addNode(type, variant, { x: pos.x - 118, y: pos.y - 20 });
    },
    [flow, editor],
  );
  const onDragOver = useCallback((e: DragEvent) => {
    if (e.dataTransfer.types.includes(DND_MIME)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    }
  }, []);
  const onDoubleClick = useCallback(
    (e: MouseEvent) => {
      const t = e.target as HTMLElement;
      if (t.closest('.react-flow__node, .react-flow__edge, .react-flow__controls, .react-flow__minimap')) return;
      commands.quickAdd({ x: e.clientX, y: e.clientY });
    },
    [commands],
  );
  const onEdgeClick = useCallback((_e: unknown, edge: FlowEdge) => ui.set({ preview: { node: edge.source, port: edge.sourceHandle ?? '' } }), [ui]);

  return (
    <ReactFlow<FlowNode, FlowEdge>
      nodes={flowNodes}
      edges={edges}
      nodeTypes={nodeTypes}
      edgeTypes={edgeTypes}
      onNodesChange={onNodesChange}
      onEdgesChange={onEdgesChange}
      onConnect={onConnect}
      isValidConnection={isValidConnection}
      onConnectStart={onConnectStart}
      onConnectEnd={onConnectEnd}
      onDrop={onDrop}
      onDragOver={onDragOver}
      onDoubleClick={onDoubleClick}
      onEdgeClick={onEdgeClick}
      zoomOnDoubleClick={false}
      deleteKeyCode={null}
      selectionKeyCode="Shift"
      multiSelectionKeyCode={MULTI_SELECT_KEYS}
      snapToGrid={snap}
      snapGrid={SNAP_GRID}
      minZoom={0.05}
      maxZoom={2.5}
      defaultEdgeOptions={DEFAULT_EDGE_OPTIONS}
      connectionRadius={26}
      defaultViewport={DEFAULT_VIEWPORT}
      proOptions={PRO_OPTIONS}
      paneClickDistance={CLICK_DISTANCE}
    >
      <Background variant={BackgroundVariant.Dots} gap={16} size={1.4} color="var(--grid)" />
      <GraphLayer layerRef={layerRef} />
      {roomy && <AutoMiniMap nodes={nodes} />}
      <Controls showInteractive={false} aria-label="Zoom controls">
        <ControlButton onClick={() => void commands.layout()} title="Auto-layout (L)" aria-label="Auto-layout">
          ⇶
        </ControlButton>
        <ControlButton onClick={commands.toggleSnap} title={`Snap to grid: ${snap ? 'on' : 'off'} (G)`} aria-label="Snap to grid" style={snap ? { color: 'var(--accent)' } : undefined}>
          #
        </ControlButton>
      </Controls>
      <ConnectionHint problem={lastProblem} mouse={mouseRef} />
    </ReactFlow>
  );
});

/** The nodes' bounding box, measured sizes where React Flow has them, the layout's estimates elsewhere. */
function estimatedBounds(nodes: FlowNode[], catalog: ReturnType<typeof useApp>['catalog']) {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const n of nodes) {
    const w = n.measured?.width ?? NODE_WIDTH;
    const h = n.measured?.height ?? estimateHeight(n, catalog);
    [x0, y0, x1, y1] = [Math.min(x0, n.position.x), Math.min(y0, n.position.y), Math.max(x1, n.position.x + w), Math.max(y1, n.position.y + h)];
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/**
 * Input while zoomed out, where the graph is drawn by the far-zoom layer (its DOM is hidden, so the
 * pane gets the pointer). A press on a drawn node selects it (Ctrl/⌘ adds or removes it) and a drag
 * moves the selection, through the same node changes React Flow sends. A drag elsewhere pans and the
 * wheel zooms the layer's view only, handed to React Flow when the gesture ends: a React Flow
 * viewport change wakes every node and edge component (hidden or not), which is what made a frame
 * slow. A press that does not move deselects. Shift (box selection) and the panels stay React Flow's.
 */
function useFarInput(layerRef: MutableRefObject<Layer | null>, canvasRef: RefObject<HTMLDivElement | null>) {
  const { editor, ui } = useApp();
  const rf = useStoreApi<FlowNode, FlowEdge>();
  useEffect(() => {
    const el = canvasRef.current;
    if (!el) return;
    type Press = { pointer: number; x: number; y: number; moved: boolean } & (
      | { kind: 'pan'; view: Layer['view'] }
      | { kind: 'node'; start: Map<string, { x: number; y: number }> }
    );
    let press: Press | null = null;
    let swallowClick = false;
    let wheelSync = 0;
    const origin = () => rf.getState().domNode!.getBoundingClientRect();
    const toFlow = (e: { clientX: number; clientY: number }, v: Layer['view']) => {
      const box = origin();
      return { x: (e.clientX - box.left - v.x) / v.zoom, y: (e.clientY - box.top - v.y) / v.zoom };
    };
    const moves = (e: PointerEvent, p: Press & { kind: 'node' }, zoom: number, dragging: boolean): NodeChange<FlowNode>[] => {
      const snap = ui.store.get().snap ? (v: number) => Math.round(v / SNAP_GRID[0]) * SNAP_GRID[0] : (v: number) => v;
      return [...p.start].map(([id, at]) => ({ type: 'position', id, dragging, position: { x: snap(at.x + (e.clientX - p.x) / zoom), y: snap(at.y + (e.clientY - p.y) / zoom) } }));
    };
    const down = (e: PointerEvent) => {
      swallowClick = false;
      const layer = layerRef.current;
      if (!layer || e.button !== 0 || e.shiftKey || !(e.target as HTMLElement).classList.contains('react-flow__pane')) return;
      // Neither React Flow's pane nor d3-zoom sees this press (no mousedown follows a prevented pointerdown).
      // The pane keeps the pointer, so that the click and double-click (quick add) that end it are the pane's.
      e.preventDefault();
      e.stopPropagation();
      (e.target as HTMLElement).setPointerCapture?.(e.pointerId);
      const at = toFlow(e, layer.view);
      const hit = hitNode(layer.scene().nodes, at.x, at.y, 3 / layer.view.zoom);
      const base = { pointer: e.pointerId, x: e.clientX, y: e.clientY, moved: false };
      if (!hit) {
        layer.busy = true;
        press = { ...base, kind: 'pan', view: { ...layer.view } };
        return;
      }
      if (e.ctrlKey || e.metaKey) editor.onNodesChange([{ type: 'select', id: hit.id, selected: !hit.selected }]);
      else if (!hit.selected) editor.select(hit.id);
      const selected = editor.store.get().nodes.filter((n) => n.selected);
      press = { ...base, kind: 'node', start: new Map(selected.map((n) => [n.id, n.position])) };
    };
    const move = (e: PointerEvent) => {
      const layer = layerRef.current;
      if (!press && layer) {
        // Over a drawn node the pointer says it can be clicked (the pane's cursor is a hand).
        const at = toFlow(e, layer.view);
        el.classList.toggle('far-hover', !!hitNode(layer.scene().nodes, at.x, at.y, 3 / layer.view.zoom));
      }
      if (!press || press.pointer !== e.pointerId || !layer) return;
      if (!press.moved && Math.hypot(e.clientX - press.x, e.clientY - press.y) < CLICK_DISTANCE) return;
      press.moved = true;
      if (press.kind === 'pan') {
        layer.view = { ...press.view, x: press.view.x + e.clientX - press.x, y: press.view.y + e.clientY - press.y };
        layer.redraw();
      } else editor.onNodesChange(moves(e, press, layer.view.zoom, true));
    };
    const up = (e: PointerEvent) => {
      const p = press;
      if (!p || p.pointer !== e.pointerId) return;
      press = null;
      swallowClick = true;
      const layer = layerRef.current;
      if (p.kind === 'node') {
        if (p.moved && layer) editor.onNodesChange(moves(e, p, layer.view.zoom, false));
        return;
      }
      if (!layer) return;
      layer.busy = false;
      if (p.moved) layer.sync();
      else editor.select(null); // a click on the empty canvas
    };
    const click = (e: Event) => {
      if (!swallowClick) return;
      swallowClick = false;
      e.stopPropagation();
    };
    const wheel = (e: WheelEvent) => {
      const layer = layerRef.current;
      if (!layer || (e.target as HTMLElement).closest('.react-flow__panel')) return;
      e.preventDefault();
      e.stopPropagation();
      // React Flow's wheel zoom: ×2^(−deltaY/500) per pixel line, about the pointer, within its limits.
      const { minZoom, maxZoom } = rf.getState();
      const v = layer.view;
      const zoom = Math.min(maxZoom, Math.max(minZoom, v.zoom * 2 ** (-e.deltaY * (e.deltaMode === 1 ? 0.05 : e.deltaMode ? 1 : 0.002))));
      const box = origin();
      const [px, py] = [e.clientX - box.left, e.clientY - box.top];
      layer.view = { x: px - ((px - v.x) * zoom) / v.zoom, y: py - ((py - v.y) * zoom) / v.zoom, zoom };
      clearTimeout(wheelSync);
      // React Flow gets the view when the wheel stops for 150 ms; zoomed in past FAR_ZOOM, it then
      // shows the DOM nodes. Handing over mid-gesture cost a frame of 100-500 ms (every node and edge
      // restyled and React Flow's components woken) in the middle of the zoom; the canvas keeps
      // drawing until the wheel stops instead, and the DOM's detail comes once, then.
      layer.busy = true;
      layer.redraw();
      wheelSync = window.setTimeout(() => {
        layer.busy = false;
        layer.sync();
      }, 150);
    };
    const opts = { capture: true } as const;
    el.addEventListener('pointerdown', down, opts);
    el.addEventListener('pointermove', move, opts);
    el.addEventListener('pointerup', up, opts);
    el.addEventListener('pointercancel', up, opts);
    el.addEventListener('click', click, opts);
    el.addEventListener('wheel', wheel, { capture: true, passive: false });
    return () => {
      clearTimeout(wheelSync);
      el.removeEventListener('pointerdown', down, opts);
      el.removeEventListener('pointermove', move, opts);
      el.removeEventListener('pointerup', up, opts);
      el.removeEventListener('pointercancel', up, opts);
      el.removeEventListener('click', click, opts);
      el.removeEventListener('wheel', wheel, opts);
    };
  }, [editor, ui, rf, layerRef, canvasRef]);
}

/**
 * The minimap, hidden while the whole graph is in view (at fit view it would only cover nodes). It
 * stays mounted and subscribes on its own: mounting 500 nodes' worth of minimap each time a pan takes
 * part of the graph out of view, or re-rendering the canvas, would cost frames.
 */
const AutoMiniMap = memo(function AutoMiniMap({ nodes }: { nodes: FlowNode[] }) {
  const { catalog } = useApp();
  // A new function each render would re-render every node of the minimap.
  const nodeColor = useCallback((n: Node) => catalog.familyStyle(catalog.def((n as FlowNode).data.type)?.family ?? '').color, [catalog]);
  const box = useMemo(() => {
    const b = estimatedBounds(nodes, catalog);
    return { x0: b.x, y0: b.y, x1: b.x + b.width, y1: b.y + b.height };
  }, [nodes, catalog]);
  const offscreen = useRfStore((s) => {
    const [tx, ty, k] = s.transform;
    return box.x0 * k + tx < 0 || box.y0 * k + ty < 0 || box.x1 * k + tx > s.width || box.y1 * k + ty > s.height;
  });
  return (
    <MiniMap
      className={offscreen ? undefined : 'all-in-view'}
      style={MINIMAP_STYLE}
      pannable
      zoomable
      nodeStrokeWidth={3}
      nodeColor={nodeColor}
      ariaLabel="Minimap"
    />
  );
});

/** While an edge is being drawn over a handle: the compiler's verdict, next to the cursor. */
function ConnectionHint({ problem, mouse }: { problem: MutableRefObject<string | null>; mouse: MutableRefObject<{ x: number; y: number } | null> }) {
  const c = useConnection((s) => ({ inProgress: s.inProgress, over: !!s.toHandle, valid: s.isValid }));
  const [pos, setPos] = useState<{ x: number; y: number } | null>(null);
  useEffect(() => {
    if (!c.inProgress) return;
    const move = (e: PointerEvent) => setPos({ x: e.clientX, y: e.clientY });
    window.addEventListener('pointermove', move);
    return () => window.removeEventListener('pointermove', move);
  }, [c.inProgress]);
  if (!c.inProgress || !c.over) return null;
  const at = pos ?? mouse.current;
  if (!at) return null;
  const ok = c.valid === true;
  return (
    <div className={`connect-hint${ok ? ' ok' : ''}`} style={{ left: at.x, top: at.y }} role="status" data-testid="connect-hint">
      {ok ? 'connect' : (problem.current ?? 'not allowed')}
    </div>
  );
}
