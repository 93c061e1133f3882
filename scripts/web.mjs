#!/usr/bin/env node
// `npm run web`: serves the built renderer (out/renderer) as a web app, with the cross-origin
// isolation headers that SharedArrayBuffer (the cancel flag) and the wasm backend's threads need.
// The page carries its strict CSP in a <meta> tag. Builds first when out/renderer is missing.
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from '../src/main/http.json' with { type: 'json' };

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const RENDERER_DIR = join(repo, 'out', 'renderer');

const { mime: MIME, isolationHeaders } = http;

const HEADERS = {
  ...isolationHeaders,
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

/** Builds the app (electron-vite: main, preload, renderer) when the renderer build is missing. */
export function ensureBuilt({ force = false } = {}) {
  if (!force && existsSync(join(RENDERER_DIR, 'index.html'))) return;
  const r = spawnSync(process.execPath, [join(repo, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], {
    cwd: repo,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) throw new Error('electron-vite build failed');
}

/** Starts a static server on `port` (0: any free port); resolves with its URL and a close function. */
export function serve({ root = RENDERER_DIR, port = 0, host = '127.0.0.1' } = {}) {
  const base = resolve(root);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let rel = decodeURIComponent(url.pathname).replace(/^\/+/, '');
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    const file = resolve(base, normalize(rel));
    if (!(file === base || file.startsWith(base + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain', ...HEADERS });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', ...HEADERS });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      const shown = host === '127.0.0.1' || host === '0.0.0.0' ? 'localhost' : host;
      resolvePromise({ url: `http://${shown}:${addr.port}/`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

/** Builds if needed, serves, and prints one line: `prefix` + the URL. */
export async function main(prefix = 'Context Lab (web) is at') {
  ensureBuilt({ force: process.argv.includes('--build') });
  const port = Number(process.env.PORT ?? 5178);
  let server;
  try {
    server = await serve({ port });
  } catch (err) {
    if (err.code !== 'EADDRINUSE') throw err;
    server = await serve({ port: 0 });
  }
  console.log(`${prefix} ${server.url}`);
  return server;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}
