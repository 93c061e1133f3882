// E2E: playwright-core drives Debian's Chromium against the web build that scripts/e2e.mjs serves
// (its URL comes in CTXLAB_URL). One file at a time: the machines have 2 cores.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    reporters: ['default'],
  },
});
