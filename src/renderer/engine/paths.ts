// Path resolution in the engine worker: params name files relative to the pipeline's folder, which
// is a file-system folder in Electron and a URL in the browser.
import { ReadRefusedError, type ReadAccess } from '../../engine/io/read-policy.js';

const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
const isAbsPath = (s: string) => s.startsWith('/') || /^[A-Za-z]:[\\/]/.test(s) || s.startsWith('\\\\');

/** Joins `p` onto `base` (URL or folder), normalising `.` and `..`; absolute `p` wins. */
export function resolveIn(base: string, p: string, fallbackUrl: string): string {
  if (isUrl(p) || isAbsPath(p)) return p;
  if (!isAbsPath(base)) return new URL(p, new URL(base.endsWith('/') ? base : `${base}/`, fallbackUrl)).href;
  const sep = base.includes('\\') && !base.includes('/') ? '\\' : '/';
  const parts = `${base}${sep}${p}`.split(/[\\/]+/);
  const out: string[] = [];
  for (const part of parts) {
    if (part === '..') out.length > 1 && out.pop();
    else if (part !== '.') out.push(part);
  }
  return out.join(sep) || sep;
}

/** Whether the worker must ask the host for this file (a file-system path), or can fetch it. */
export const isFsPath = (p: string) => isAbsPath(p) && !isUrl(p);

/**
 * The read policy for URLs (see engine/io/read-policy.ts): a pipeline may fetch only on its own
 * origin, at or below its folder (or an allowed one). Throws ReadRefusedError otherwise.
 */
export function checkUrl(url: string, access: ReadAccess, pageUrl: string): void {
  const folder = (d: string) => new URL(d.endsWith('/') ? d : `${d}/`, pageUrl);
  const roots = [access.baseDir, ...(access.allowRead ?? [])].map(folder);
  const u = new URL(url, pageUrl);
  if (!roots.some((r) => u.origin === r.origin && u.pathname.startsWith(r.pathname)))
    throw ReadRefusedError.outside(url, u.href, new URL('.', u).href, roots.map((r) => r.href));
}
