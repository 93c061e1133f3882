// File commands over the Host: new, open, save, save as, recent, drop, examples; autosave and recovery.
import type { App } from '../app-context.js';
import { DocumentError, docToGraph, emptyGraph } from '../model/graph.js';
import type { HostFile } from '../host/index.js';
import type { ExportKind } from '../host/host.js';
import { exportTypeScript } from '../../engine/export/typescript.js';

export function createFiles(app: App) {
  const { editor, host, ui, runner } = app;

  // Work recovered from an earlier session, shown on the start screen and neither restored nor
  // discarded yet: opening or starting another document would delete it, so that asks first.
  let unclaimed: { name: string; savedAt: string } | null = null;

  async function confirmDiscard(): Promise<boolean> {
    if (editor.isDirty()) return window.confirm('Discard the unsaved changes to this pipeline?');
    if (!unclaimed) return true;
    const when = new Date(unclaimed.savedAt).toLocaleString();
    return window.confirm(`Discard the unsaved work recovered from ${unclaimed.name} (${when})? Cancel keeps it: press Restore on the start screen to open it.`);
  }

  function loadText(text: string, name: string, id?: unknown, opts: { dirty?: boolean } = {}): boolean {
    let raw: unknown;
    try {
      // A UTF-8 byte-order mark (Windows editors write one) is not JSON.
      raw = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (err) {
      ui.toast(`${name} is not valid JSON: ${(err as Error).message}`, 'error', 8000);
      return false;
    }
    try {
      editor.load(docToGraph(raw), { name, id }, opts);
    } catch (err) {
      ui.toast(err instanceof DocumentError ? `${name}: ${err.message}` : String(err), 'error', 8000);
      return false;
    }
    runner.resetResults();
    // An error about the previous file (a failed open) does not belong over this one.
    ui.dismissToasts('error');
    ui.set({ start: false, preview: undefined });
    unclaimed = null;
    void host.clearAutosave();
    window.dispatchEvent(new CustomEvent('ctxlab:loaded'));
    return true;
  }

  const loadFile = (f: HostFile | null) => (f ? loadText(f.text, f.name, f.id) : false);
  const report = (err: unknown) => ui.toast((err as Error).message ?? String(err), 'error', 8000);

  return {
    loadText,
    async newDoc() {
      if (!(await confirmDiscard())) return;
      editor.load(emptyGraph(), { name: 'untitled.json' });
      runner.resetResults();
      ui.dismissToasts('error');
      ui.set({ start: false, preview: undefined });
      unclaimed = null;
      void host.clearAutosave();
    },
    async open() {
      if (!(await confirmDiscard())) return;
      try {
        loadFile(await host.open());
      } catch (err) {
        report(err);
      }
    },
    async openRecent(key: string) {
      if (!(await confirmDiscard())) return;
      try {
        loadFile(await host.openRecent(key));
      } catch (err) {
        report(err);
      }
    },
    async openDropped(file: File) {
      if (!(await confirmDiscard())) return;
      try {
        loadFile(await host.openDropped(file));
      } catch (err) {
        report(err);
      }
    },
    async openExample(file: string, doc: unknown) {
      if (!(await confirmDiscard())) return;
      loadText(JSON.stringify(doc), file);
    },
    async save(as = false): Promise<boolean> {
      const s = editor.store.get();
      const rev = s.rev;
      const text = editor.text();
      try {
        const saved = as || s.file.id === undefined ? await host.saveAs(s.file.name, text) : await host.save(s.file.name, s.file.id, text);
        if (!saved) return false;
        editor.markSaved({ name: saved.name, id: saved.id }, rev);
        void host.clearAutosave();
        ui.toast(`Saved ${saved.name}`, 'ok', 2500);
        return true;
      } catch (err) {
        report(err);
        return false;
      }
    },
    /**
     * File → Export as TypeScript… / JSON…: a standalone module that builds and runs the same graph
     * (what `ctxlab export --ts` writes), or the pipeline JSON. The document keeps its own file.
     */
    async exportAs(kind: ExportKind): Promise<boolean> {
      const s = editor.store.get();
      const stem = s.file.name.replace(/\.json$/i, '') || 'pipeline';
      const name = `${stem}${kind === 'typescript' ? '.ts' : '.json'}`;
      try {
        const text =
          kind === 'typescript'
            ? // Relative paths in params resolve against the pipeline's folder where the host knows it
              // (Electron), else against the generated file's own folder.
              exportTypeScript(editor.doc(), { source: s.file.name, registry: app.registry, fileName: name, baseDir: host.baseDirOf?.(s.file.id) ?? '.' })
            : editor.text();
        const saved = await host.exportFile(name, text, kind);
        if (saved) ui.toast(`Exported ${saved.name}`, 'ok', 2500);
        return !!saved;
      } catch (err) {
        ui.toast(`Cannot export ${name}: ${(err as Error).message}`, 'error', 8000);
        return false;
      }
    },
    /** Writes the document to the host's autosave slot a second after the last change, while it is unsaved. */
    startAutosave(): () => void {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let lastRev = editor.store.get().rev;
      const unsub = editor.store.subscribe(() => {
        const s = editor.store.get();
        if (s.rev === lastRev) return;
        lastRev = s.rev;
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          if (editor.isDirty()) void host.autosave(JSON.stringify({ file: editor.store.get().file.name, text: editor.text() })).catch(() => {});
        }, 1000);
      });
      return () => {
        unsub();
        if (timer) clearTimeout(timer);
      };
    },
    /** The autosaved document left by a session that did not save, if any. */
    async recovery(): Promise<{ name: string; text: string; savedAt: string } | null> {
      try {
        const r = await host.recover();
        if (!r) return null;
        const inner = JSON.parse(r.text) as { file?: string; text?: string };
        const found = typeof inner.text === 'string' ? { name: inner.file ?? 'recovered.json', text: inner.text, savedAt: r.savedAt } : null;
        // Only a session whose document is clean has not made this autosave itself.
        if (found && !editor.isDirty()) unclaimed = found;
        return found;
      } catch {
        return null;
      }
    },
    /** The start screen's Discard: the recovered work is deleted. */
    async discardRecovery() {
      unclaimed = null;
      await host.clearAutosave();
    },
    recover(r: { name: string; text: string }) {
      // The recovered document is unsaved work: it stays dirty until saved.
      loadText(r.text, r.name, undefined, { dirty: true });
    },
  };
}
export type Files = ReturnType<typeof createFiles>;
