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

export async function layoutGraph(nodes: FlowNode[], edges: FlowEdge[], catalog: Catalog): Promise<Map<string, { x: number; y: number }>> {
  const graph = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.layered.spacing.nodeNodeBetweenLayers': '150',
      'elk.spacing.nodeNode': '40',
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
