// Files on the web host (upload/download mode, as in browsers without the File System Access API):
// save and reload give the same JSON, the dirty marker, autosave recovery, dropping a file.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { docJson, openExample, selectNode, setParam, shot, useBrowserSession } from './helpers.js';

const s = useBrowserSession({ query: 'fs=basic' });

async function saveAndRead(keys = 'Control+s'): Promise<string> {
  const [download] = await Promise.all([s.page.waitForEvent('download'), s.page.keyboard.press(keys)]);
  return readFileSync((await download.path())!, 'utf8');
}

describe('files', () => {
  let saved = '';

  it('opens an example from the start screen', async () => {
    await openExample(s.page, 'flash-vs-naive.json');
    expect(await s.page.locator('.react-flow__node').count()).toBe(6);
    expect(await s.page.inputValue('[aria-label="Pipeline name"]')).toBe('flash vs naive');
  });

  it('marks edits dirty and saves (download) what the editor holds', async () => {
    await selectNode(s.page, 'flash');
    await setParam(s.page, 'blockSize', '64');
    await s.page.locator('.react-flow__pane').click({ position: { x: 30, y: 30 } });
    await s.page.waitForSelector('[data-testid="dirty"]');
    saved = await saveAndRead();
    const doc = JSON.parse(saved);
    expect(doc.format).toBe('context-lab/pipeline');
    expect(doc.nodes.find((n: { id: string }) => n.id === 'flash').params.blockSize).toBe(64);
    // Fields the editor does not own survive: checks and the description.
    expect(doc.checks.length).toBeGreaterThan(0);
    expect(saved).toBe(await docJson(s.page));
    await s.page.waitForSelector('[data-testid="dirty"]', { state: 'detached' });
  });

  it('exports the pipeline as TypeScript and as JSON (File menu, Ctrl E), listed in the shortcut sheet', async () => {
    const [ts] = await Promise.all([s.page.waitForEvent('download'), (async () => (await s.page.click('[data-testid="file-menu"]'), s.page.click('[data-testid="menu-export-ts"]')))()]);
    expect(ts.suggestedFilename()).toBe('flash-vs-naive.ts');
    const code = readFileSync((await ts.path())!, 'utf8');
    // The module the CLI's `ctxlab export --ts` writes: the engine's builder API, every node, the edited param.
    expect(code).toMatch(/import \{ pipeline, PipelineLoadError, runPipeline, writeOutputs \} from 'context-lab';/);
    for (const id of ['qkv', 'naive', 'flash', 'cmp']) expect(code).toContain(`'${id}'`);
    expect(code).toMatch(/blockSize: 64/);
    const [json] = await Promise.all([s.page.waitForEvent('download'), s.page.keyboard.press('Control+Shift+e')]);
    expect(json.suggestedFilename()).toBe('flash-vs-naive.json');
    expect(readFileSync((await json.path())!, 'utf8')).toBe(await docJson(s.page));
    // Exporting does not change the document's file or its saved state.
    await s.page.waitForSelector('[data-testid="dirty"]', { state: 'detached' });
    const [again] = await Promise.all([s.page.waitForEvent('download'), s.page.keyboard.press('Control+e')]);
    expect(readFileSync((await again.path())!, 'utf8')).toBe(code);
    await s.page.keyboard.press('?');
    expect(await s.page.textContent('[data-testid="help"]')).toContain('Export as TypeScript (⇧ for JSON)');
    await s.page.keyboard.press('Escape');
  });

  it('round-trips: reload, open the saved file, save again: equal JSON', async () => {
    await s.page.reload();
    await s.page.waitForSelector('[data-testid="start-screen"]');
    const tmp = `/tmp/ctxlab-e2e-${process.pid}.json`;
    (await import('node:fs')).writeFileSync(tmp, saved);
    const [chooser] = await Promise.all([s.page.waitForEvent('filechooser'), s.page.click('[data-testid="start-screen"] .start-card:has-text("Open a file")')]);
    await chooser.setFiles(tmp);
    await s.page.waitForSelector('[data-testid="start-screen"]', { state: 'detached' });
    expect(await docJson(s.page)).toBe(saved);
    const again = await saveAndRead('Control+Shift+s');
    expect(again).toBe(saved);
  });

  it('recovers unsaved work after the s.page goes away', async () => {
    await selectNode(s.page, 'qkv');
    await setParam(s.page, 'seed', '99');
    const before = await docJson(s.page);
    await s.page.waitForTimeout(1600); // autosave runs a second after the last change
    await s.page.reload();
    await s.page.waitForSelector('[data-testid="recovery"]');
    await shot(s.page, 'start-screen');
    await s.page.click('[data-testid="recover"]');
    expect(await docJson(s.page)).toBe(before);
    await s.page.waitForSelector('[data-testid="dirty"]');
  });

  it('asks before a blank pipeline (or any other document) deletes recovered work', async () => {
    await s.page.waitForTimeout(1600); // the recovered document is dirty: it is autosaved again
    await s.page.reload();
    await s.page.waitForSelector('[data-testid="recovery"]');
    // Cancel: nothing is lost, the banner stays.
    let asked = '';
    s.page.removeAllListeners('dialog'); // helpers.open accepts every dialog
    s.page.once('dialog', (d) => ((asked = d.message()), void d.dismiss()));
    await s.page.click('[data-testid="start-blank"]');
    await expect.poll(() => asked).toMatch(/Discard the unsaved work recovered from/);
    await s.page.waitForSelector('[data-testid="recovery"]');
    expect(await s.page.isVisible('[data-testid="start-screen"]')).toBe(true);
    // OK: the blank pipeline replaces it, and the recovery is gone for good.
    s.page.on('dialog', (d) => void d.accept());
    await s.page.click('[data-testid="start-blank"]');
    await s.page.waitForSelector('[data-testid="start-screen"]', { state: 'detached' });
    await s.page.reload();
    await s.page.waitForSelector('[data-testid="start-screen"]');
    await s.page.waitForTimeout(300);
    expect(await s.page.isVisible('[data-testid="recovery"]')).toBe(false);
  });

  it('clears an error about a file that failed to open when the next one opens', async () => {
    await s.page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['{ not json'], 'broken.json', { type: 'application/json' }));
      const app = document.querySelector('.app')!;
      app.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await expect.poll(() => s.page.locator('.toast.error').allTextContents()).toEqual([expect.stringContaining('broken.json is not valid JSON')]);
    await openExample(s.page, 'flash-vs-naive.json');
    expect(await s.page.locator('.toast.error').count()).toBe(0);
  });

  it('opens a .json dropped on the window', async () => {
    const doc = JSON.parse(saved);
    doc.name = 'dropped pipeline';
    await s.page.evaluate((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'dropped.json', { type: 'application/json' }));
      const app = document.querySelector('.app')!;
      app.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      app.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, JSON.stringify(doc));
    await expect.poll(() => s.page.inputValue('[aria-label="Pipeline name"]')).toBe('dropped pipeline');
    expect(s.errors).toEqual([]);
  });
});
