#!/usr/bin/env node
// `npm run web`: serves the built renderer (out/renderer) as a web app, with the cross-origin
// isolation headers that SharedArrayBuffer (the cancel flag) and the wasm backend's threads need,
// and the strict CSP as a header (with frame-ancestors, which a <meta> CSP cannot carry).
// Builds first when out/renderer is missing. Safe against odd requests: it listens on 127.0.0.1
// only, answers only Host: 127.0.0.1/localhost:<port> (a DNS-rebinding page gets 421), and a
// malformed URL is a 400, never an exception that takes the process down.
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from '../src/main/http.json' with { type: 'json' };

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const RENDERER_DIR = join(repo, 'out', 'renderer');

const { mime: MIME, isolationHeaders, securityHeaders, csp, cspHeaderOnly } = http;

const HEADERS = {
  ...isolationHeaders,
  ...securityHeaders,
  'Content-Security-Policy': [...csp, ...cspHeaderOnly].join('; '),
  'Cache-Control': 'no-cache',
};

/** A URL path, percent-decoded; undefined when malformed (`%`, `%c0%ae`) or holding NUL (as src/main/protocol.ts). */
function decodeUrlPath(pathname) {
  try {
    const path = decodeURIComponent(pathname);
    return path.includes('\0') ? undefined : path;
  } catch {
    return undefined;
  }
}

/** The Host header names this server (not a rebound DNS name): 127.0.0.1, localhost or [::1], on its port. */
export function hostAllowed(hostHeader, port) {
  if (typeof hostHeader !== 'string') return false;
  return ['127.0.0.1', 'localhost', '[::1]'].some((h) => hostHeader.toLowerCase() === `${h}:${port}`);
}

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
  const fail = (res, status, text) => {
    res.writeHead(status, { 'Content-Type': 'text/plain', ...HEADERS });
    res.end(text);
  };
  const server = createServer((req, res) => {
    try {
      if (!hostAllowed(req.headers.host, server.address()?.port)) return fail(res, 421, 'misdirected request: this server answers only to 127.0.0.1 or localhost');
      if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, 'method not allowed');
      const pathname = (req.url ?? '/').split(/[?#]/)[0];
      let rel = decodeUrlPath(pathname);
      if (rel === undefined || !pathname.startsWith('/')) return fail(res, 400, 'bad request');
      rel = rel.replace(/^\/+/, '');
      if (rel === '' || rel.endsWith('/')) rel += 'index.html';
      const file = resolve(base, normalize(rel));
      if (!(file === base || file.startsWith(base + sep)) || !existsSync(file) || !statSync(file).isFile()) return fail(res, 404, 'not found');
      res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', ...HEADERS });
      if (req.method === 'HEAD') return void res.end();
      // A file removed between the check and the read ends this response, not the server.
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
    } catch {
      if (!res.headersSent) fail(res, 500, 'internal error');
      else res.destroy();
    }
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      const shown = host === '127.0.0.1' || host === '0.0.0.0' ? 'localhost' : host;
      resolvePromise({ url: `http://${shown}:${addr.port}/`, address: addr, close: () => new Promise((r) => server.close(() => r())) });
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
