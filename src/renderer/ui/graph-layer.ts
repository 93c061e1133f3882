// The far-zoom drawing of the graph: below FAR_ZOOM nodes show only a box and a line or two of
// large text, so the whole graph is drawn on one <canvas> (GraphLayer.tsx) instead of 500 DOM boxes and 900 SVG edges that Chrome
// would repaint on every frame of a pan. Pure functions: the scene (boxes and edge curves in flow
// coordinates, with their colours), hit-testing, and drawing it for a viewport transform.
import type { Catalog } from '../model/catalog.js';
import { PORT_COLORS } from '../model/catalog.js';
import type { FlowEdge, FlowNode } from '../model/graph.js';
import { estimateHeight, NODE_WIDTH } from '../model/layout.js';
import { heatScale } from '../state/derived.js';
import type { NodeMetrics } from '../state/metrics.js';
import type { AnyNodeDef } from '../../engine/node.js';
import { formatBytesShort, formatMs } from '../model/format.js';
import type { HeatMode } from '../state/ui.js';

/**
 * Below this zoom the graph is drawn on the canvas: the zoom at which the DOM nodes reach their last
 * zoomed-out step (Canvas.tsx lodLevel 3: boxes and 48 px text, styles.css .lod-3), which the canvas
 * draws the same way (boxes, and the same text at 48 flow px while it is at least TEXT_MIN_PX on screen).
 */
export const FAR_ZOOM = 0.26;
/** Font size of the zoomed-out text, flow px (styles.css .lod-3 .pnode-lod). */
export const LOD_FONT = 48;
/** Below this size on screen the canvas leaves the text out (unreadable, and the most costly part of a frame). */
export const TEXT_MIN_PX = 7;

/** The zoomed-out text's size on screen at a zoom, px; 0 where the canvas leaves it out. */
export const lodTextPx = (zoom: number) => (LOD_FONT * zoom >= TEXT_MIN_PX ? LOD_FONT * zoom : 0);

/** A node's run profile where its badges show it: done, cached, or failed after measuring; else undefined. */
export function shownProfile(m: NodeMetrics | undefined): NodeMetrics['profile'] {
  const s = m?.status;
  return s === 'done' || s === 'cached' || s === 'failed' ? m?.profile : undefined;
}

/**
 * What a zoomed-out node shows, one line each (the DOM's .pnode-lod and the canvas layer): its run's
 * time and peak memory once it has a profile, else its variant's title or its own.
 */
export function lodLines(def: AnyNodeDef | undefined, type: string, params: Record<string, unknown>, m: NodeMetrics | undefined): string[] {
  const p = shownProfile(m);
  if (p) return [m?.status === 'cached' ? 'cached' : formatMs(p.wallMs), formatBytesShort(p.peakBytes)];
  const variant = typeof params.variant === 'string' ? params.variant : undefined;
  return [variant ? (def?.variants?.[variant]?.title ?? variant) : (def?.title ?? type)];
}

export interface SceneNode {
  id: string;
  x: number;
  y: number;
  w: number;
  h: number;
  /** Body: the family colour, or the heat colour after a run with heat on. */
  fill: string;
  /** The family colour, as the head's top border of the DOM node. */
  stripe: string;
  /** Run state or a compile problem as an outline colour (running, failed, done, …), or null. */
  ring: string | null;
  /** A compile issue: the DOM node's dashed red border. */
  issue: boolean;
  selected: boolean;
  /** lodLines: the zoomed-out text. */
  text: string[];
}

export interface SceneEdge {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  color: string;
}

export interface Scene {
  nodes: SceneNode[];
  /** Edges grouped by colour: one stroke per colour. */
  edges: Map<string, SceneEdge[]>;
}

export interface Viewport {
  /** React Flow's transform: translate x, y and zoom. */
  x: number;
  y: number;
  zoom: number;
  width: number;
  height: number;
}

export interface Palette {
  /** A node's background under its colour (--node-bg). */
  background: string;
  /** The selection and running colour (--accent). */
  accent: string;
  /** The zoomed-out text's first line and the lines after it (--text, --text-2). */
  text: string;
  text2: string;
}

/** The colour at `t` ∈ [0, 1] on a three-stop ramp (rgb triples), as an rgb() string. */
export function rampColor(stops: readonly (readonly number[])[], t: number): string {
  const x = Math.max(0, Math.min(1, t)) * 2;
  const i = Math.min(1, Math.floor(x));
  const f = x - i;
  return `rgb(${stops[i]!.map((v, k) => Math.round(v + (stops[i + 1]![k]! - v) * f)).join(',')})`;
}

const HEAT_STOPS = [
  [59, 130, 246],
  [234, 179, 8],
  [239, 68, 68],
] as const;

/** Heat colour at `t` ∈ [0, 1] of the run's slowest (or largest) node: cool → hot, blue, yellow, red. */
export const heatColor = (t: number) => rampColor(HEAT_STOPS, t);

type XY = { x: number; y: number };
type HandleBox = { id?: string | null; x: number; y: number; width: number; height: number };

/** What a scene is built from: the graph, React Flow's measurements, and the state the DOM nodes show. */
export interface SceneInput {
  nodes: readonly FlowNode[];
  edges: readonly FlowEdge[];
  /** React Flow's internals of a node: its absolute position and, once measured, its handles' boxes. */
  internals(id: string): { positionAbsolute: XY; handleBounds?: { source: HandleBox[] | null; target: HandleBox[] | null } } | undefined;
  catalog: Catalog;
  runs: Record<string, NodeMetrics>;
  issues: Record<string, readonly unknown[] | undefined>;
  heat: HeatMode;
  /** A theme colour by custom property name (`--ok`). */
  color(name: string): string;
}

// An output's handle centre when React Flow has no bounds for it: model/layout.ts's port rows.
const PORT_TOP = 58;
const PORT_ROW = 21;

/** The scene in flow coordinates, with the colours the DOM nodes would have (PipelineNode.tsx, styles.css). */
export function buildScene(input: SceneInput): Scene {
  const { catalog, runs, issues, heat, color } = input;
  const scale = heatScale(runs);
  const rings: Record<string, string | null> = {
    idle: null,
    queued: color('--text-3'),
    running: color('--accent'),
    done: color('--ok'),
    cached: '#2bb3c0', // .st-cached .status-dot
    failed: color('--err'),
    skipped: color('--warn'),
  };
  const nodes: SceneNode[] = [];
  const byId = new Map<string, SceneNode>();
  for (const n of input.nodes) {
    const pos = input.internals(n.id)?.positionAbsolute ?? n.position;
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
      text: lodLines(catalog.def(n.data.type), n.data.type, n.data.params, m),
    };
    nodes.push(node);
    byId.set(n.id, node);
  }
  const types = new Map(input.nodes.map((n) => [n.id, n.data.type]));
  const handle = (node: SceneNode, side: 'source' | 'target', port: string | null | undefined): XY => {
    const hb = input.internals(node.id)?.handleBounds?.[side]?.find((h) => h.id === port);
    if (hb) return { x: node.x + hb.x + hb.width / 2, y: node.y + hb.y + hb.height / 2 };
    const def = catalog.def(types.get(node.id) ?? '');
    const i = Math.max(0, Object.keys((side === 'source' ? def?.outputs : def?.inputs) ?? {}).indexOf(port ?? ''));
    return { x: side === 'source' ? node.x + node.w : node.x, y: node.y + PORT_TOP + (i + 0.5) * PORT_ROW };
  };
  const edges = new Map<string, SceneEdge[]>();
  for (const e of input.edges) {
    const [a, b] = [byId.get(e.source), byId.get(e.target)];
    if (!a || !b) continue;
    const kind = catalog.def(types.get(e.source) ?? '')?.outputs[e.sourceHandle ?? '']?.kind;
    const stroke = kind ? PORT_COLORS[kind] : color('--border-strong');
    const [p, q] = [handle(a, 'source', e.sourceHandle), handle(b, 'target', e.targetHandle)];
    let list = edges.get(stroke);
    if (!list) edges.set(stroke, (list = []));
    list.push({ x0: p.x, y0: p.y, x1: q.x, y1: q.y, color: stroke });
  }
  return { nodes, edges };
}

/** The topmost node under a point in flow coordinates (the last drawn wins, as on screen), or null. */
export function hitNode(nodes: readonly SceneNode[], x: number, y: number, slop = 0): SceneNode | null {
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (x >= n.x - slop && x <= n.x + n.w + slop && y >= n.y - slop && y <= n.y + n.h + slop) return n;
  }
  return null;
}

/** The flow-coordinate rectangle a viewport shows. */
export function visibleRect(v: Viewport) {
  return { x0: -v.x / v.zoom, y0: -v.y / v.zoom, x1: (v.width - v.x) / v.zoom, y1: (v.height - v.y) / v.zoom };
}

/** An edge's curve: the same horizontal-tangent cubic React Flow's bezier edges follow. */
export function edgeControls(e: SceneEdge): [number, number, number, number] {
  const c = Math.max(Math.abs(e.x1 - e.x0) * 0.5, 25);
  return [e.x0 + c, e.y0, e.x1 - c, e.y1];
}

const wrapped = new WeakMap<SceneNode, string[]>();

/**
 * A node's zoomed-out text as drawn: a run's lines as they are (they do not wrap in the DOM either);
 * a title wrapped at spaces to the box, as many lines as fit its height. Measured once per scene node
 * (the context's font must be the text's).
 */
function linesOf(ctx: CanvasRenderingContext2D, n: SceneNode): string[] {
  if (n.text.length !== 1) return n.text;
  let lines = wrapped.get(n);
  if (!lines) {
    lines = [];
    for (const word of n.text[0]!.split(/\s+/)) {
      const last = lines.at(-1);
      if (last !== undefined && ctx.measureText(`${last} ${word}`).width <= n.w - 8) lines[lines.length - 1] = `${last} ${word}`;
      else lines.push(word);
    }
    lines = lines.slice(0, Math.max(1, Math.floor((n.h - 8) / LOD_FONT)));
    wrapped.set(n, lines);
  }
  return lines;
}

/** Draws the scene for a viewport on a 2D context whose canvas is `dpr` device pixels per CSS pixel. */
export function drawScene(ctx: CanvasRenderingContext2D, scene: Scene, v: Viewport, dpr: number, palette: Palette) {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  ctx.setTransform(dpr * v.zoom, 0, 0, dpr * v.zoom, dpr * v.x, dpr * v.y);
  const px = 1 / v.zoom; // one CSS pixel on screen, in flow units
  const r = visibleRect(v);
  const inView = (x0: number, y0: number, x1: number, y1: number) => x1 >= r.x0 && x0 <= r.x1 && y1 >= r.y0 && y0 <= r.y1;

  ctx.lineWidth = px;
  ctx.globalAlpha = 0.75;
  for (const [color, edges] of scene.edges) {
    ctx.beginPath();
    for (const e of edges) {
      const [c0x, c0y, c1x, c1y] = edgeControls(e);
      if (!inView(Math.min(e.x0, e.x1), Math.min(e.y0, e.y1), Math.max(e.x0, e.x1, c0x), Math.max(e.y0, e.y1))) continue;
      ctx.moveTo(e.x0, e.y0);
      ctx.bezierCurveTo(c0x, c0y, c1x, c1y, e.x1, e.y1);
    }
    ctx.strokeStyle = color;
    ctx.stroke();
  }
  ctx.globalAlpha = 1;

  for (const n of scene.nodes) {
    if (!inView(n.x, n.y, n.x + n.w, n.y + n.h)) continue;
    // The node's own background, then its colour over it: the family's, or the heat's after a run.
    ctx.fillStyle = palette.background;
    ctx.fillRect(n.x, n.y, n.w, n.h);
    ctx.globalAlpha = n.selected ? 0.9 : 0.6;
    ctx.fillStyle = n.fill;
    ctx.fillRect(n.x, n.y, n.w, n.h);
    ctx.globalAlpha = 1;
    ctx.fillStyle = n.stripe;
    ctx.fillRect(n.x, n.y, n.w, Math.min(3 * px, n.h / 3));
    if (n.ring || n.issue) {
      ctx.strokeStyle = n.ring ?? palette.accent;
      ctx.lineWidth = 1.5 * px;
      ctx.setLineDash(n.issue ? [3 * px, 2 * px] : []);
      ctx.strokeRect(n.x, n.y, n.w, n.h);
      ctx.setLineDash([]);
    }
  }
  // The zoomed-out text, as the DOM's .pnode-lod: bold, centred, one line per entry (squeezed to the box).
  if (lodTextPx(v.zoom)) {
    ctx.font = `700 ${LOD_FONT}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (const n of scene.nodes) {
      if (!inView(n.x, n.y, n.x + n.w, n.y + n.h)) continue;
      const lines = linesOf(ctx, n);
      const top = n.y + n.h / 2 - ((lines.length - 1) * LOD_FONT) / 2;
      lines.forEach((line, i) => {
        // As in the DOM: a run's time in the text colour, its memory (or a title alone) dimmer.
        ctx.fillStyle = i === 0 && n.text.length > 1 ? palette.text : palette.text2;
        ctx.fillText(line, n.x + n.w / 2, top + i * LOD_FONT, n.w - 8);
      });
    }
  }
  // The selection last and outside the box, so that it is seen even where a node is a few pixels wide.
  ctx.strokeStyle = palette.accent;
  ctx.lineWidth = 3 * px;
  for (const n of scene.nodes) if (n.selected) ctx.strokeRect(n.x - 2.5 * px, n.y - 2.5 * px, n.w + 5 * px, n.h + 5 * px);
}
