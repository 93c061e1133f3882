// Training benchmark entry. tfjs-core's gradients are ES modules Node cannot load as they ship, so
// the benchmark is bundled with the CLI's esbuild plugin (which inlines them) and then imported.
import { build } from 'esbuild';
import { pathToFileURL } from 'node:url';
// @ts-expect-error a plain .mjs build helper without types
import { tfjsGradients } from '../scripts/tfjs-gradients.mjs';

export async function benchTraining(quick = process.argv.includes('--quick')): Promise<string> {
  // Inside the project, so the bundle's external packages resolve from its node_modules.
  const outfile = new URL('../node_modules/.cache/ctxlab-bench/train.mjs', import.meta.url).pathname;
  await build({ entryPoints: [new URL('./train-impl.ts', import.meta.url).pathname], outfile, bundle: true, platform: 'node', format: 'esm', packages: 'external', plugins: [tfjsGradients], logLevel: 'warning' });
  const mod = (await import(pathToFileURL(outfile).href)) as { benchTrainingImpl(quick: boolean): Promise<string> };
  return mod.benchTrainingImpl(quick);
}
