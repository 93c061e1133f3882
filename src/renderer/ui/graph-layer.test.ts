import { describe, expect, it } from 'vitest';
import { drawScene, edgeControls, hitNode, visibleRect, type Scene, type SceneNode } from './graph-layer.js';

const node = (id: string, x: number, y: number, extra: Partial<SceneNode> = {}): SceneNode => ({ id, x, y, w: 200, h: 100, fill: '#111111', stripe: '#222222', ring: null, issue: false, selected: false, ...extra });

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
    drawScene(ctx, scene, { x: 0, y: 0, zoom: 0.1, width: 1000, height: 600 }, 1, { background: '#000000', accent: '#5b8cff' });
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
});
