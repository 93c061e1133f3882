// The static server behind `npm run web` and the e2e run: isolation headers, MIME types, no escape
// from its folder.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without types
import { serve } from './web.mjs';

let root: string;
let server: { url: string; address: { address: string; port: number }; close(): Promise<void> };

/** One raw request to the server on 127.0.0.1 (fetch would normalise the path and set Host itself). */
function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.address.port, path, method, headers: { Host: `127.0.0.1:${server.address.port}`, ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A raw HTTP/1.0 request without a Host header; resolves with the status line. */
function rawNoHost(): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(server.address.port, '127.0.0.1', () => sock.write('GET / HTTP/1.0\r\n\r\n'));
    let data = '';
    sock.on('data', (d) => (data += d));
    sock.on('end', () => resolve(data.split('\r\n')[0]!));
    sock.on('error', reject);
  });
}

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

  it('answers malformed paths with 400 and keeps serving (it used to exit on a URIError)', async () => {
    for (const path of ['/%', '/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', '/%E0%A4%A', '/a%00b', '/%ff'])
      expect((await get(path)).status, path).toBe(400);
    expect((await get('/')).status).toBe(200);
  });

  it('answers only to its own host names: a DNS-rebinding Host gets 421', async () => {
    const port = server.address.port;
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`, `localhost:${port + 1}`])
      expect((await get('/', { Host: host })).status, host).toBe(421);
    expect(await rawNoHost()).toMatch(/^HTTP\/1\.1 421/);
    expect((await get('/', { Host: `localhost:${port}` })).status).toBe(200);
    expect((await fetch(server.url)).status).toBe(200);
  });

  it('sends the CSP as a header with frame-ancestors, refuses other methods, and listens on 127.0.0.1 only', async () => {
    const r = await get('/');
    expect(r.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(r.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect((await get('/', {}, 'POST')).status).toBe(405);
    expect(server.address.address).toBe('127.0.0.1');
  });

  it('survives a bounded loop of hostile requests, every one answered', async () => {
    const paths = ['/..', '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '//etc/passwd', '/index.html?%', '/%%%', '/\u00e9', '/tfjs-wasm/', '/tfjs-wasm/..%2f..%2f'];
    for (let i = 0; i < 120; i++) paths.push('/' + Array.from({ length: 1 + (i % 7) }, (_, j) => ['%', '%c0', '%ae', 'a', '..', '%2f', '%00', '/'][(i * 7 + j * 3) % 8]).join(''));
    for (const path of paths) expect([200, 400, 404], path).toContain((await get(path)).status);
    expect((await get('/')).status).toBe(200);
  });
});

