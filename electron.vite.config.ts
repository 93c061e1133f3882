// Builds the desktop app into out/: main (ESM), preload (CJS, so the window keeps `sandbox: true`)
// and the renderer (React). The renderer build is also the web app that `npm run web` serves.
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { CSP, ISOLATION_HEADERS } from './src/main/security.js';

// The electron package is optional (its binary cannot be downloaded on every machine); electron-vite
// reads its version to pick build targets, so name one when the package is absent.
try {
  createRequire(import.meta.url).resolve('electron/package.json');
} catch {
  process.env.ELECTRON_MAJOR_VER ??= '38';
}

const WASM_DIR = resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist');
// Checkpoints the example pipelines name (model.load's "models/tiny-llama"). The web app resolves a
// pipeline's relative paths against the engine worker's folder (assets/), so they are served there.
const EXAMPLE_MODELS = resolve('pipelines/models');
const exampleModelFiles = (): string[] =>
  readdirSync(EXAMPLE_MODELS, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? readdirSync(resolve(EXAMPLE_MODELS, d.name)).map((f) => `${d.name}/${f}`) : []));

/**
 * Serves (dev) and emits (build) tfjs-backend-wasm's .wasm files under `tfjs-wasm/`, the prefix the
 * engine worker hands to setWasmPaths; adds the strict CSP to the built page.
 */
function rendererAssets(): Plugin {
  const wasmFiles = readdirSync(WASM_DIR).filter((f) => f.endsWith('.wasm'));
  return {
    name: 'ctxlab-renderer-assets',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const model = /\/models\/([\w.-]+\/[\w.-]+)$/.exec(req.url ?? '');
        if (model && exampleModelFiles().includes(model[1]!)) return res.end(readFileSync(resolve(EXAMPLE_MODELS, model[1]!)));
        const m = /^\/tfjs-wasm\/([\w.-]+\.wasm)$/.exec(req.url ?? '');
        if (!m || !wasmFiles.includes(m[1]!)) return next();
        res.setHeader('Content-Type', 'application/wasm');
        res.end(readFileSync(resolve(WASM_DIR, m[1]!)));
      });
    },
    generateBundle() {
      for (const f of wasmFiles) this.emitFile({ type: 'asset', fileName: `tfjs-wasm/${f}`, source: readFileSync(resolve(WASM_DIR, f)) });
      for (const f of exampleModelFiles()) this.emitFile({ type: 'asset', fileName: `assets/models/${f}`, source: readFileSync(resolve(EXAMPLE_MODELS, f)) });
    },
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        // The dev server injects inline scripts (React refresh), so the CSP goes into built pages only.
        if (ctx.server) return html;
        return html.replace('<head>', `<head>\n    <meta http-equiv="Content-Security-Policy" content="${CSP}" />`);
      },
    },
  };
}

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rolldownOptions: { input: { index: resolve('src/main/index.ts') } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rolldownOptions: {
        input: { index: resolve('src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve('src/renderer'),
    base: './',
    plugins: [react(), rendererAssets()],
    // The worker stays unminified: tfjs-wasm starts its threads from its own source text.
    worker: { format: 'es', rolldownOptions: { output: { minify: false } } },
    server: { headers: ISOLATION_HEADERS },
    preview: { headers: ISOLATION_HEADERS },
    build: {
      outDir: resolve('out/renderer'),
      target: 'es2022',
      // electron-vite leaves the renderer unminified; the web build is downloaded, so minify it.
      minify: true,
      chunkSizeWarningLimit: 4096,
      rolldownOptions: { input: { index: resolve('src/renderer/index.html') } },
    },
  },
});
