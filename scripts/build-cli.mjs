// Builds the CLI, its worker and the engine's public entry into dist/ with esbuild. npm packages stay
// external: bundling tfjs for Node breaks its backends (PLATFORM.md).
import { build } from 'esbuild';
import { tfjsGradients as gradients } from './tfjs-gradients.mjs';

await build({
  entryPoints: {
    ctxlab: 'src/cli/ctxlab.ts',
    worker: 'src/lab/worker.ts',
    index: 'src/lab/index.ts',
    // A simulated device's worker_thread (ring and dilated-distributed attention start it beside them).
    'device-worker': 'src/nodes/attention/device-worker.ts',
  },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [gradients],
});
