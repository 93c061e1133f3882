// The `app://` protocol: serves the built renderer from out/renderer with the CSP and the
// cross-origin isolation headers (SharedArrayBuffer and wasm threads need them; file:// cannot send headers).
import { readFile } from 'node:fs/promises';
import { extname, normalize, resolve, sep } from 'node:path';
import http from './http.json' with { type: 'json' };
import { CSP, ISOLATION_HEADERS } from './security.js';

export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://ctxlab`;

// One table for the app:// protocol and the web server (scripts/web.mjs).
const MIME: Record<string, string> = http.mime;

export function mimeOf(path: string): string {
  return MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Maps an app:// URL to a file under `root`, or null when it points elsewhere (or escapes root). */
export function resolveAppUrl(url: string, root: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== 'ctxlab') return null;
  const rel = decodeURIComponent(u.pathname).replace(/^\/+/, '') || 'index.html';
  if (rel.includes('\0')) return null;
  const full = resolve(root, normalize(rel));
  const base = resolve(root);
  return full === base || full.startsWith(base + sep) ? full : null;
}

export function responseHeaders(path: string): Record<string, string> {
  return { 'Content-Type': mimeOf(path), 'Content-Security-Policy': CSP, ...ISOLATION_HEADERS };
}

/** The protocol handler: a Response for an app:// request. */
export async function serveApp(url: string, root: string): Promise<Response> {
  const path = resolveAppUrl(url, root);
  if (!path) return new Response('not found', { status: 404 });
  try {
    const body = await readFile(path);
    return new Response(new Uint8Array(body), { status: 200, headers: responseHeaders(path) });
  } catch {
    return new Response('not found', { status: 404 });
  }
}
