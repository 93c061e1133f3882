// Builds the CLI, its worker and the engine's public entry into dist/ with esbuild. npm packages stay
// external: bundling tfjs for Node breaks its backends (PLATFORM.md).
import { build } from 'esbuild';
import { createRequire } from 'node:module';

// tfjs-core ships its gradients only as ES modules with extensionless imports, which Node cannot
// load; bundle that one entry (it registers into tfjs's global registry, shared with the package).
const require = createRequire(import.meta.url);
const gradients = {
  name: 'tfjs-gradients',
  setup(b) {
    b.onResolve({ filter: /^@tensorflow\/tfjs-core\/dist\/register_all_gradients(\.js)?$/ }, () => ({
      path: require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js'),
    }));
  },
};

await build({
  entryPoints: {
    ctxlab: 'src/cli/ctxlab.ts',
    worker: 'src/engine/node/worker.ts',
    index: 'src/engine/index.ts',
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
