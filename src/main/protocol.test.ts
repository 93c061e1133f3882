import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveAppUrl, serveApp } from './protocol.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ctxlab-proto-'));
  await writeFile(join(root, 'index.html'), '<html></html>');
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('app:// protocol', () => {
  it('maps URLs under the app origin into the renderer folder only', () => {
    expect(resolveAppUrl('app://ctxlab/', root)).toBe(join(root, 'index.html'));
    expect(resolveAppUrl('app://ctxlab/assets/a.js', root)).toBe(join(root, 'assets/a.js'));
    expect(resolveAppUrl('app://ctxlab/../../etc/passwd', root)).toBe(join(root, 'etc/passwd'));
    expect(resolveAppUrl('app://ctxlab/%2e%2e/%2e%2e/etc/passwd', root)).toBe(join(root, 'etc/passwd'));
    expect(resolveAppUrl('app://ctxlab/a%2f..%2f..%2f..%2fetc%2fpasswd', root)).toBeNull();
    expect(resolveAppUrl('app://other/index.html', root)).toBeNull();
    expect(resolveAppUrl('file:///etc/passwd', root)).toBeNull();
  });

  it('serves files with the CSP and the cross-origin isolation headers', async () => {
    const r = await serveApp('app://ctxlab/index.html', root);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
    expect(r.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(r.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(r.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect((await serveApp('app://ctxlab/missing.js', root)).status).toBe(404);
  });

  it('answers malformed URLs with 400 instead of rejecting (a URIError used to escape the handler)', async () => {
    for (const url of ['app://ctxlab/%', 'app://ctxlab/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', 'app://ctxlab/%E0%A4%A', 'app://ctxlab/a%00b']) {
      expect(resolveAppUrl(url, root), url).toBe('malformed');
      expect((await serveApp(url, root)).status, url).toBe(400);
    }
    // A bounded loop of odd paths: every request gets an answer, none rejects.
    const parts = ['%', '%c0', '%ae', 'a', '..', '%2f', '%00', '/', '%2e%2e', 'index.html'];
    for (let i = 0; i < 200; i++) {
      const url = 'app://ctxlab/' + Array.from({ length: 1 + (i % 6) }, (_, j) => parts[(i * 7 + j * 3) % parts.length]).join('');
      expect([200, 400, 404], url).toContain((await serveApp(url, root)).status);
    }
    expect((await serveApp('app://ctxlab/', root)).status).toBe(200);
  });
});
