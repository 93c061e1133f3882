// Files on the web host (upload/download mode, as in browsers without the File System Access API):
// save and reload give the same JSON, the dirty marker, autosave recovery, dropping a file.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { docJson, launch, open, openExample, selectNode, setParam, shot, type Session } from './helpers.js';

let browser: Browser;
let s: Session;
let page: Page;

beforeAll(async () => {
  browser = await launch();
  s = await open(browser, { query: 'fs=basic' });
  page = s.page;
});
afterAll(async () => {
  await browser?.close();
});

async function saveAndRead(page: Page, keys = 'Control+s'): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press(keys)]);
  return readFileSync((await download.path())!, 'utf8');
}

describe('files', () => {
  let saved = '';

  it('opens an example from the start screen', async () => {
    await openExample(page, 'flash-vs-naive.json');
    expect(await page.locator('.react-flow__node').count()).toBe(6);
    expect(await page.inputValue('[aria-label="Pipeline name"]')).toBe('flash vs naive');
  });

  it('marks edits dirty and saves (download) what the editor holds', async () => {
    await selectNode(page, 'flash');
    await setParam(page, 'blockSize', '64');
    await page.locator('.react-flow__pane').click({ position: { x: 30, y: 30 } });
    await page.waitForSelector('[data-testid="dirty"]');
    saved = await saveAndRead(page);
    const doc = JSON.parse(saved);
    expect(doc.format).toBe('context-lab/pipeline');
    expect(doc.nodes.find((n: { id: string }) => n.id === 'flash').params.blockSize).toBe(64);
    // Fields the editor does not own survive: checks and the description.
    expect(doc.checks.length).toBeGreaterThan(0);
    expect(saved).toBe(await docJson(page));
    await page.waitForSelector('[data-testid="dirty"]', { state: 'detached' });
  });

  it('exports the pipeline as TypeScript and as JSON (File menu, Ctrl E), listed in the shortcut sheet', async () => {
    const [ts] = await Promise.all([page.waitForEvent('download'), (async () => (await page.click('[data-testid="file-menu"]'), page.click('[data-testid="menu-export-ts"]')))()]);
    expect(ts.suggestedFilename()).toBe('flash-vs-naive.ts');
    const code = readFileSync((await ts.path())!, 'utf8');
    // The module the CLI's `ctxlab export --ts` writes: the engine's builder API, every node, the edited param.
    expect(code).toMatch(/import \{ pipeline, PipelineLoadError, runPipeline, writeOutputs \} from 'context-lab';/);
    for (const id of ['qkv', 'naive', 'flash', 'cmp']) expect(code).toContain(`'${id}'`);
    expect(code).toMatch(/blockSize: 64/);
    const [json] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Control+Shift+e')]);
    expect(json.suggestedFilename()).toBe('flash-vs-naive.json');
    expect(readFileSync((await json.path())!, 'utf8')).toBe(await docJson(page));
    // Exporting does not change the document's file or its saved state.
    await page.waitForSelector('[data-testid="dirty"]', { state: 'detached' });
    const [again] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Control+e')]);
    expect(readFileSync((await again.path())!, 'utf8')).toBe(code);
    await page.keyboard.press('?');
    expect(await page.textContent('[data-testid="help"]')).toContain('Export as TypeScript (⇧ for JSON)');
    await page.keyboard.press('Escape');
  });

  it('round-trips: reload, open the saved file, save again: equal JSON', async () => {
    await page.reload();
    await page.waitForSelector('[data-testid="start-screen"]');
    const tmp = `/tmp/ctxlab-e2e-${process.pid}.json`;
    (await import('node:fs')).writeFileSync(tmp, saved);
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('[data-testid="start-screen"] .start-card:has-text("Open a file")')]);
    await chooser.setFiles(tmp);
    await page.waitForSelector('[data-testid="start-screen"]', { state: 'detached' });
    expect(await docJson(page)).toBe(saved);
    const again = await saveAndRead(page, 'Control+Shift+s');
    expect(again).toBe(saved);
  });

  it('recovers unsaved work after the page goes away', async () => {
    await selectNode(page, 'qkv');
    await setParam(page, 'seed', '99');
    const before = await docJson(page);
    await page.waitForTimeout(1600); // autosave runs a second after the last change
    await page.reload();
    await page.waitForSelector('[data-testid="recovery"]');
    await shot(page, 'start-screen');
    await page.click('[data-testid="recover"]');
    expect(await docJson(page)).toBe(before);
    await page.waitForSelector('[data-testid="dirty"]');
  });

  it('asks before a blank pipeline (or any other document) deletes recovered work', async () => {
    await page.waitForTimeout(1600); // the recovered document is dirty: it is autosaved again
    await page.reload();
    await page.waitForSelector('[data-testid="recovery"]');
    // Cancel: nothing is lost, the banner stays.
    let asked = '';
    page.removeAllListeners('dialog'); // helpers.open accepts every dialog
    page.once('dialog', (d) => ((asked = d.message()), void d.dismiss()));
    await page.click('[data-testid="start-blank"]');
    await expect.poll(() => asked).toMatch(/Discard the unsaved work recovered from/);
    await page.waitForSelector('[data-testid="recovery"]');
    expect(await page.isVisible('[data-testid="start-screen"]')).toBe(true);
    // OK: the blank pipeline replaces it, and the recovery is gone for good.
    page.on('dialog', (d) => void d.accept());
    await page.click('[data-testid="start-blank"]');
    await page.waitForSelector('[data-testid="start-screen"]', { state: 'detached' });
    await page.reload();
    await page.waitForSelector('[data-testid="start-screen"]');
    await page.waitForTimeout(300);
    expect(await page.isVisible('[data-testid="recovery"]')).toBe(false);
  });

  it('clears an error about a file that failed to open when the next one opens', async () => {
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['{ not json'], 'broken.json', { type: 'application/json' }));
      const app = document.querySelector('.app')!;
      app.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await expect.poll(() => page.locator('.toast.error').allTextContents()).toEqual([expect.stringContaining('broken.json is not valid JSON')]);
    await openExample(page, 'flash-vs-naive.json');
    expect(await page.locator('.toast.error').count()).toBe(0);
  });

  it('opens a .json dropped on the window', async () => {
    const doc = JSON.parse(saved);
    doc.name = 'dropped pipeline';
    await page.evaluate((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'dropped.json', { type: 'application/json' }));
      const app = document.querySelector('.app')!;
      app.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      app.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, JSON.stringify(doc));
    await expect.poll(() => page.inputValue('[aria-label="Pipeline name"]')).toBe('dropped pipeline');
    expect(s.errors).toEqual([]);
  });
});
