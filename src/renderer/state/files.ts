// File commands over the Host: new, open, save, save as, recent, drop, examples; autosave and recovery.
import type { App } from '../app-context.js';
import { DocumentError, docToGraph, emptyGraph } from '../model/graph.js';
import type { HostFile } from '../host/index.js';

export function createFiles(app: App) {
  const { editor, host, ui, runner } = app;

  async function confirmDiscard(): Promise<boolean> {
    return !editor.isDirty() || window.confirm('Discard the unsaved changes to this pipeline?');
  }

  function loadText(text: string, name: string, id?: unknown, opts: { dirty?: boolean } = {}): boolean {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
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
    ui.set({ start: false, preview: undefined });
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
      ui.set({ start: false, preview: undefined });
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
        return typeof inner.text === 'string' ? { name: inner.file ?? 'recovered.json', text: inner.text, savedAt: r.savedAt } : null;
      } catch {
        return null;
      }
    },
    recover(r: { name: string; text: string }) {
      // The recovered document is unsaved work: it stays dirty until saved.
      loadText(r.text, r.name, undefined, { dirty: true });
    },
  };
}
export type Files = ReturnType<typeof createFiles>;
