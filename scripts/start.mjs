#!/usr/bin/env node
// `npm start`: builds and launches the desktop app; where the Electron binary is missing (it cannot
// be downloaded on every machine, see PLATFORM.md) it says so in one line and serves the web app.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt, main as serveWeb } from './web.mjs';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));

function electronBinary() {
  try {
    // The electron package's main export is the path of its binary; it throws when none was installed.
    const path = createRequire(import.meta.url)('electron');
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

const bin = electronBinary();
if (!bin) {
  await serveWeb('The Electron binary is not installed here, so Context Lab runs as a web app instead: open');
} else {
  ensureBuilt({ force: true });
  const child = spawn(bin, [repo, ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
