// tfjs-core registers its gradients only on request. Loaded lazily by the trainer, so that nothing
// else (the docs and schema scripts, the editor's start-up) pays for it. tfjs-core itself first: the
// gradients read its flags when they load. The CLI bundle inlines this module (scripts/build-cli.mjs),
// since Node cannot load tfjs-core's extensionless ES modules directly.
import '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
