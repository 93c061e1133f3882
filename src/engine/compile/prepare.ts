// Before compiling, nodes that read files may fill params from them (NodeDef.prepare): a .npy source
// learns its shape from the header, so shapes, errors and the memory plan are known without running.
import type { Registry } from '../registry.js';

type RawNode = { type?: unknown; params?: unknown };

/** A copy of `raw` with prepared params; nodes without `prepare`, or whose files cannot be read, are left as they are. */
export async function prepareDocument(raw: unknown, registry: Registry, readHead: (path: string) => Promise<Uint8Array | undefined>): Promise<unknown> {
  const nodes = (raw as { nodes?: unknown })?.nodes;
  if (!Array.isArray(nodes)) return raw;
  const prepared = await Promise.all(
    nodes.map(async (n: RawNode) => {
      const def = typeof n?.type === 'string' ? registry.get(n.type) : undefined;
      const params = n?.params ?? {};
      if (!def?.prepare || typeof params !== 'object' || Array.isArray(params)) return n;
      try {
        const next = await def.prepare(params as Record<string, unknown>, readHead);
        return next === params ? n : { ...n, params: next };
      } catch {
        return n; // a file that does not parse fails the node when it runs, with the same message
      }
    }),
  );
  return { ...(raw as object), nodes: prepared };
}
