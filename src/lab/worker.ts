// Node worker_thread entry: the engine service behind Comlink.
import { parentPort } from 'node:worker_threads';
import { isAbsolute, resolve } from 'node:path';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { registry } from '../nodes/index.js';
import { EngineService } from '../engine/run/service.js';
import { ReadPolicy } from '../engine/node/read-policy.js';
import { openRandomAccess } from '../engine/node/ranged.js';
import { nodeBackendSetup } from '../engine/node/setup.js';
import { withTestWorkerDeath } from '../engine/node/test-death.js';

// Every file a pipeline names is read through the read policy of its run: the pipeline's folder and
// the folders the caller allowed (`--allow-read`), regular files only, within the size limit.
const service = new EngineService(registry, {
  setup: nodeBackendSetup('node worker_thread'),
  readFile: (p, access) => ReadPolicy.of(access).read(p),
  openFile: (p, access) => openRandomAccess(p, (q) => ReadPolicy.of(access).open(q)),
  readHead: (p, access) => ReadPolicy.of(access).reader().readHead(p),
  resolvePath: (base, p) => (isAbsolute(p) ? p : resolve(base, p)),
  now: () => performance.now(),
});
Comlink.expose(withTestWorkerDeath(service), nodeEndpoint(parentPort!));
