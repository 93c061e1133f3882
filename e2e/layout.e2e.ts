// What a new user sees first: every example opens with no node over another, no shape label under a
// node or over another label, the pipeline's name not cut; errors are shown in full and a node that
// grows pushes its neighbours away; zoomed out on a 15+ node graph the badges stay readable.
import { describe, expect, it } from 'vitest';
import { dropPipeline, openExample, run, selectBackend, shot, useBrowserSession } from './helpers.js';

const s = useBrowserSession({ webgpu: false });

type Box = { id: string; x: number; y: number; w: number; h: number };

/** Pairs of DOM boxes that overlap by more than `margin` px both ways. */
function overlapping(a: Box[], b: Box[] = a, margin = 1): string[] {
  const out: string[] = [];
  for (let i = 0; i < a.length; i++)
    for (let j = a === b ? i + 1 : 0; j < b.length; j++) {
      const [p, q] = [a[i]!, b[j]!];
      const ox = Math.min(p.x + p.w, q.x + q.w) - Math.max(p.x, q.x);
      const oy = Math.min(p.y + p.h, q.y + q.h) - Math.max(p.y, q.y);
      if (ox > margin && oy > margin) out.push(`${p.id} × ${q.id}`);
    }
  return out;
}

async function boxes(selector: string, idAttr: string): Promise<Box[]> {
  return s.page.$$eval(
    selector,
    (els, idAttr) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        return { id: e.getAttribute(idAttr) ?? '?', x: r.x, y: r.y, w: r.width, h: r.height };
      }),
    idAttr,
  );
}

/** Waits until the canvas has settled (nodes measured, an on-open layout and fit done). */
async function settled() {
  let last = '';
  for (let i = 0; i < 40; i++) {
    const now = await s.page.$eval('.react-flow__viewport', (e) => (e as HTMLElement).style.transform + JSON.stringify([...document.querySelectorAll('.react-flow__node')].map((n) => (n as HTMLElement).style.transform)));
    if (now === last) return;
    last = now;
    await s.page.waitForTimeout(250);
  }
}

describe('layout', () => {
  it('opens every example with no overlapping nodes or labels and the whole name shown', async () => {
    const files = await s.page.$$eval('[data-testid^="example-"]', (els) => els.map((e) => e.getAttribute('data-testid')!.slice('example-'.length)));
    expect(files.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const file of files) {
      await openExample(s.page, file);
      await settled();
      const nodes = await boxes('.react-flow__node', 'data-id');
      // Shape labels are drawn only where the zoom leaves text readable.
      const labels = await boxes('.edge-label', 'data-testid');
      const visibleLabels = (await s.page.locator('.canvas.lod').count()) ? [] : labels;
      // The name may be cut only when the top bar has no room left (its spacer is squeezed to nothing).
      const name = await s.page.$eval('.docname input', (e) => ({ scroll: e.scrollWidth, client: e.clientWidth, room: document.querySelector('.topbar .spacer')!.getBoundingClientRect().width }));
      problems.push(
        ...overlapping(nodes).map((p) => `${file}: nodes ${p}`),
        ...overlapping(visibleLabels).map((p) => `${file}: labels ${p}`),
        ...overlapping(visibleLabels, nodes).map((p) => `${file}: label under node ${p}`),
        ...(name.scroll > name.client + 1 && name.room > 4 ? [`${file}: name cut (${name.scroll} > ${name.client} px) with ${name.room} px free`] : []),
      );
      if (file === 'sparse-attention.json') await shot(s.page, 'layout-sparse-attention');
    }
    expect(problems).toEqual([]);
  });

  it('shows every error in full, and a node that grows pushes the nodes under it down', async () => {
    const long = `no-such-folder/${'a-very-long-file-name-'.repeat(6)}.npy`;
    // An unknown type: one box with its problem in full (it used to show a second, clipped copy).
    await dropPipeline(s.page, {
      format: 'context-lab/pipeline',
      version: 1,
      name: 'unknown type',
      nodes: [{ id: 'weird', type: 'no.such-type', position: { x: 0, y: 0 } }],
    });
    await settled();
    expect(await s.page.locator('[data-testid="node-weird"] .pnode-error').count()).toBe(1);
    expect(await s.page.textContent('[data-testid="error-weird"]')).toMatch(/unknown node type "no\.such-type"/);
    const weird = await s.page.locator('[data-testid="error-weird"]').evaluate((e) => e.scrollHeight - e.clientHeight);
    expect(weird).toBeLessThanOrEqual(1);
    // A run-time failure with a long message, on a node with another node under it.
    await dropPipeline(s.page, {
      format: 'context-lab/pipeline',
      version: 1,
      name: 'a node grows',
      nodes: [
        { id: 'missing', type: 'source.npy', params: { path: long, shape: [4, 4] }, position: { x: 0, y: 0 } },
        { id: 'save', type: 'sink.npy', params: { name: 'missing' }, position: { x: 400, y: 0 } },
        { id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 1, seqLen: 16, headDim: 8 }, position: { x: 0, y: 150 } },
        { id: 'att', type: 'attention', params: { variant: 'naive' }, position: { x: 400, y: 150 } },
      ],
      edges: [{ from: 'missing.out', to: 'save.in' }, ...['q', 'k', 'v'].map((p) => ({ from: `qkv.${p}`, to: `att.${p}` }))],
    });
    await settled();
    expect(overlapping(await boxes('.react-flow__node', 'data-id'))).toEqual([]);
    await selectBackend(s.page, 'cpu');
    expect(await run(s.page)).toBe('failed');
    await settled();
    const error = s.page.locator('[data-testid="error-missing"]');
    expect(await error.textContent()).toContain(long);
    const clip = await error.evaluate((e) => ({ scroll: e.scrollHeight, client: e.clientHeight, sw: e.scrollWidth, cw: e.clientWidth }));
    expect(clip.scroll).toBeLessThanOrEqual(clip.client + 1);
    expect(clip.sw).toBeLessThanOrEqual(clip.cw + 1);
    // `missing` grew by its error box: `qkv`, under it, moved down instead of covering it.
    expect(overlapping(await boxes('.react-flow__node', 'data-id'))).toEqual([]);
    await shot(s.page, 'error-in-full');
    expect(s.errors).toEqual([]);
  });

  it('keeps the badges readable at fit zoom on a graph of 15+ nodes', async () => {
    await openExample(s.page, 'rope-scaling.json');
    await selectBackend(s.page, 'wasm');
    expect(await run(s.page, 120_000)).toMatch(/^done/);
    await s.page.click('[aria-label="Fit View"]');
    await settled();
    const zoom = await s.page.$eval('.react-flow__viewport', (e) => Number(/scale\(([\d.]+)\)/.exec((e as HTMLElement).style.transform)![1]));
    expect(await s.page.locator('.react-flow__node').count()).toBeGreaterThanOrEqual(15);
    // Each node's zoomed-out badges (or its normal badges when the zoom is not that low): at least 9 px
    // on screen, and inside the node's box.
    const checks = await s.page.$$eval(
      '.react-flow__node',
      (els, zoom) =>
        els.map((n) => {
          const lod = document.querySelector('.canvas.lod') !== null;
          const spans = [...n.querySelectorAll(lod ? '.pnode-lod > span' : '.badges .badge')] as HTMLElement[];
          const box = n.getBoundingClientRect();
          return {
            id: n.getAttribute('data-id'),
            count: spans.length,
            px: Math.min(...spans.map((e) => parseFloat(getComputedStyle(e).fontSize) * zoom)),
            inside: spans.every((e) => {
              const r = e.getBoundingClientRect();
              return r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
            }),
          };
        }),
      zoom,
    );
    for (const c of checks) {
      expect(c.count, `${c.id} has badges`).toBeGreaterThan(0);
      expect(c.px, `${c.id}: badge font on screen at zoom ${zoom}`).toBeGreaterThanOrEqual(9);
      expect(c.inside, `${c.id}: badges inside the node`).toBe(true);
    }
    await shot(s.page, 'badges-zoomed-out');
    expect(s.errors).toEqual([]);
  });
});
