// The editor on a large graph (issue 13 item 11), measured in headless Chromium with a trace: a
// generated 500-node, 900-edge pipeline is dropped on the window (time to the first frame with every
// node drawn), then panned at fit view and zoomed with the wheel; frame times come from the trace's
// DrawFrame events, long main-thread tasks from its RunTask events. Serves the built web app
// (`out/renderer`, rebuilt when the sources are newer) or the one at CTXLAB_URL.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const GROUPS = 100; // 5 nodes each: source, two attention kernels, compare, sink

/** 100 groups of synthetic Q/K/V → naive and flash attention → compare, .npy sink: 500 nodes, 900 edges. */
export function largePipeline(): string {
  const nodes: unknown[] = [];
  const edges: { from: string; to: string }[] = [];
  for (let g = 0; g < GROUPS; g++) {
    const x = (g % 10) * 1150;
    const y = Math.floor(g / 10) * 620;
    nodes.push(
      { id: `qkv${g}`, type: 'source.synthetic-qkv', params: { heads: 2, seqLen: 64, headDim: 16, seed: g }, position: { x, y: y + 150 } },
      { id: `naive${g}`, type: 'attention', params: { variant: 'naive' }, position: { x: x + 350, y } },
      { id: `flash${g}`, type: 'attention', params: { variant: 'flash', blockSize: 32 }, position: { x: x + 350, y: y + 300 } },
      { id: `cmp${g}`, type: 'compare', params: {}, position: { x: x + 700, y: y + 150 } },
      { id: `out${g}`, type: 'sink.npy', params: { name: `out${g}` }, position: { x: x + 1000, y: y + 150 } },
    );
    for (const p of ['q', 'k', 'v']) edges.push({ from: `qkv${g}.${p}`, to: `naive${g}.${p}` }, { from: `qkv${g}.${p}`, to: `flash${g}.${p}` });
    edges.push({ from: `flash${g}.out`, to: `cmp${g}.a` }, { from: `naive${g}.out`, to: `cmp${g}.b` }, { from: `flash${g}.out`, to: `out${g}.in` });
  }
  return JSON.stringify({ format: 'context-lab/pipeline', version: 1, name: '500 nodes', nodes, edges });
}

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Drops the document on the window; ms from the drop to the first frame with every node drawn. */
async function openLarge(page: Page, text: string): Promise<number> {
  return page.evaluate(async (text) => {
    const t0 = performance.now();
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'bench-500.json', { type: 'application/json' }));
    const app = document.querySelector('.app')!;
    app.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    app.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    const ok = await new Promise<boolean>((done) => {
      const check = () => {
        const drawn = [...document.querySelectorAll('.react-flow__node[data-id]')].filter((e) => (e as HTMLElement).style.visibility !== 'hidden').length;
        if (drawn >= 500) requestAnimationFrame(() => done(true));
        else if (performance.now() - t0 > 60_000) done(false);
        else requestAnimationFrame(check);
      };
      check();
    });
    if (!ok) throw new Error(`only ${document.querySelectorAll('.react-flow__node[data-id]').length} nodes drawn after 60 s`);
    return performance.now() - t0;
  }, text);
}

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  /** Thread (CPU) time: unlike wall time, barely changed by other processes on a loaded machine. */
  tdur?: number;
  pid: number;
  tid: number;
  args?: { data?: { type?: string } };
}

/** Frame intervals (ms) and long tasks (ms) inside the window of the interaction's input events. */
function framesOf(events: TraceEvent[]) {
  const inputs = events.filter((e) => e.name === 'EventDispatch' && /^(mousemove|wheel|pointermove)$/.test(e.args?.data?.type ?? '')).map((e) => e.ts);
  if (!inputs.length) throw new Error('no input events in the trace');
  const [from, to] = [Math.min(...inputs), Math.max(...inputs) + 100_000];
  // DrawFrame is emitted once per presented frame by the compositor of the page's renderer.
  const draws = events.filter((e) => e.name === 'DrawFrame' && e.ts >= from && e.ts <= to).map((e) => e.ts).sort((a, b) => a - b);
  const frames = draws.slice(1).map((t, i) => (t - draws[i]!) / 1000);
  const main = mainThread(events);
  const tasks = events.filter((e) => e.name === 'RunTask' && e.ph === 'X' && e.tid === main && e.ts >= from && e.ts <= to);
  const long = tasks.filter((e) => (e.dur ?? 0) > 50_000).map((e) => e.dur! / 1000);
  // Main-thread CPU per input event: the work each pan or zoom step costs, comparable under load.
  const cpuPerInput = tasks.reduce((a, e) => a + (e.tdur ?? 0), 0) / 1000 / inputs.length;
  return { frames, long, cpuPerInput };
}

/** The renderer's main thread: the one that dispatched the input events. */
function mainThread(events: TraceEvent[]): number {
  return events.find((e) => e.name === 'EventDispatch')!.tid;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
};

async function traced(page: Page, browser: import('playwright-core').Browser, name: string, act: () => Promise<void>) {
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-devtools.timeline.frame', 'toplevel'] });
  await act();
  await page.waitForTimeout(300);
  const buf = await browser.stopTracing();
  if (process.env.BENCH_TRACE_DIR) writeFileSync(join(process.env.BENCH_TRACE_DIR, `editor-${name}.json`), buf);
  const json = JSON.parse(buf.toString('utf8')) as { traceEvents: TraceEvent[] };
  return framesOf(json.traceEvents);
}

export async function benchEditor(): Promise<string> {
  let url = process.env.CTXLAB_URL;
  let close = async () => {};
  if (!url) {
    const web = (await import('../scripts/web.mjs' as string)) as {
      RENDERER_DIR: string;
      ensureBuilt(o: { force: boolean }): void;
      serve(o: { port: number }): Promise<{ url: string; close(): Promise<void> }>;
    };
    const index = join(web.RENDERER_DIR, 'index.html');
    const stale = !existsSync(index) || statSync(index).mtimeMs < Math.max(newest(join(repo, 'src')), newest(join(repo, 'pipelines')));
    web.ensureBuilt({ force: stale });
    const server = await web.serve({ port: 0 });
    url = server.url;
    close = () => server.close();
  }
  const text = largePipeline();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-background-networking', '--no-first-run'] });
  const load0 = loadavg()[0]!;
  try {
    const context = await browser.newContext({ viewport: { width: 1480, height: 900 }, colorScheme: 'dark' });
    await context.addInitScript('globalThis.__name = (f) => f');
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const openMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(url);
      await page.waitForSelector('[data-testid="start-screen"]');
      openMs.push(await openLarge(page, text));
    }
    await page.waitForTimeout(1500); // the on-open fit
    const pane = (await page.locator('.react-flow__pane').boundingBox())!;
    const cx = pane.x + pane.width / 2;
    const cy = pane.y + pane.height / 2;
    // Pan: a two-second drag back and forth across the canvas at fit view.
    const pan = await traced(page, browser, 'pan', async () => {
      await page.mouse.move(cx + 200, cy);
      await page.mouse.down();
      const t0 = Date.now();
      for (let i = 0; Date.now() - t0 < 2000; i++) {
        const phase = (i % 60) / 60;
        await page.mouse.move(cx + 200 - 400 * Math.sin(phase * Math.PI), cy + 120 * Math.sin(phase * 2 * Math.PI));
      }
      await page.mouse.up();
    });
    await page.click('[aria-label="Fit View"]');
    await page.waitForTimeout(500);
    // Zoom: wheel steps in to 4× the fit zoom and back out, through the zoomed-out drawing's steps.
    const zoom = await traced(page, browser, 'zoom', async () => {
      await page.mouse.move(cx, cy);
      for (const dir of [-1, 1]) {
        for (let i = 0; i < 20; i++) {
          await page.mouse.wheel(0, dir * 60);
          await page.waitForTimeout(30);
        }
      }
    });
    await page.screenshot({ path: join(repo, 'docs', 'screenshots', 'bench-500-nodes.png') });
    const load1 = loadavg()[0]!;
    const row = (name: string, r: { frames: number[]; long: number[]; cpuPerInput: number }) =>
      `| ${name} | ${r.frames.length} | ${pct(r.frames, 0.5).toFixed(1)} | ${pct(r.frames, 0.95).toFixed(1)} | ${Math.max(0, ...r.frames).toFixed(1)} | ${r.long.length}${r.long.length ? ` (max ${Math.max(...r.long).toFixed(0)} ms)` : ''} | ${r.cpuPerInput.toFixed(1)} |`;
    return [
      '## Editor: a 500-node graph',
      '',
      `\`bench/editor.ts\`: headless ${browser.version()} on ${cpus().length} cores, 1480×900 window. A generated pipeline of 500 nodes and`,
      `${GROUPS * 9} edges (${GROUPS} groups of synthetic Q/K/V → naive and flash attention → compare, .npy sink) is dropped on the`,
      'window: open is timed from the drop to the first frame with every node drawn (parse, validate, compile with shape',
      'inference, React Flow render). Then a 2 s drag pans it at fit view and 40 wheel steps zoom in and back out; frame',
      "times are the intervals between the trace's DrawFrame events while input arrives, long tasks the main thread's",
      'RunTask events over 50 ms, CPU/input the CPU time of those tasks per input event (thread time, which other',
      `processes on the machine change far less than frame times). Load average ${load0.toFixed(1)} before, ${load1.toFixed(1)} after${load0 > 1 || load1 > 1 ? ' (a shared machine: figures under load)' : ''}.`,
      '',
      `- Open: ${openMs.map((m) => `${m.toFixed(0)} ms`).join(', ')} (first cold; target < 1500 ms).`,
      '',
      '| interaction | frames | median ms | p95 ms | max ms | long tasks | CPU/input ms |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      row('pan at fit view', pan),
      row('wheel zoom', zoom),
      '',
      `Target: p95 frame < 50 ms. Page errors: ${errors.length ? errors.join('; ') : 'none'}.`,
      '',
      "Where a frame goes (the trace's main thread, pan at fit view): about half is Paint, since every pan frame",
      "repaints all 500 nodes and 900 edges (the viewport's transform is not composited), then Layerize and React",
      "Flow's store update (each node and edge subscribes to it); a pan captures the pointer, so its moves are not",
      'hit-tested against every node and edge. React stays out of',
      'it: the flow\'s props keep their identity (Canvas.tsx), so a zoom step that changes the level of detail',
      're-renders only the canvas frame, not React Flow and every edge; and a large graph\'s analysis (compile with',
      'shape inference) waits until the browser is idle, so the file is drawn first. Compositing the viewport',
      '(`will-change: transform`) was tried and left out: Chrome splits the graph into ~500 layers (it will not',
      'merge far-apart nodes into one sparse layer), and re-layerizing them each frame cost more than the repaint.',
    ].join('\n');
  } finally {
    await browser.close();
    await close();
  }
}

// Run on its own: `npx tsx bench/editor.ts` prints the section.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) console.log(await benchEditor());
