// Before compiling, nodes that read files may fill params from them (NodeDef.prepare): a .npy source
// learns its shape from the header, so shapes, errors and the memory plan are known without running,
// and a file `run` would refuse (a malformed header, a size that does not match it) is refused here.
import type { FileHead } from '../node.js';
import type { Registry } from '../registry.js';
import type { CompileIssue } from './compile.js';

type RawNode = { id?: unknown; type?: unknown; params?: unknown };

/**
 * A copy of `raw` with prepared params, and an issue per node whose prepare threw (at
 * `nodes[i].params.<param>` when the error names a `param`). Nodes without `prepare`, and files that
 * cannot be read (the run reports those), are left as they are.
 */
export async function prepareDocument(
  raw: unknown,
  registry: Registry,
  readHead: (path: string) => Promise<FileHead | undefined>,
): Promise<{ doc: unknown; issues: CompileIssue[] }> {
  const nodes = (raw as { nodes?: unknown })?.nodes;
  if (!Array.isArray(nodes)) return { doc: raw, issues: [] };
  const failures: (CompileIssue | undefined)[] = [];
  const prepared = await Promise.all(
    nodes.map(async (n: RawNode, i) => {
      const def = typeof n?.type === 'string' ? registry.get(n.type) : undefined;
      const params = n?.params ?? {};
      if (!def?.prepare || typeof params !== 'object' || Array.isArray(params)) return n;
      try {
        const next = await def.prepare(params as Record<string, unknown>, readHead);
        return next === params ? n : { ...n, params: next };
      } catch (err) {
        const param = (err as { param?: unknown }).param;
        failures[i] = {
          path: `nodes[${i}]${typeof param === 'string' ? `.params.${param}` : ''}`,
          nodeId: typeof n.id === 'string' ? n.id : undefined,
          message: (err as Error).message,
        };
        return n;
      }
    }),
  );
  // In document order, whatever order the reads finished in.
  return { doc: { ...(raw as object), nodes: prepared }, issues: failures.filter((f): f is CompileIssue => f !== undefined) };
}
