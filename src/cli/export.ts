// `ctxlab export <file> --ts out.ts`: the pipeline as a standalone TypeScript module (see
// src/engine/export/typescript.ts), or `--to-json out.json`: the document at the current format
// version (older versions migrated, unknown fields kept).
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { planRun } from '../engine/compile/plan-run.js';
import { exportPipelineJson } from '../engine/export/json.js';
import { exportTypeScript } from '../engine/export/typescript.js';
import { writeAtomic } from '../engine/node/files.js';
import { registry } from '../nodes/index.js';
import { allowedFolders, baseDirOf, EXIT, headReader, issueLines, loadWithOverrides } from './run.js';

export interface ExportFlags {
  ts?: string;
  toJson?: string;
  set: string[];
  absolute?: boolean;
  allowRead?: string[];
}

/**
 * Where the generated module finds the pipeline's folder (for relative paths in params): relative
 * to the module's own folder, or absolute with --absolute or when the two sit on different roots.
 */
export function baseDirFor(pipelineFile: string, outFile: string | undefined, absolute = false): string {
  const pipelineDir = baseDirOf(pipelineFile);
  if (absolute || !outFile) return pipelineDir;
  const rel = relative(dirname(resolve(outFile)), pipelineDir);
  return isAbsolute(rel) ? pipelineDir : rel || '.';
}

/** Writes the export(s); returns what to print. Invalid pipelines are refused (exit 2). */
export async function exportCommand(file: string, flags: ExportFlags): Promise<{ text: string; exitCode: number }> {
  // Checked as `ctxlab run` checks it (planRun: --set names real params, .npy sources learn their
  // shapes from their headers); what is exported is the document with the overrides, unprepared:
  // the generated module prepares it again when it runs.
  const { raw, overrides, doc } = await loadWithOverrides(file, flags.set);
  const baseDir = baseDirOf(file);
  const r = await planRun(raw, registry, { baseDir, overrides, readHead: headReader(baseDir, allowedFolders(flags.allowRead)) });
  if (!r.ok) return { text: issueLines(file, r.issues), exitCode: EXIT.invalid };

  const lines: string[] = [];
  if (flags.toJson) {
    await writeAtomic(resolve(flags.toJson), exportPipelineJson(doc));
    lines.push(`wrote ${flags.toJson}`);
  }
  if (flags.ts || !flags.toJson) {
    const toStdout = !flags.ts || flags.ts === '-';
    const code = exportTypeScript(doc, {
      baseDir: baseDirFor(file, toStdout ? undefined : flags.ts, flags.absolute),
      source: relative(process.cwd(), resolve(file)) || file,
      registry,
      fileName: toStdout ? undefined : basename(flags.ts!),
    });
    if (toStdout) {
      process.stdout.write(code);
      return { text: '', exitCode: EXIT.ok };
    }
    await writeAtomic(resolve(flags.ts!), code);
    lines.push(`wrote ${flags.ts} — run it with: npx tsx ${flags.ts}`);
  }
  return { text: lines.join('\n'), exitCode: EXIT.ok };
}

export function registerExport(program: Command, setExit: (code: number) => void): void {
  program
    .command('export <file>')
    .description('write the pipeline as a standalone TypeScript module (--ts) or as JSON at the current format version (--to-json)')
    .option('--ts <out.ts>', 'write a TypeScript module that builds and runs the pipeline through the `context-lab` API ("-": stdout; the default when no other output is named)')
    .option('--to-json <out.json>', 'write the document at the current format version (migrated; unknown fields kept)')
    .option('-s, --set <node.param=value>', 'override a param in the export (repeatable)', (v: string, prev: string[]) => [...prev, v], [])
    .option('--absolute', "store the pipeline's folder as an absolute path (default: relative to the generated file)")
    .option('--allow-read <dir>', 'let the pipeline read files in this folder too (repeatable), as `run` does: the export is checked with the shapes its .npy sources hold', (v: string, prev: string[]) => [...prev, v], [])
    .action(async (file: string, flags: ExportFlags) => {
      const r = await exportCommand(file, flags);
      if (r.text) (r.exitCode === EXIT.ok ? process.stdout : process.stderr).write(r.text + '\n');
      setExit(r.exitCode);
    });
}
