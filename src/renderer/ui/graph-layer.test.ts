import { describe, expect, it } from 'vitest';
import { registry } from '../../nodes/index.js';
import { Catalog, PORT_COLORS } from '../model/catalog.js';
import { makeEdge, makeNode, type FlowNode } from '../model/graph.js';
import { estimateHeight, NODE_WIDTH } from '../model/layout.js';
import type { NodeMetrics } from '../state/metrics.js';
import { buildScene, drawScene, edgeControls, heatColor, hitNode, visibleRect, type Scene, type SceneInput, type SceneNode } from './graph-layer.js';

const catalog = new Catalog(registry);
const THEME: Record<string, string> = { '--ok': '#00aa00', '--err': '#ee0000', '--accent': '#0000ee', '--text-3': '#777777', '--warn': '#eeaa00', '--border-strong': '#333333' };
const PALETTE = { background: '#000000', accent: '#5b8cff', text: '#eeeeee', text2: '#999999' };
const profile = (wallMs: number, peakBytes: number) => ({ wallMs, peakBytes }) as NodeMetrics['profile'];

const node = (id: string, x: number, y: number, extra: Partial<SceneNode> = {}): SceneNode => ({ id, x, y, w: 200, h: 100, fill: '#111111', stripe: '#222222', ring: null, issue: false, selected: false, text: ['T'], ...extra });

/** A 2D context that records what is drawn: fills and strokes with their style at the time. */
function recorder(width = 1000, height = 600) {
  const calls: { op: string; style?: string; args: number[] }[] = [];
  const ctx = {
    canvas: { width, height },
    fillStyle: '',
    strokeStyle: '',
    lineWidth: 1,
    globalAlpha: 1,
    setTransform: () => {},
    clearRect: () => {},
    setLineDash: () => {},
    beginPath: () => calls.push({ op: 'beginPath', args: [] }),
    moveTo: (...args: number[]) => calls.push({ op: 'moveTo', args }),
    bezierCurveTo: (...args: number[]) => calls.push({ op: 'bezierCurveTo', args }),
    stroke() {
      calls.push({ op: 'stroke', style: this.strokeStyle, args: [] });
    },
    fillRect(...args: number[]) {
      calls.push({ op: 'fillRect', style: this.fillStyle, args });
    },
    strokeRect(...args: number[]) {
      calls.push({ op: 'strokeRect', style: this.strokeStyle, args });
    },
    measureText: (text: string) => ({ width: text.length * 10 }),
    fillText(text: string, ...args: number[]) {
      calls.push({ op: 'fillText', style: `${this.fillStyle} ${text}`, args });
    },
  };
  return { ctx: ctx as unknown as CanvasRenderingContext2D, calls };
}

describe('graph layer', () => {
  it('hit-tests the topmost node under a point, with a slop around small boxes', () => {
    const nodes = [node('a', 0, 0), node('b', 150, 50), node('c', 1000, 1000)];
    expect(hitNode(nodes, 10, 10)?.id).toBe('a');
    expect(hitNode(nodes, 160, 60)?.id).toBe('b'); // a and b overlap here: b is drawn last, on top
    expect(hitNode(nodes, 500, 500)).toBeNull();
    expect(hitNode(nodes, 995, 1000)).toBeNull();
    expect(hitNode(nodes, 995, 1000, 6)?.id).toBe('c');
  });

  it('maps the viewport to the flow rectangle it shows', () => {
    // translate (100, 50), zoom 0.5: screen x = 100 + 0.5·flow x.
    expect(visibleRect({ x: 100, y: 50, zoom: 0.5, width: 1000, height: 600 })).toEqual({ x0: -200, y0: -100, x1: 1800, y1: 1100 });
  });

  it("curves an edge with horizontal tangents like React Flow's bezier", () => {
    expect(edgeControls({ x0: 0, y0: 0, x1: 400, y1: 100, color: '' })).toEqual([200, 0, 200, 100]);
    // Close or backwards: still leaves and enters horizontally.
    expect(edgeControls({ x0: 100, y0: 0, x1: 90, y1: 50, color: '' })).toEqual([125, 0, 65, 50]);
  });

  it('draws the nodes in view, one stroke per edge colour, and the selection outside its node', () => {
    const scene: Scene = {
      nodes: [node('a', 0, 0, { fill: '#aa0000' }), node('b', 400, 0, { selected: true, ring: '#00ff00' }), node('far', 50_000, 0, { fill: '#0000aa' })],
      edges: new Map([
        ['#3b82f6', [{ x0: 200, y0: 50, x1: 400, y1: 50, color: '#3b82f6' }, { x0: 200, y0: 60, x1: 400, y1: 60, color: '#3b82f6' }]],
        ['#ec4899', [{ x0: 200, y0: 70, x1: 400, y1: 80, color: '#ec4899' }, { x0: 50_000, y0: 0, x1: 50_300, y1: 0, color: '#ec4899' }]],
      ]),
    };
    const { ctx, calls } = recorder();
    drawScene(ctx, scene, { x: 0, y: 0, zoom: 0.1, width: 1000, height: 600 }, 1, PALETTE);
    expect(calls.filter((c) => c.op === 'fillText'), 'text 4.8 px on screen: left out').toHaveLength(0);
    const strokes = calls.filter((c) => c.op === 'stroke').map((c) => c.style);
    expect(strokes).toEqual(['#3b82f6', '#ec4899']);
    expect(calls.filter((c) => c.op === 'moveTo')).toHaveLength(3); // the edge at x = 50 000 is out of view
    const fills = calls.filter((c) => c.op === 'fillRect').map((c) => c.style);
    expect(fills).toContain('#aa0000');
    expect(fills).not.toContain('#0000aa'); // out of view
    const rects = calls.filter((c) => c.op === 'strokeRect');
    // b's run-state ring on its box, then the selection ring 2.5 screen px (25 flow units at zoom 0.1) outside it.
    expect(rects).toEqual([
      { op: 'strokeRect', style: '#00ff00', args: [400, 0, 200, 100] },
      { op: 'strokeRect', style: '#5b8cff', args: [375, -25, 250, 150] },
    ]);
  });

  it("draws the zoomed-out text where it is readable: the run's time and memory, or the title, centred in the box", () => {
    const scene: Scene = {
      nodes: [
        node('a', 0, 0, { text: ['12 ms', '4 MB'] }),
        node('b', 400, 0, { text: ['Flash'] }),
        // 10 flow px a character here: wrapped at spaces to the box (192 px), then cut to the lines its height holds (2).
        node('c', 0, 200, { h: 150, text: ['Tiled flash attention kernel with more words'] }),
        node('far', 50_000, 0),
      ],
      edges: new Map(),
    };
    const { ctx, calls } = recorder();
    drawScene(ctx, scene, { x: 0, y: 0, zoom: 0.2, width: 1000, height: 600 }, 1, PALETTE);
    // 48 flow px at zoom 0.2: 9.6 px on screen. Two lines centred on the box's middle (y 50), one line on it.
    expect(calls.filter((c) => c.op === 'fillText')).toEqual([
      { op: 'fillText', style: '#eeeeee 12 ms', args: [100, 26, 192] },
      { op: 'fillText', style: '#999999 4 MB', args: [100, 74, 192] },
      { op: 'fillText', style: '#999999 Flash', args: [500, 50, 192] },
      { op: 'fillText', style: '#999999 Tiled flash', args: [100, 251, 192] },
      { op: 'fillText', style: '#999999 attention kernel', args: [100, 299, 192] },
    ]);
  });

  it('builds the scene with the colours of the DOM nodes: family, run state, heat, issues, selection', () => {
    const qkv = { ...makeNode('qkv', 'source.synthetic-qkv', {}, { x: 0, y: 0 }), measured: { width: 236, height: 150 } } as FlowNode;
    const att = { ...makeNode('att', 'attention', { variant: 'naive' }, { x: 400, y: 0 }), selected: true } as FlowNode;
    const cmp = makeNode('cmp', 'compare', {}, { x: 800, y: 0 });
    const input: SceneInput = {
      nodes: [qkv, att, cmp],
      edges: [makeEdge('qkv', 'k', 'att', 'k'), makeEdge('att', 'out', 'cmp', 'a')],
      // React Flow measured qkv's handles; the others fall back to the layout's port rows.
      internals: (id) => (id === 'qkv' ? { positionAbsolute: { x: 0, y: 0 }, handleBounds: { source: [{ id: 'k', x: 230, y: 80, width: 10, height: 10 }], target: [] } } : undefined),
      catalog,
      runs: { qkv: { status: 'done', profile: profile(10, 100) }, att: { status: 'running' }, cmp: { status: 'failed' } },
      issues: { cmp: [{ message: 'b: missing input' }] },
      heat: 'off',
      color: (name) => THEME[name]!,
    };
    const scene = buildScene(input);
    const [a, b, c] = scene.nodes;
    const fam = (type: string) => catalog.familyStyle(catalog.def(type)!.family).color;
    expect(a).toMatchObject({ id: 'qkv', x: 0, y: 0, w: 236, h: 150, fill: fam('source.synthetic-qkv'), ring: '#00aa00', issue: false, selected: false });
    // Not measured: the layout's size estimate.
    expect(b).toMatchObject({ id: 'att', x: 400, w: NODE_WIDTH, h: estimateHeight(att, catalog), fill: fam('attention'), ring: '#0000ee', selected: true });
    expect(c).toMatchObject({ id: 'cmp', ring: '#ee0000', issue: true });
    // The zoomed-out text: a finished node's time and memory; else its variant's title, or its own.
    expect(a!.text).toEqual(['10.0 ms', '100B']);
    expect(b!.text).toEqual([catalog.def('attention')!.variants!.naive!.title]);
    expect(c!.text).toEqual([catalog.def('compare')!.title]);
    // Edges by the kind of their output port; an end at the measured handle's centre, or at the port's row.
    const tensor = scene.edges.get(PORT_COLORS.tensor)!;
    expect(tensor).toHaveLength(2);
    expect(tensor[0]).toMatchObject({ x0: 235, y0: 85, x1: 400 });
    const kRow = Object.keys(catalog.def('attention')!.inputs).indexOf('k');
    expect(tensor[0]!.y1).toBe(58 + (kRow + 0.5) * 21);
    expect(tensor[1]).toMatchObject({ x0: 400 + NODE_WIDTH, x1: 800 });

    // Heat on: a finished node is filled with its heat colour, relative to the slowest node of the run.
    const heated = buildScene({ ...input, heat: 'ms', runs: { qkv: { status: 'done', profile: profile(5, 100) }, att: { status: 'done', profile: profile(20, 50) } } });
    expect(heated.nodes[0]!.fill).toBe(heatColor(0.25));
    expect(heated.nodes[1]!.fill).toBe(heatColor(1));
    expect(heatColor(1)).toBe('rgb(239,68,68)');
    expect(heated.nodes[2]!.fill).toBe(fam('compare')); // not run: its family colour
  });
});

