#!/usr/bin/env node
// `npm run e2e`: builds the web app when needed, serves it on a free port with the isolation
// headers, and runs the e2e specs (vitest + playwright-core on /usr/bin/chromium) against it.
// `--build` forces a rebuild. Extra arguments go to vitest (e.g. a spec file). The 500-node editor
// benchmark is bench/editor.ts (`npm run bench -- --only editor`).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt, RENDERER_DIR, serve } from './web.mjs';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const args = process.argv.slice(2);
const force = args.includes('--build');
const passThrough = args.filter((a) => a !== '--build');

/** Newest mtime under a folder (to rebuild when the sources changed after the last build). */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const built = existsSync(join(RENDERER_DIR, 'index.html')) ? statSync(join(RENDERER_DIR, 'index.html')).mtimeMs : 0;
const sources = Math.max(...['src', 'pipelines'].map((d) => newest(join(repo, d))));
const t0 = Date.now();
if (force || built < sources) {
  console.log('e2e: building the web app…');
  ensureBuilt({ force: true });
}
const server = await serve({ port: 0 });
console.log(`e2e: serving ${RENDERER_DIR} at ${server.url}`);

function runNode(argv, env) {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, argv, { cwd: repo, stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('close', (code, signal) => resolvePromise(code ?? (signal ? 1 : 0)));
  });
}

const env = { CTXLAB_URL: server.url };
const code = await runNode([join(repo, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '-c', 'e2e/vitest.config.ts', ...passThrough], env);
await server.close();
const secs = ((Date.now() - t0) / 1000).toFixed(0);
console.log(code === 0 ? `e2e: PASS (${secs} s)` : `e2e: FAIL (exit ${code}, ${secs} s)`);
process.exit(code);
