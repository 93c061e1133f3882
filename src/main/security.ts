// The renderer's security headers, shared by the Electron protocol handler, the web server and the
// built page's <meta> CSP, so all three enforce the same policy. They live in http.json so that the
// plain-JavaScript web server (scripts/web.mjs) reads the same table.
import http from './http.json' with { type: 'json' };

/**
 * Strict CSP: only the app's own scripts; 'wasm-unsafe-eval' compiles tfjs' WebAssembly; blob:
 * workers and scripts are the wasm backend's thread pool (emscripten builds its workers from blobs).
 * Inline styles are allowed because React Flow positions nodes with style attributes.
 * This is the page's <meta> CSP; `frame-ancestors` works only as a header (see CSP_HEADER).
 */
export const CSP = http.csp.join('; ');

/** The CSP sent as a header: the page's, and no framing by other sites (clickjacking). */
export const CSP_HEADER = [...http.csp, ...http.cspHeaderOnly].join('; ');

/** nosniff, no framing (for browsers without frame-ancestors), no referrer. */
export const SECURITY_HEADERS: Record<string, string> = http.securityHeaders;

/** Cross-origin isolation: SharedArrayBuffer (the cancel flag) and the wasm backend's threads need it. */
export const ISOLATION_HEADERS: Record<string, string> = http.isolationHeaders;
