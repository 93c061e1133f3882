// The `app://` protocol: serves the built renderer from out/renderer with the CSP and the
// cross-origin isolation headers (SharedArrayBuffer and wasm threads need them; file:// cannot send headers).
import { readFile } from 'node:fs/promises';
import { extname, normalize, resolve, sep } from 'node:path';
import http from './http.json' with { type: 'json' };
import { CSP_HEADER, ISOLATION_HEADERS, SECURITY_HEADERS } from './security.js';

export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://ctxlab`;

// One table for the app:// protocol and the web server (scripts/web.mjs).
const MIME: Record<string, string> = http.mime;

export function mimeOf(path: string): string {
  return MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** A URL path, percent-decoded; undefined when it is malformed (`%`, `%c0%ae`: invalid escapes or UTF-8) or holds NUL. */
export function decodeUrlPath(pathname: string): string | undefined {
  try {
    const path = decodeURIComponent(pathname);
    return path.includes('\0') ? undefined : path;
  } catch {
    return undefined;
  }
}

/**
 * Maps an app:// URL to a file under `root`: null when it points elsewhere (or escapes root),
 * 'malformed' when its path cannot be decoded.
 */
export function resolveAppUrl(url: string, root: string): string | null | 'malformed' {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== 'ctxlab') return null;
  const decoded = decodeUrlPath(u.pathname);
  if (decoded === undefined) return 'malformed';
  const rel = decoded.replace(/^\/+/, '') || 'index.html';
  const full = resolve(root, normalize(rel));
  const base = resolve(root);
  return full === base || full.startsWith(base + sep) ? full : null;
}

export function responseHeaders(path: string): Record<string, string> {
  return { 'Content-Type': mimeOf(path), 'Content-Security-Policy': CSP_HEADER, ...SECURITY_HEADERS, ...ISOLATION_HEADERS };
}

const plain = (body: string, status: number) => new Response(body, { status, headers: { 'Content-Type': 'text/plain', ...SECURITY_HEADERS } });

/** The protocol handler: a Response for an app:// request (it never rejects). */
export async function serveApp(url: string, root: string): Promise<Response> {
  const path = resolveAppUrl(url, root);
  if (path === 'malformed') return plain('bad request', 400);
  if (!path) return plain('not found', 404);
  try {
    const body = await readFile(path);
    return new Response(new Uint8Array(body), { status: 200, headers: responseHeaders(path) });
  } catch {
    return plain('not found', 404);
  }
}
