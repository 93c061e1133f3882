// TEST ONLY: makes the engine worker die while a chosen node runs, so tests can check what the CLI
// does when its worker dies (out of memory, a crash). Inert unless CTXLAB_TEST_WORKER_DEATH is set:
//   "<nodeId>:exit"   the worker calls process.exit(70)
//   "<nodeId>:throw"  an uncaught error in the worker
// optionally followed by "@<node>.<param>=<value>": only in runs with that --set override (a sweep value).
import type { EngineService } from '../run/service.js';

export function withTestWorkerDeath(service: EngineService, spec = process.env.CTXLAB_TEST_WORKER_DEATH): EngineService {
  if (!spec) return service;
  const m = /^([^:@]+):(exit|throw)(?:@([^.=]+)\.([^=]+)=(.*))?$/.exec(spec);
  if (!m) throw new Error(`CTXLAB_TEST_WORKER_DEATH: expected <nodeId>:exit|throw[@node.param=value], got ${spec}`);
  const [, nodeId, how, onNode, onParam, onValue] = m;
  const run = service.run.bind(service);
  service.run = (doc, opts = {}, onEvent) => {
    const armed = !onNode || (opts.overrides ?? []).some((o) => o.node === onNode && o.param === onParam && JSON.stringify(o.value) === onValue);
    return run(doc, opts, (e) => {
      onEvent?.(e);
      // At the node's first await, while it runs (as a real crash mid-kernel); its node-started event has left.
      if (armed && e.type === 'node-started' && e.nodeId === nodeId)
        queueMicrotask(() => {
          if (how === 'exit') process.exit(70);
          throw new Error(`test: the worker crashes in node "${nodeId}"`);
        });
    });
  };
  return service;
}
