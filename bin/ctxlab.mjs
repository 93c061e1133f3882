#!/usr/bin/env node
// Runs the built CLI (dist/, made by `npm install`'s prepare step or `npm run build`), or the
// TypeScript sources through tsx when dist/ is missing.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/ctxlab.js', import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/ctxlab.ts', import.meta.url).href);
}
