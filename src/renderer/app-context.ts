// The app's services, created once and handed to components through context.
import { createContext, useContext } from 'react';
import { registry } from '../nodes/index.js';
import { Catalog } from './model/catalog.js';
import { createAccuracy } from './state/accuracy.js';
import { createAnalysis } from './state/analysis.js';
import { adapterCapsOf } from '../engine/compile/adapter-needs.js';
import { createEditor } from './state/editor.js';
import { createMetrics } from './state/metrics.js';
import { createRunner } from './state/runner.js';
import { createUi } from './state/ui.js';
import { createHost, type Host } from './host/index.js';

export function createApp(host: Host = createHost()) {
  const catalog = new Catalog(registry);
  const editor = createEditor(catalog);
  const metrics = createMetrics();
  const runner = createRunner(editor, metrics, host);
  // Problems lists the nodes whose GPU kernel would fall back on the chosen backend's adapter.
  const analysis = createAnalysis(editor, registry, () => adapterCapsOf(runner.settings.get().info));
  let info = runner.settings.get().info;
  runner.settings.subscribe(() => {
    if (runner.settings.get().info !== info) (info = runner.settings.get().info), analysis.refresh();
  });
  const ui = createUi();
  const accuracy = createAccuracy(editor, registry, host, () => runner.settings.get().memoryBudget);
  return { registry, catalog, editor, analysis, metrics, runner, ui, host, accuracy };
}
export type App = ReturnType<typeof createApp>;

export const AppContext = createContext<App | null>(null);

export function useApp(): App {
  const app = useContext(AppContext);
  if (!app) throw new Error('useApp outside AppContext');
  return app;
}
