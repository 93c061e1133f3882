// The engine in a Node worker_thread with the node library's registry (./worker.ts from source,
// dist/worker.js beside the bundle once built).
import { spawnEngineWorker, type EngineWorker } from '../engine/node/client.js';

export function startEngineWorker(): Promise<EngineWorker> {
  return spawnEngineWorker(new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url));
}
