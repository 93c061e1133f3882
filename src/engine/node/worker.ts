// Node worker_thread entry: the engine service behind Comlink.
import { parentPort } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { registry } from '../../nodes/index.js';
import { EngineService } from '../run/service.js';
import { readFileHead } from './files.js';
import { nodeBackendSetup } from './setup.js';

const service = new EngineService(registry, {
  setup: nodeBackendSetup('node worker_thread'),
  readFile: async (p) => new Uint8Array(await readFile(p)),
  resolvePath: (base, p) => (isAbsolute(p) ? p : resolve(base, p)),
  now: () => performance.now(),
  readHead: readFileHead,
});
Comlink.expose(service, nodeEndpoint(parentPort!));
