// Auto-layout with ELK's layered algorithm, left to right, with ports in declaration order so that
// edges do not cross inside a node.
import type ELK from 'elkjs/lib/elk.bundled.js';
import type { Catalog } from './catalog.js';
import type { FlowEdge, FlowNode } from './graph.js';

// ELK is 1.4 MB: loaded on the first auto-layout, not with the page.
let elk: Promise<InstanceType<typeof ELK>> | undefined;
const loadElk = () => (elk ??= import('elkjs/lib/elk.bundled.js').then((m) => new m.default()));

export const NODE_WIDTH = 236;
const PORT_TOP = 58;
const PORT_ROW = 21;

/** Height of a node as drawn (head, id line, port rows, badges) when React Flow has not measured it. */
export function estimateHeight(n: FlowNode, catalog: Catalog): number {
  const def = catalog.def(n.data.type);
  const rows = Math.max(Object.keys(def?.inputs ?? {}).length, Object.keys(def?.outputs ?? {}).length, 1);
  return 58 + rows * 21 + 26;
}

type Positions = Map<string, { x: number; y: number }>;

export interface LayoutOptions {
  /** Width / height of the canvas the graph will be fitted into. */
  aspect?: number;
}

/** A node feeding at least this many distinct nodes is a hub (a shared source, the exact reference). */
const HUB_FANOUT = 4;
const LAYER_GAP = 150;

/**
 * Lays the graph out left to right (ELK layered). A graph whose hubs fan out to many branches comes
 * out as one tall column that fits the canvas only at an unreadable zoom; so it is also laid out with
 * the hubs in a column on the left and the branches packed to the canvas's aspect ratio beside them,
 * and whichever fits the canvas at the larger zoom wins.
 */
export async function layoutGraph(nodes: FlowNode[], edges: FlowEdge[], catalog: Catalog, opts: LayoutOptions = {}): Promise<Positions> {
  const aspect = opts.aspect ?? 1.6;
  const size = sizer(catalog);
  const layered = await elkLayout(nodes, edges, catalog, aspect);
  const hubs = hubIds(nodes, edges);
  if (hubs.size === 0 || hubs.size === nodes.length) return layered;
  const inHubs = (e: FlowEdge) => hubs.has(e.source) && hubs.has(e.target);
  const inBranches = (e: FlowEdge) => !hubs.has(e.source) && !hubs.has(e.target);
  const hubNodes = nodes.filter((n) => hubs.has(n.id));
  const branchNodes = nodes.filter((n) => !hubs.has(n.id));
  const left = await elkLayout(hubNodes, edges.filter(inHubs), catalog, aspect);
  const leftBox = bounds(hubNodes, left, size);
  let best = { zoom: fitZoom(bounds(nodes, layered, size), aspect), pos: layered };
  // The hub column takes some of the canvas's width: try the branches a little narrower too.
  for (const branchAspect of [aspect, aspect * 0.7]) {
    const right = await elkLayout(branchNodes, edges.filter(inBranches), catalog, branchAspect);
    const rightBox = bounds(branchNodes, right, size);
    const dx = leftBox.w + LAYER_GAP;
    const dyLeft = Math.max(0, (rightBox.h - leftBox.h) / 2);
    const packed: Positions = new Map();
    for (const [id, p] of left) packed.set(id, { x: p.x, y: Math.round(p.y + dyLeft) });
    for (const [id, p] of right) packed.set(id, { x: p.x + dx, y: p.y });
    const zoom = fitZoom(bounds(nodes, packed, size), aspect);
    if (zoom > best.zoom) best = { zoom, pos: packed };
  }
  return best.pos;
}

/** Nodes that feed at least HUB_FANOUT distinct nodes. */
function hubIds(nodes: FlowNode[], edges: FlowEdge[]): Set<string> {
  const succ = new Map<string, Set<string>>();
  for (const e of edges) (succ.get(e.source) ?? succ.set(e.source, new Set()).get(e.source)!).add(e.target);
  return new Set(nodes.filter((n) => (succ.get(n.id)?.size ?? 0) >= HUB_FANOUT).map((n) => n.id));
}

const sizer = (catalog: Catalog) => (n: FlowNode) => ({ w: n.measured?.width ?? NODE_WIDTH, h: n.measured?.height ?? estimateHeight(n, catalog) });

function bounds(nodes: FlowNode[], pos: Positions, size: (n: FlowNode) => { w: number; h: number }) {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const n of nodes) {
    const p = pos.get(n.id);
    if (!p) continue;
    const { w, h } = size(n);
    [x0, y0, x1, y1] = [Math.min(x0, p.x), Math.min(y0, p.y), Math.max(x1, p.x + w), Math.max(y1, p.y + h)];
  }
  return x0 === Infinity ? { w: 0, h: 0 } : { w: x1 - x0, h: y1 - y0 };
}

/** The zoom at which a box fits a canvas of this aspect ratio (relative: the canvas is `aspect` × 1). */
const fitZoom = (box: { w: number; h: number }, aspect: number) => Math.min(aspect / Math.max(box.w, 1), 1 / Math.max(box.h, 1));

async function elkLayout(nodes: FlowNode[], edges: FlowEdge[], catalog: Catalog, aspect: number): Promise<Positions> {
  const graph = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.layered.spacing.nodeNodeBetweenLayers': String(LAYER_GAP),
      'elk.spacing.nodeNode': '40',
      'elk.spacing.componentComponent': '60',
      // Disconnected parts are packed in rows towards the canvas's shape.
      'elk.aspectRatio': String(aspect),
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.layered.crossingMinimization.semiInteractive': 'true',
    },
    children: nodes.map((n) => {
      const def = catalog.def(n.data.type);
      const ins = Object.keys(def?.inputs ?? {});
      const outs = Object.keys(def?.outputs ?? {});
      const width = n.measured?.width ?? NODE_WIDTH;
      // Ports where the handles are drawn: one row each below the head.
      const rowY = (i: number) => PORT_TOP + i * PORT_ROW + PORT_ROW / 2;
      return {
        id: n.id,
        width,
        height: n.measured?.height ?? estimateHeight(n, catalog),
        layoutOptions: { 'elk.portConstraints': 'FIXED_POS' },
        ports: [
          ...ins.map((p, i) => ({ id: `${n.id}::in::${p}`, x: 0, y: rowY(i), width: 1, height: 1, layoutOptions: { 'elk.port.side': 'WEST' } })),
          ...outs.map((p, i) => ({ id: `${n.id}::out::${p}`, x: width - 1, y: rowY(i), width: 1, height: 1, layoutOptions: { 'elk.port.side': 'EAST' } })),
        ],
      };
    }),
    edges: edges.map((e) => ({ id: e.id, sources: [`${e.source}::out::${e.sourceHandle}`], targets: [`${e.target}::in::${e.targetHandle}`] })),
  };
  const out = await (await loadElk()).layout(graph);
  return new Map((out.children ?? []).map((c) => [c.id, { x: Math.round(c.x ?? 0), y: Math.round(c.y ?? 0) }]));
}

/** Width / height of the canvas element (the auto-layout packs branches to its shape). */
export function canvasAspect(el: { clientWidth: number; clientHeight: number } | null): number | undefined {
  return el && el.clientHeight > 0 ? el.clientWidth / el.clientHeight : undefined;
}

/**
 * After the `grown` nodes got taller: moves down the nodes they now overlap (and, in turn, the ones
 * those overlap), keeping a gap. Returns the new positions of the nodes that move.
 */
export function makeRoom(nodes: FlowNode[], grown: ReadonlySet<string>, catalog: Catalog, gap = 24): Map<string, { x: number; y: number }> {
  const size = sizer(catalog);
  const boxes = new Map(nodes.map((n) => [n.id, { x: n.position.x, y: n.position.y, ...size(n) }]));
  const moved = new Map<string, { x: number; y: number }>();
  const queue = [...grown].filter((id) => boxes.has(id));
  while (queue.length) {
    const a = boxes.get(queue.shift()!)!;
    for (const [id, b] of boxes) {
      if (b === a || b.y < a.y) continue; // only what lies below the grown node's top
      const overlapX = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x) > 0;
      if (overlapX && b.y < a.y + a.h + gap && b.y + b.h > a.y) {
        b.y = a.y + a.h + gap;
        moved.set(id, { x: b.x, y: b.y });
        queue.push(id);
      }
    }
  }
  return moved;
}

/** Pairs of nodes whose boxes overlap by more than `margin` px in both directions (sweep over x). */
export function countOverlaps(nodes: FlowNode[], catalog: Catalog, margin = 8): number {
  const boxes = nodes
    .map((n) => ({ x: n.position.x, y: n.position.y, w: n.measured?.width ?? NODE_WIDTH, h: n.measured?.height ?? estimateHeight(n, catalog) }))
    .sort((a, b) => a.x - b.x);
  let count = 0;
  for (let i = 0; i < boxes.length; i++) {
    const a = boxes[i]!;
    for (let j = i + 1; j < boxes.length && boxes[j]!.x < a.x + a.w - margin; j++) {
      const b = boxes[j]!;
      if (Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y) > margin) count++;
    }
  }
  return count;
}
