// A large graph zoomed out past the threshold is drawn on one canvas (ui/GraphLayer.tsx) with React
// Flow's node DOM hidden: the canvas shows every node in its colour where the node is, a click on a
// drawn node selects it, a drag moves it, a drag on the empty canvas pans (handed to React Flow at its
// end), a click on the empty pane deselects, and zooming in brings the DOM nodes back. A file too
// large to lay out is drawn before its DOM nodes are mounted. Also: a click on the empty pane with a
// hand's jitter deselects at any zoom.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { largePipeline } from '../bench/editor.js';
import { FAR_ZOOM } from '../src/renderer/ui/graph-layer.js';
import { dropPipeline, openExample, shot, useBrowserSession } from './helpers.js';

const s = useBrowserSession({ webgpu: false });

const GROUPS = 40; // 200 nodes, 360 edges (opened, they are laid out: the file's nodes overlap)

/** A node's box in flow coordinates, from its (hidden but laid out) DOM node. */
async function flowBox(page: Page, id: string) {
  return page.$eval(`.react-flow__node[data-id="${id}"]`, (e) => {
    const [x, y] = /translate\(([-\d.]+)px, ([-\d.]+)px\)/.exec((e as HTMLElement).style.transform)!.slice(1).map(Number);
    return { x: x!, y: y!, w: (e as HTMLElement).offsetWidth, h: (e as HTMLElement).offsetHeight };
  });
}
/** A point inside a node, below its head (the layer draws the head's family stripe there). */
const inside = (b: { x: number; y: number; w: number; h: number }) => ({ x: b.x + b.w / 2, y: b.y + b.h * 0.6 });
/** A point of a node's box clear of its centred zoomed-out text: where its fill colour shows. */
const fillPoint = (b: { x: number; y: number; w: number; h: number }) => ({ x: b.x + b.w * 0.12, y: b.y + b.h * 0.92 });

async function viewport(page: Page) {
  return page.evaluate(() => {
    const m = /translate\(([-\d.e]+)px, ([-\d.e]+)px\) scale\(([\d.e-]+)\)/.exec((document.querySelector('.react-flow__viewport') as HTMLElement).style.transform)!;
    const box = document.querySelector('.react-flow')!.getBoundingClientRect();
    return { x: Number(m[1]), y: Number(m[2]), zoom: Number(m[3]), left: box.left, top: box.top };
  });
}

/** A point of the flow (flow coordinates) on the page. */
async function onScreen(page: Page, p: { x: number; y: number }) {
  const v = await viewport(page);
  return { x: v.left + v.x + p.x * v.zoom, y: v.top + v.y + p.y * v.zoom };
}

/** The canvas layer's pixel (r, g, b, a) under a page point. */
async function pixel(page: Page, at: { x: number; y: number }) {
  return page.evaluate(({ x, y }) => {
    const c = document.querySelector('[data-testid="graph-layer"]') as HTMLCanvasElement;
    const r = c.getBoundingClientRect();
    const k = c.width / r.width;
    return [...c.getContext('2d')!.getImageData(Math.round((x - r.left) * k), Math.round((y - r.top) * k), 1, 1).data];
  }, at);
}

/** A node's colour as the layer paints it: its family colour at 60 % over the node background. */
async function expectedFill(page: Page, id: string) {
  return page.evaluate((id) => {
    const rgb = (css: string) => {
      const d = document.createElement('div');
      d.style.color = css;
      document.body.append(d);
      const m = getComputedStyle(d).color.match(/\d+/g)!.map(Number);
      d.remove();
      return m.slice(0, 3);
    };
    const pnode = document.querySelector(`[data-testid="node-${id}"]`)!;
    const fam = rgb(getComputedStyle(pnode).getPropertyValue('--fam'));
    const bg = rgb(getComputedStyle(pnode).getPropertyValue('--node-bg'));
    return fam.map((f, i) => Math.round(0.6 * f + 0.4 * bg[i]!));
  }, id);
}

const selectedId = (page: Page) => page.locator('[data-testid="node-id"]').inputValue({ timeout: 2000 }).catch(() => null);

describe('large graph', () => {
  it('draws a zoomed-out graph on a canvas, where clicks select and drags move, and shows the DOM nodes zoomed in', async () => {
    await dropPipeline(s.page, JSON.parse(largePipeline(GROUPS)), 'large.json');
    // Opened at the default zoom with DOM nodes, measured, then fitted: far out, so drawn on the canvas.
    await s.page.waitForSelector('.canvas.far [data-testid="graph-layer"]', { timeout: 30_000 });
    const v = await viewport(s.page);
    expect(v.zoom).toBeLessThan(0.18);
    // React Flow's DOM stays laid out but is not painted.
    expect(await s.page.$eval('.react-flow__node[data-id="cmp0"]', (e) => getComputedStyle(e).visibility)).toBe('hidden');
    expect(await s.page.$eval('.react-flow__edges', (e) => getComputedStyle(e).visibility)).toBe('hidden');
    // Every kind of node is painted where it is, in its family's colour; between them, nothing.
    for (const id of ['qkv0', 'naive13', 'flash27', 'cmp39', 'out21']) {
      const px = await pixel(s.page, await onScreen(s.page, fillPoint(await flowBox(s.page, id))));
      const want = await expectedFill(s.page, id);
      expect(px[3], `${id} painted`).toBe(255);
      for (let i = 0; i < 3; i++) expect(Math.abs(px[i]! - want[i]!), `${id} colour ${px} vs ${want}`).toBeLessThanOrEqual(4);
    }
    // The zoomed-out text (graph-layer.ts lodLines) at 48 flow px, drawn where that is at least 7 px on screen.
    const textPx = Number(await s.page.getAttribute('[data-testid="graph-layer"]', 'data-text-px'));
    expect(textPx, `text on screen at zoom ${v.zoom}`).toBe(48 * v.zoom >= 7 ? Number((48 * v.zoom).toFixed(1)) : 0);
    // Left of the leftmost node (in the fit's margin): nothing.
    const left = await flowBox(s.page, 'qkv0');
    expect((await pixel(s.page, await onScreen(s.page, { x: left.x - 100, y: left.y + left.h / 2 })))[3]).toBe(0);

    // A click on a drawn node selects it: the inspector shows it, and the canvas rings it in the accent colour.
    const cmp = await flowBox(s.page, 'cmp12');
    const cursor = () => s.page.$eval('.react-flow__pane', (e) => getComputedStyle(e).cursor);
    await s.page.mouse.move(...xy(await onScreen(s.page, inside(cmp))));
    expect(await cursor()).toBe('pointer'); // over a drawn node
    await s.page.mouse.move(...xy(await onScreen(s.page, { x: left.x - 100, y: left.y })));
    expect(await cursor()).toBe('grab');
    await s.page.mouse.click(...xy(await onScreen(s.page, inside(cmp))));
    await expect.poll(() => selectedId(s.page)).toBe('cmp12');
    const ringAt = await onScreen(s.page, { x: cmp.x + cmp.w / 2, y: cmp.y });
    const ring = await pixel(s.page, { x: ringAt.x, y: ringAt.y - 2.5 }); // 2.5 px above the box
    const accent = await s.page.evaluate(() => getComputedStyle(document.querySelector('.canvas')!).getPropertyValue('--accent').trim());
    expect(ring[3]).toBe(255);
    expect(`#${ring.slice(0, 3).map((c) => c.toString(16).padStart(2, '0')).join('')}`).toBe(accent);
    await shot(s.page, 'large-graph-far');

    // A drag moves it (by the drag ÷ zoom in flow units), through React Flow's node changes.
    const before = await s.page.$eval('[data-id="cmp12"]', (e) => (e as HTMLElement).style.transform);
    const from = await onScreen(s.page, inside(cmp));
    await s.page.mouse.move(from.x, from.y);
    await s.page.mouse.down();
    await s.page.mouse.move(from.x, from.y + 20, { steps: 4 });
    await s.page.mouse.move(from.x, from.y + 40, { steps: 4 });
    await s.page.mouse.up();
    const moved = await s.page.$eval('[data-id="cmp12"]', (e) => /translate\(([-\d.]+)px, ([-\d.]+)px\)/.exec((e as HTMLElement).style.transform)!.slice(1).map(Number));
    // Moved down by 40 px on screen, within the 16-unit grid when snap is on; the view did not pan.
    expect(Math.abs(moved[0]! - cmp.x)).toBeLessThanOrEqual(16);
    expect(Math.abs(moved[1]! - cmp.y - 40 / v.zoom)).toBeLessThanOrEqual(16);
    expect(await viewport(s.page)).toEqual(v);
    // The canvas follows: the node's colour is now 40 px lower, and its old top is empty.
    await expect.poll(async () => (await pixel(s.page, await onScreen(s.page, { x: cmp.x + cmp.w / 2, y: cmp.y + 4 })))[3]).toBe(0);
    expect((await pixel(s.page, { x: from.x, y: from.y + 40 }))[3]).toBe(255);
    await s.page.keyboard.press('Control+z');
    await expect.poll(() => s.page.$eval('[data-id="cmp12"]', (e) => (e as HTMLElement).style.transform)).toBe(before);

    // A drag on the empty canvas pans: the drawing follows at once, React Flow's viewport at the release.
    const empty0 = await onScreen(s.page, { x: left.x - 100, y: left.y + left.h / 2 });
    await s.page.mouse.move(empty0.x, empty0.y);
    await s.page.mouse.down();
    await s.page.mouse.move(empty0.x + 30, empty0.y + 20, { steps: 5 });
    await s.page.mouse.move(empty0.x + 60, empty0.y + 40, { steps: 5 });
    await s.page.mouse.up();
    await expect.poll(async () => (await viewport(s.page)).x).toBeCloseTo(v.x + 60, 0);
    expect((await viewport(s.page)).y).toBeCloseTo(v.y + 40, 0);
    expect(await selectedId(s.page)).toBe('cmp12'); // a pan is not a click
    const cmpNow = await onScreen(s.page, inside(cmp));
    expect((await pixel(s.page, cmpNow))[3]).toBe(255);
    // React Flow moving the view (the Fit View button) moves the drawing with it.
    const panned = await viewport(s.page);
    await s.page.click('[aria-label="Fit View"]');
    await expect.poll(async () => (await viewport(s.page)).x).not.toBeCloseTo(panned.x, 0);
    await expect.poll(async () => (await pixel(s.page, await onScreen(s.page, inside(cmp))))[3]).toBe(255);

    // A click on the empty canvas, with a hand's few pixels of jitter, deselects.
    const empty = await onScreen(s.page, { x: left.x - 100, y: left.y + left.h / 2 });
    await jitteryClick(s.page, empty);
    await expect.poll(() => selectedId(s.page)).toBeNull();
    expect(await s.page.textContent('[data-testid="inspector"]')).toContain(`${GROUPS * 5} nodes`);
    // A double-click there opens quick add, as it does zoomed in.
    await s.page.mouse.dblclick(empty.x, empty.y);
    await s.page.waitForSelector('[aria-label="Search nodes to add"]');
    await s.page.keyboard.press('Escape');
    await s.page.waitForSelector('[aria-label="Search nodes to add"]', { state: 'detached' });

    // Select again, then zoom in past the threshold: the DOM nodes are back, the selection with them.
    await s.page.mouse.click(...xy(await onScreen(s.page, inside(cmp))));
    await expect.poll(() => selectedId(s.page)).toBe('cmp12');
    const centre = await onScreen(s.page, inside(cmp));
    await s.page.mouse.move(centre.x, centre.y);
    // Each step waits for the layer to hand its view to React Flow (150 ms after the wheel stops).
    for (let i = 0; i < 30 && (await viewport(s.page)).zoom < 0.5; i++) {
      await s.page.mouse.wheel(0, -100);
      await s.page.waitForTimeout(220);
    }
    await s.page.waitForSelector('[data-testid="graph-layer"]', { state: 'detached' });
    expect(await s.page.locator('.canvas.far').count()).toBe(0);
    const node = s.page.locator('.react-flow__node[data-id="cmp12"]');
    expect(await node.evaluate((e) => getComputedStyle(e).visibility)).toBe('visible');
    expect(await node.getAttribute('class')).toContain('selected');
    const box = (await node.boundingBox())!;
    expect(box.width).toBeGreaterThan(100); // 236 px at zoom ≥ 0.5
    expect(await s.page.locator('.react-flow__edge').count()).toBe(GROUPS * 9);
    await shot(s.page, 'large-graph-near');

    // Zoomed in, a jittery click on the empty pane deselects too.
    const pane = await s.page.evaluate(() => {
      const p = document.querySelector('.react-flow__pane')!.getBoundingClientRect();
      for (let y = p.top + 30; y < p.bottom - 30; y += 10)
        for (let x = p.left + 60; x < p.right - 60; x += 10) if (document.elementFromPoint(x, y)?.classList.contains('react-flow__pane')) return { x, y };
      return null;
    });
    expect(pane).not.toBeNull();
    await jitteryClick(s.page, pane!);
    await expect.poll(() => selectedId(s.page)).toBeNull();
    expect(s.errors).toEqual([]);
  });

  it('draws a 500-node file on the canvas before its DOM nodes exist, then mounts them behind it', async () => {
    // Every animation frame from the drop: the DOM nodes mounted when the layer first showed all 500.
    await s.page.evaluate(() => {
      const w = window as unknown as { domAtDraw?: number };
      delete w.domAtDraw;
      const check = () => {
        const layer = Number(document.querySelector<HTMLElement>('.canvas.far [data-testid="graph-layer"]')?.dataset.nodes ?? 0);
        if (layer >= 500) w.domAtDraw = document.querySelectorAll('.react-flow__node[data-id]').length;
        else requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    });
    await dropPipeline(s.page, JSON.parse(largePipeline()), 'large-500.json');
    await s.page.waitForFunction(() => (window as unknown as { domAtDraw?: number }).domAtDraw !== undefined, null, { timeout: 30_000 });
    expect(await s.page.evaluate(() => (window as unknown as { domAtDraw: number }).domAtDraw)).toBeLessThan(500);
    // Then every DOM node is mounted and measured (hidden under the layer), the layer still drawing.
    await s.page.waitForFunction(() => [...document.querySelectorAll('.react-flow__node[data-id]')].filter((e) => (e as HTMLElement).style.visibility === 'visible').length === 500, null, { timeout: 60_000 });
    expect(await s.page.locator('.canvas.far [data-testid="graph-layer"]').count()).toBe(1);
    const px = await pixel(s.page, await onScreen(s.page, inside(await flowBox(s.page, 'flash57'))));
    expect(px[3]).toBe(255);
    // Zoomed in past the threshold: the DOM nodes.
    const at = await onScreen(s.page, inside(await flowBox(s.page, 'flash57')));
    await s.page.mouse.move(at.x, at.y);
    for (let i = 0; i < 40 && (await viewport(s.page)).zoom < FAR_ZOOM * 1.5; i++) {
      await s.page.mouse.wheel(0, -100);
      await s.page.waitForTimeout(220);
    }
    await s.page.waitForSelector('[data-testid="graph-layer"]', { state: 'detached' });
    expect(await s.page.locator('.react-flow__node[data-id="flash57"]').evaluate((e) => getComputedStyle(e).visibility)).toBe('visible');
    expect(s.errors).toEqual([]);
  });

  it('deselects on a click on the empty pane of a small graph, even with a few pixels of jitter', async () => {
    await openExample(s.page, 'rope-scaling.json');
    await s.page.click('[aria-label="Fit View"]');
    const first = s.page.locator('.react-flow__node').first();
    const id = await first.getAttribute('data-id');
    await first.click();
    await expect.poll(() => selectedId(s.page)).toBe(id);
    const pane = await s.page.evaluate(() => {
      const p = document.querySelector('.react-flow__pane')!.getBoundingClientRect();
      for (let y = p.top + 30; y < p.bottom - 30; y += 10)
        for (let x = p.left + 60; x < p.right - 60; x += 10) if (document.elementFromPoint(x, y)?.classList.contains('react-flow__pane')) return { x, y };
      return null;
    });
    await jitteryClick(s.page, pane!);
    await expect.poll(() => selectedId(s.page)).toBeNull();
    expect(await s.page.locator('.react-flow__node.selected').count()).toBe(0);
    expect(s.errors).toEqual([]);
  });
});

const xy = (p: { x: number; y: number }) => [p.x, p.y] as const;

/** A click whose pointer moves 3 px between press and release, as a hand's does. */
async function jitteryClick(page: Page, at: { x: number; y: number }) {
  await page.mouse.move(at.x, at.y);
  await page.mouse.down();
  await page.mouse.move(at.x + 2, at.y + 1);
  await page.mouse.move(at.x + 3, at.y + 1);
  await page.mouse.up();
}
