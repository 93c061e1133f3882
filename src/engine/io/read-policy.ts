// What a pipeline may read. A pipeline is untrusted input (downloaded, pasted from an issue): without
// a policy, `source.text { path: "/etc/passwd" }` chained into a sink copies the file into the outputs.
// Reads are confined to the pipeline file's folder (for `-` on stdin, the working folder) and below,
// plus folders the user allows explicitly (`--allow-read DIR`, or a confirm in the app naming the
// folder); symlinks are resolved before the check; only regular files; at most `maxBytes` per file.
// This module holds the platform-neutral parts; the checks that need a file system are in
// src/engine/node/read-policy.ts (CLI, Node worker, public API, Electron main).
import type { FileHead } from '../node.js';

/**
 * The most one file read by a pipeline may hold: 4 GiB, the largest array Node 20 can return, enough
 * for a 1B-parameter model's single `model.safetensors` in bf16 (HF shards are ≤ 5 GB, most far less).
 */
export const DEFAULT_MAX_READ_BYTES = 4 * 1024 ** 3;

/** Where a run may read from. */
export interface ReadAccess {
  /** The pipeline file's folder (stdin: the working folder); relative paths in params resolve against it. */
  baseDir: string;
  /** More folders the user allowed explicitly (they and everything below them). */
  allowRead?: string[];
  /** Bytes; default DEFAULT_MAX_READ_BYTES. */
  maxBytes?: number;
}

/** The reads of one run, already confined by the host's policy. */
export interface PipelineReader {
  /** A whole file; throws ReadRefusedError when the policy refuses it. */
  read(path: string): Promise<Uint8Array>;
  /** The first bytes and the size (for NodeDef.prepare); undefined when the file cannot be read, throws when refused. */
  readHead?(path: string): Promise<FileHead | undefined>;
}

export type RefusalReason = 'outside' | 'not-a-file' | 'too-large';

/** Every refusal message starts with this, so it is recognised after crossing IPC (where only the message survives). */
export const READ_REFUSED = 'read refused:';

export class ReadRefusedError extends Error {
  constructor(
    /** The path as requested (after resolving against the pipeline's folder). */
    readonly path: string,
    readonly reason: RefusalReason,
    /** For 'outside': the folder that would have to be allowed. */
    readonly folder: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'ReadRefusedError';
  }

  static outside(path: string, real: string, folder: string, roots: readonly string[]): ReadRefusedError {
    const via = real !== path ? ` (it resolves to ${real})` : '';
    return new ReadRefusedError(
      path, 'outside', folder,
      `${READ_REFUSED} ${path}${via} is outside the folders this pipeline may read (${roots.join(', ') || 'none'}); ` +
        `to allow it, run with --allow-read ${folder} (ctxlab) or allow the folder when the app asks`,
    );
  }

  static notAFile(path: string): ReadRefusedError {
    return new ReadRefusedError(path, 'not-a-file', undefined, `${READ_REFUSED} ${path} is not a regular file (a folder, device or pipe)`);
  }

  static tooLarge(path: string, size: number | undefined, maxBytes: number): ReadRefusedError {
    const what = size === undefined ? 'holds more than' : `is ${size} bytes, over`;
    return new ReadRefusedError(path, 'too-large', undefined, `${READ_REFUSED} ${path} ${what} the ${maxBytes}-byte limit on one file read`);
  }
}

/** Whether an error is a policy refusal (also when only its message crossed a worker or IPC boundary). */
export function isReadRefusal(err: unknown): boolean {
  if (err instanceof ReadRefusedError || (err as Error | undefined)?.name === 'ReadRefusedError') return true;
  const message = (err as Error | undefined)?.message;
  return typeof message === 'string' && message.includes(READ_REFUSED);
}

/** A read a run refused: the node that asked and the path it named. */
export interface RefusedRead {
  nodeId?: string;
  path: string;
  message: string;
}

/**
 * Issues for refused reads, with the JSON path of the param that names the file when one does
 * (`nodes[2].params.path`), else the node's own path.
 */
export function refusalIssues(doc: unknown, refused: RefusedRead[]): { path: string; nodeId?: string; message: string }[] {
  const nodes = (doc as { nodes?: unknown })?.nodes;
  const list: { id?: unknown; params?: unknown }[] = Array.isArray(nodes) ? nodes : [];
  return refused.map((r) => {
    const i = list.findIndex((n) => n?.id === r.nodeId);
    const params = list[i]?.params;
    const key =
      params && typeof params === 'object'
        ? Object.keys(params).find((k) => {
            const v = (params as Record<string, unknown>)[k];
            // The file itself, or a file inside the folder a param names (a model folder's config.json).
            return typeof v === 'string' && v !== '' && (r.path === v || r.path.startsWith(`${v.replace(/[\\/]+$/, '')}/`));
          })
        : undefined;
    const where = i < 0 ? '$' : key ? `nodes[${i}].params.${key}` : `nodes[${i}]`;
    return { path: where, ...(r.nodeId !== undefined ? { nodeId: r.nodeId } : {}), message: r.message };
  });
}

/**
 * Wraps a `readHead` for prepareDocument so that refusals are noticed: NodeDef.prepare may let them
 * through as its own error, and `issues` then gives them back as refusal issues naming the param.
 */
export function watchRefusals<T>(readHead: (path: string) => Promise<T>) {
  const seen: RefusedRead[] = [];
  return {
    readHead: (path: string): Promise<T> =>
      readHead(path).catch((err: unknown) => {
        if (isReadRefusal(err)) seen.push({ path, message: (err as Error).message });
        throw err;
      }),
    /** The prepare issues that were refusals (empty when none was). */
    issues(doc: unknown, prepareIssues: { nodeId?: string; message: string }[]) {
      const refused = prepareIssues.flatMap((i) => {
        const r = seen.find((s) => i.message.includes(s.message));
        return r ? [{ ...r, nodeId: i.nodeId }] : [];
      });
      return refusalIssues(doc, refused);
    },
  };
}
