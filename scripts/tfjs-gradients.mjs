import { createRequire } from 'node:module';

// tfjs-core ships its gradients only as ES modules with extensionless imports, which Node cannot
// load; bundle that one entry (it registers into tfjs's global registry, shared with the package).
const require = createRequire(import.meta.url);
export const tfjsGradients = {
  name: 'tfjs-gradients',
  setup(b) {
    b.onResolve({ filter: /^@tensorflow\/tfjs-core\/dist\/register_all_gradients(\.js)?$/ }, () => ({
      path: require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js'),
    }));
  },
};
