// The static server behind `npm run web` and the e2e run: isolation headers, MIME types, no escape
// from its folder.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without types
import { serve } from './web.mjs';

let root: string;
let server: { url: string; close(): Promise<void> };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ctxlab-web-'));
  await writeFile(join(root, 'index.html'), '<!doctype html>');
  await mkdir(join(root, 'tfjs-wasm'));
  await writeFile(join(root, 'tfjs-wasm', 'x.wasm'), new Uint8Array([0, 97, 115, 109]));
  await writeFile(join(tmpdir(), 'ctxlab-secret.txt'), 'secret');
  server = await serve({ root, port: 0 });
});
afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

describe('web server', () => {
  it('serves the app cross-origin isolated', async () => {
    const r = await fetch(server.url);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
    expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(r.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  });

  it('serves wasm as application/wasm', async () => {
    const r = await fetch(`${server.url}tfjs-wasm/x.wasm`);
    expect(r.headers.get('content-type')).toBe('application/wasm');
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(new Uint8Array([0, 97, 115, 109]));
  });

  it('never serves files outside its folder', async () => {
    expect((await fetch(`${server.url}..%2fctxlab-secret.txt`)).status).toBe(404);
    expect((await fetch(`${server.url}missing.js`)).status).toBe(404);
  });
});
