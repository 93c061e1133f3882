// Shared e2e helpers: launching Chromium (PLATFORM.md's flags), driving the editor, screenshots.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const BASE_URL = process.env.CTXLAB_URL ?? 'http://localhost:5178/';
const SHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'screenshots');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-unsafe-webgpu',
];

type LaunchOptions = { webgpu?: boolean };
type OpenOptions = { query?: string; theme?: 'light' | 'dark'; width?: number; height?: number };

/** Chromium with PLATFORM.md's flags; `webgpu: false` leaves out --enable-unsafe-webgpu (no adapter on Linux). */
export async function launch(opts: LaunchOptions = {}): Promise<Browser> {
  const args = opts.webgpu === false ? CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu') : CHROMIUM_ARGS;
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args });
}

/** Opens a pipeline document as if its file were dropped on the window. */
export async function dropPipeline(page: Page, doc: unknown, name = 'dropped.json') {
  await page.evaluate(
    ([text, name]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], name, { type: 'application/json' }));
      const app = document.querySelector('.app')!;
      app.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      app.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    [JSON.stringify(doc), name] as const,
  );
  await page.waitForSelector('[data-testid="start-screen"]', { state: 'detached' });
}

export interface Session {
  context: BrowserContext;
  page: Page;
  errors: string[];
}

/** A fresh context (empty IndexedDB) and page on the app; `query` e.g. "fs=basic". */
export async function open(browser: Browser, opts: OpenOptions = {}): Promise<Session> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1480, height: opts.height ?? 900 },
    colorScheme: opts.theme ?? 'dark',
    acceptDownloads: true,
  });
  // tsx/esbuild name helpers (`__name`) can leak into functions passed to page.evaluate.
  await context.addInitScript('globalThis.__name = (f) => f');
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => void d.accept());
  await page.goto(`${BASE_URL}${opts.query ? `?${opts.query}` : ''}`);
  await page.waitForSelector('[data-testid="start-screen"]');
  return { context, page, errors };
}

/** The spec file's Chromium (vitest hooks): launched before its tests, closed after them. For specs
 * that open their own contexts; most want `useBrowserSession`. */
export function useBrowser(opts: LaunchOptions = {}): { readonly browser: Browser } {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launch(opts);
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    get browser() {
      if (!browser) throw new Error('useBrowser: Chromium starts in beforeAll; use it inside a test');
      return browser;
    },
  };
}

/** One Chromium and one fresh page on the app for the whole spec file (vitest hooks); `setup` runs
 * once after the page opens (e.g. opening an example). Its fields are read inside tests. */
export function useBrowserSession(opts: LaunchOptions & OpenOptions & { setup?: (page: Page) => Promise<void> } = {}): Session & { readonly browser: Browser } {
  const b = useBrowser(opts);
  let s: Session | undefined;
  beforeAll(async () => {
    s = await open(b.browser, opts);
    await opts.setup?.(s.page);
  });
  const live = () => {
    if (!s) throw new Error('useBrowserSession: the page opens in beforeAll; use it inside a test');
    return s;
  };
  return {
    get browser() {
      return b.browser;
    },
    get context() {
      return live().context;
    },
    get page() {
      return live().page;
    },
    get errors() {
      return live().errors;
    },
  };
}

export async function blank(page: Page) {
  await page.click('[data-testid="start-blank"]');
  await page.waitForSelector('[data-testid="start-screen"]', { state: 'detached' });
}

export async function openExample(page: Page, file: string) {
  const start = page.locator('[data-testid="start-screen"]');
  if (!(await start.isVisible())) {
    await page.click('[data-testid="file-menu"]');
    await page.click('[data-testid="menu-examples"]');
  }
  await page.click(`[data-testid="example-${file}"]`);
  await page.waitForSelector('[data-testid="start-screen"]', { state: 'detached' });
  // The DOM nodes, or the far-zoom layer that draws them when the fit is zoomed out past FAR_ZOOM.
  await page.waitForFunction(
    () => document.querySelector('[data-testid="graph-layer"]') || [...document.querySelectorAll('.react-flow__node')].some((e) => getComputedStyle(e).visibility === 'visible'),
  );
}

/** Drags a palette entry onto the canvas at (x, y) in page coordinates (HTML5 drag and drop). */
export async function dragFromPalette(page: Page, key: string, x: number, y: number) {
  const item = page.locator(`[data-testid="palette-${key}"]`);
  await item.scrollIntoViewIfNeeded();
  await item.dragTo(page.locator('[data-testid="canvas"] .react-flow__pane'), { targetPosition: await paneOffset(page, x, y) });
}

async function paneOffset(page: Page, x: number, y: number) {
  const box = (await page.locator('[data-testid="canvas"] .react-flow__pane').boundingBox())!;
  return { x: x - box.x, y: y - box.y };
}

async function center(page: Page, selector: string) {
  const b = await page.locator(selector).boundingBox();
  if (!b) throw new Error(`no box for ${selector}`);
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

/** Draws an edge with the mouse from an output handle to an input handle; resolves when released. */
export async function connect(page: Page, fromNode: string, fromPort: string, toNode: string, toPort: string, opts: { hold?: (page: Page) => Promise<void> } = {}) {
  // An example that just opened is fitted to the window on a later frame: measure the handles until
  // they stop moving, or the drag starts where a handle was.
  const measure = async () => [await center(page, `[data-testid="out-${fromNode}-${fromPort}"]`), await center(page, `[data-testid="in-${toNode}-${toPort}"]`)] as const;
  let [a, b] = await measure();
  for (let tries = 0; tries < 40; tries++) {
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    const [a2, b2] = await measure();
    const still = a2.x === a.x && a2.y === a.y && b2.x === b.x && b2.y === b.y;
    [a, b] = [a2, b2];
    if (still) break;
  }
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 6 });
  await page.mouse.move(b.x, b.y, { steps: 6 });
  await page.waitForTimeout(60);
  if (opts.hold) await opts.hold(page);
  await page.mouse.up();
}

export async function edgeCount(page: Page) {
  return page.locator('.react-flow__edge').count();
}

export async function selectBackend(page: Page, backend: 'webgpu' | 'wasm' | 'cpu') {
  await page.selectOption('[data-testid="backend"]', backend);
  await page.waitForFunction((b) => document.querySelector('[data-testid="backend-info"]')?.textContent?.includes(b === 'webgpu' ? 'webgpu' : b), backend, { timeout: 60_000 });
}

/** Clicks Run and waits for the run to finish; returns the status text. */
export async function run(page: Page, timeout = 90_000): Promise<string> {
  await page.click('[data-testid="run"]');
  await page.waitForFunction(
    () => {
      const t = document.querySelector('[data-testid="run-status"]')?.textContent ?? '';
      return /^(done|failed|cancelled|not run|refused)/.test(t);
    },
    null,
    { timeout },
  );
  return (await page.textContent('[data-testid="run-status"]')) ?? '';
}

/** Parses "12.3 ms" / "1.20 s" into milliseconds. */
export function parseMs(text: string): number {
  const m = /([\d.]+)\s*(ms|s)\b/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

export async function shot(page: Page, name: string) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Sets a param in the inspector of the selected node (types into its field and blurs it). */
export async function setParam(page: Page, name: string, value: string) {
  const input = page.locator(`[data-testid="param-${name}"]`);
  await input.fill(value);
  await input.press('Enter');
}

export async function selectNode(page: Page, id: string) {
  await page.locator(`[data-testid="node-${id}"] .pnode-head`).click();
  await page.waitForSelector(`[data-testid="node-id"][value="${id}"]`);
}

/** The document as the editor would save it. */
export async function docJson(page: Page): Promise<string> {
  return page.evaluate(() => (window as unknown as { ctxlab_app: { editor: { text(): string } } }).ctxlab_app.editor.text());
}
