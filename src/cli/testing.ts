// Runs the `ctxlab` command as a child process, the way a user runs it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** `input` is written to the command's stdin (which is closed either way). */
export function ctxlab(args: string[], cwd = process.cwd(), input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [join(process.cwd(), 'bin/ctxlab.mjs'), ...args], { cwd, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

/**
 * Like `ctxlab`, but a command still running after `timeoutMs` is killed and reported with
 * `timedOut: true` (a hang is a failure to report, not a test that never ends).
 */
export function ctxlabWithin(
  args: string[],
  opts: { cwd?: string; input?: string; timeoutMs: number },
): Promise<{ code: number; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [join(process.cwd(), 'bin/ctxlab.mjs'), ...args],
      { cwd: opts.cwd ?? process.cwd(), maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' }, timeout: opts.timeoutMs, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const timedOut = !!err && (err as { killed?: boolean }).killed === true;
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, timedOut });
      },
    );
    child.stdin?.end(opts.input);
  });
}
