// The renderer's security headers, shared by the Electron protocol handler, the web server and the
// built page's <meta> CSP, so all three enforce the same policy.
import http from './http.json' with { type: 'json' };

/**
 * Strict CSP: only the app's own scripts; 'wasm-unsafe-eval' compiles tfjs' WebAssembly; blob:
 * workers and scripts are the wasm backend's thread pool (emscripten builds its workers from blobs).
 * Inline styles are allowed because React Flow positions nodes with style attributes.
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval' blob:",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self' blob: data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Cross-origin isolation: SharedArrayBuffer (the cancel flag) and the wasm backend's threads need it. */
export const ISOLATION_HEADERS: Record<string, string> = http.isolationHeaders;
