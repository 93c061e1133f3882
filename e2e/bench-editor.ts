// Editor benchmark (not a test): a generated 500-node pipeline is dropped on the window; we measure
// the time until every node is drawn, then pan for two seconds and record frame times and long
// tasks. Results go to docs/BENCHMARKS-editor.md. Run with `npm run e2e -- --bench`.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { launch, open } from './helpers.js';

const GROUPS = 100; // 5 nodes each: source, two attention kernels, compare, sink

function generate(): string {
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

const text = generate();
const browser = await launch();
const { page, errors } = await open(browser);
const version = browser.version();

async function measureOpen(): Promise<number> {
  return page.evaluate(async (text) => {
    const t0 = performance.now();
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'bench-500.json', { type: 'application/json' }));
    const app = document.querySelector('.app')!;
    app.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    app.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    // Done when every node is in the DOM and measured (visible), and a frame has been painted.
    const ok = await new Promise<boolean>((resolve) => {
      const check = () => {
        const n = document.querySelectorAll('.react-flow__node[data-id]');
        const visible = [...n].filter((e) => (e as HTMLElement).style.visibility !== 'hidden').length;
        if (visible >= 500) requestAnimationFrame(() => resolve(true));
        else if (performance.now() - t0 > 30_000) resolve(false);
        else requestAnimationFrame(check);
      };
      check();
    });
    if (!ok) throw new Error(`only ${document.querySelectorAll('.react-flow__node[data-id]').length} nodes drawn after 30 s`);
    return performance.now() - t0;
  }, text);
}

const openMs: number[] = [];
for (let i = 0; i < 3; i++) {
  if (i > 0) {
    await page.reload();
    await page.waitForSelector('[data-testid="start-screen"]');
  }
  openMs.push(await measureOpen());
}
await page.waitForTimeout(500);
await page.screenshot({ path: join('docs', 'screenshots', 'bench-500-nodes.png') });

// Pan: a two-second mouse drag across the pane, frames and long tasks recorded in the page.
await page.evaluate(() => {
  const w = window as unknown as { __frames: number[]; __long: number[] };
  w.__frames = [];
  w.__long = [];
  new PerformanceObserver((l) => l.getEntries().forEach((e) => w.__long.push(e.duration))).observe({ type: 'longtask', buffered: false });
  let last = performance.now();
  const tick = (t: number) => {
    w.__frames.push(t - last);
    last = t;
    if (w.__frames.length < 100000) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
});
const pane = (await page.locator('.react-flow__pane').boundingBox())!;
await page.mouse.move(pane.x + pane.width * 0.8, pane.y + pane.height * 0.5);
await page.mouse.down();
const t0 = Date.now();
let i = 0;
while (Date.now() - t0 < 2000) {
  const phase = (i++ % 60) / 60;
  await page.mouse.move(pane.x + pane.width * (0.8 - 0.6 * Math.sin(phase * Math.PI)), pane.y + pane.height * (0.5 + 0.2 * Math.sin(phase * 2 * Math.PI)));
}
await page.mouse.up();
const { frames, long } = await page.evaluate(() => {
  const w = window as unknown as { __frames: number[]; __long: number[] };
  return { frames: w.__frames.slice(2), long: w.__long };
});
await browser.close();

const sorted = [...frames].sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
const over50 = frames.filter((f) => f > 50).length;
const fmt = (x: number) => x.toFixed(1);
let chromium = version;
try {
  chromium = execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim();
} catch {
  /* keep the playwright version */
}

const md = `# Editor benchmarks

Measured by \`e2e/bench-editor.ts\` (\`npm run e2e -- --bench\`) in headless ${chromium} on ${cpus().length} CPU cores
(${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${new Date().toISOString().slice(0, 10)}. Figures are single runs: rough.

## Opening a 500-node pipeline

A generated pipeline of 500 nodes and ${GROUPS * 9} edges (${GROUPS} groups of synthetic Q/K/V → naive and flash attention →
compare, .npy sink) is dropped on the window. Timed from the drop to the first frame after every node is
in the DOM and measured (parse, migration and validation, compile with shape inference, React Flow render).

| run | ms |
| --- | ---: |
${openMs.map((m, k) => `| ${k + 1}${k === 0 ? ' (cold)' : ''} | ${fmt(m)} |`).join('\n')}

Target: under 1500 ms. Best: **${fmt(Math.min(...openMs))} ms**, worst: ${fmt(Math.max(...openMs))} ms.

## Panning it

A two-second mouse drag across the canvas with all 500 nodes in view (fit view), frame intervals from
\`requestAnimationFrame\`, long tasks from the Long Tasks API.

| frames | median ms | p95 ms | max ms | frames > 50 ms | long tasks (> 50 ms) |
| ---: | ---: | ---: | ---: | ---: | ---: |
| ${frames.length} | ${fmt(pct(0.5))} | ${fmt(pct(0.95))} | ${fmt(sorted.at(-1) ?? 0)} | ${over50} | ${long.length}${long.length ? ` (max ${fmt(Math.max(...long))} ms)` : ''} |

Page errors during the benchmark: ${errors.length ? errors.join('; ') : 'none'}.
`;
writeFileSync(join('docs', 'BENCHMARKS-editor.md'), md);
console.log(md);
