// The engine in a module Web Worker, behind Comlink: the browser twin of src/lab/worker.ts.
// The tfjs wasm files are served under tfjs-wasm/ next to the page. Files named in params resolve
// against the pipeline's folder: URLs are fetched; file-system paths (Electron) are read by the host
// through a reader the page hands over (the worker has no IPC of its own).
// Reads follow the read policy (src/engine/io/read-policy.ts): the desktop host's main process checks
// file-system paths (and asks the user about a folder outside); URLs must be on the pipeline's origin,
// at or below its folder, so a shared pipeline cannot fetch from elsewhere and copy it into an output.
import * as Comlink from 'comlink';
import { registry } from '../nodes/index.js';
import { EngineService } from '../engine/run/service.js';
import { checkUrl, isFsPath, resolveIn } from './engine/paths.js';

const wasmPaths = new URL('../tfjs-wasm/', import.meta.url).href;
let hostReader: ((path: string) => Promise<Uint8Array>) | undefined;

const service = new EngineService(registry, {
  setup: { host: 'web worker', wasmPaths },
  readFile: async (path, access) => {
    if (isFsPath(path)) {
      if (!hostReader) throw new Error(`cannot read ${path}: this host has no file access (open the pipeline in the desktop app)`);
      return hostReader(path);
    }
    checkUrl(path, access, self.location.href);
    const r = await fetch(path, { credentials: 'same-origin', redirect: 'error' });
    // A 404 is a missing file (code ENOENT, as on disk): model.load then tries the single-file checkpoint.
    if (r.status === 404) throw Object.assign(new Error(`could not read ${path}: HTTP 404 (no such file)`), { code: 'ENOENT' });
    if (!r.ok) throw new Error(`could not read ${path}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  },
  resolvePath: (base, p) => resolveIn(base, p, self.location.href),
  now: () => performance.now(),
});

export interface WorkerExtras {
  /** Hands the worker the host's file reader (a Comlink proxy). */
  setFileReader(reader: ((path: string) => Promise<Uint8Array>) | undefined): void;
}

const extras: WorkerExtras = {
  setFileReader(reader) {
    hostReader = reader;
  },
};
Comlink.expose(Object.assign(service, extras));
