// `ctxlab`: run, sweep, validate and inspect Context Lab pipelines from the terminal.
// Exit codes: 0 ok, 1 run failed (a node failed or a check did not hold), 2 invalid pipeline or arguments.
import { Command, CommanderError, Option } from 'commander';
import { dirname, resolve } from 'node:path';
import { catalog, paramRows } from '../engine/catalog.js';
import { compile, formatIssue } from '../engine/compile/compile.js';
import { pipelineJsonSchema } from '../engine/schema/json-schema.js';
import { registry } from '../nodes/index.js';
import { formatShape } from '../engine/tensor.js';
import { CliError, EXIT, loadWithOverrides, runCommand, sweepCommand, type RunFlags, type RunReport } from './run.js';
import { mb, table } from './format.js';
import { registerExport } from './export.js';

const BACKENDS = ['cpu', 'wasm', 'webgpu'] as const;
const collect = (v: string, prev: string[]) => [...prev, v];

function runOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-b, --backend <name>', 'tfjs backend').choices(BACKENDS).default('wasm'))
    .option('-s, --set <node.param=value>', 'override a param (repeatable); value is JSON or a string', collect, [])
    .option('-o, --out <dir>', 'write outputs (.npy), metrics.json and profile.json here')
    .option('--memory-budget <size>', 'refuse runs whose predicted peak exceeds this (e.g. 8GiB); default half of system memory')
    .option('--json', 'print a JSON report instead of tables')
    .option('--no-progress', 'no progress bar');
}

function print(r: RunReport, json: boolean | undefined): number {
  if (json) process.stdout.write(JSON.stringify(r.json, null, 2) + '\n');
  else if (r.exitCode === EXIT.invalid) process.stderr.write(r.text + '\n');
  else process.stdout.write(r.text + '\n');
  return r.exitCode;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('ctxlab')
    .description('Run, sweep and inspect Context Lab pipelines (long-context LLM techniques) headless.')
    .option('--verbose', 'print stack traces on errors')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  runOptions(program.command('run <file>').description('run a pipeline once and print per-node timings and memory')).action(
    async (file: string, flags: RunFlags) => setExit(print(await runCommand(file, flags), flags.json)),
  );

  runOptions(
    program
      .command('sweep <file>')
      .description('run once per value of one param (--set node.param=v1,v2,…); per-node ms and peak bytes with log-log slopes'),
  ).action(async (file: string, flags: RunFlags) => setExit(print(await sweepCommand(file, flags), flags.json)));

  program
    .command('validate <file>')
    .description('check a pipeline: schema, params, edges, cycles, shapes; print the memory plan')
    .option('-s, --set <node.param=value>', 'override a param (repeatable)', collect, [])
    .option('--json', 'print the issues as JSON')
    .action(async (file: string, flags: { set: string[]; json?: boolean }) => {
      const doc = await loadWithOverrides(file, flags.set);
      const r = compile(doc, registry, { baseDir: dirname(resolve(file)) });
      if (!r.ok) {
        if (flags.json) process.stdout.write(JSON.stringify({ ok: false, issues: r.issues }, null, 2) + '\n');
        else process.stderr.write(r.issues.map((i) => `${file}: ${formatIssue(i)}`).join('\n') + '\n');
        return setExit(EXIT.invalid);
      }
      const { plan, warnings } = r;
      if (flags.json) {
        process.stdout.write(JSON.stringify({ ok: true, warnings, predictedPeakBytes: plan.predictedPeakBytes, steps: plan.steps.map((s) => ({ id: s.id, type: s.def.type, outShapes: s.outShapes, flops: s.cost.flops, predictedPeakBytes: s.predictedPeakBytes })) }, null, 2) + '\n');
        return setExit(EXIT.ok);
      }
      process.stdout.write(`${file}: ok — ${plan.steps.length} nodes, ${plan.doc.edges.length} edges, predicted peak ${mb(plan.predictedPeakBytes)} MB at "${plan.peakStep}"\n\n`);
      process.stdout.write(
        table(
          ['node', 'type', 'outputs', 'GFLOP', 'pred peak MB'],
          plan.steps.map((s) => [
            s.id, s.def.type,
            Object.entries(s.outShapes).map(([p, sh]) => `${p} ${sh?.shape ? formatShape(sh.shape, sh.dtype) : sh?.kind ?? ''}`).join(', '),
            (s.cost.flops / 1e9).toFixed(3), mb(s.predictedPeakBytes),
          ]),
          ['l', 'l', 'l', 'r', 'r'],
        ) + '\n',
      );
      for (const w of warnings) process.stdout.write(`warning: ${formatIssue(w)}\n`);
      return setExit(EXIT.ok);
    });

  program
    .command('nodes')
    .description('list the node catalog: every type and variant with its params (defaults) and ports')
    .option('--json', 'print the catalog as JSON')
    .argument('[type]', 'show one node type only')
    .action((type: string | undefined, flags: { json?: boolean }) => {
      const infos = catalog(registry).filter((n) => !type || n.type === type);
      if (type && !infos.length) throw new CliError(`unknown node type "${type}"; see ctxlab nodes`);
      if (flags.json) {
        process.stdout.write(JSON.stringify(infos, null, 2) + '\n');
        return;
      }
      const ports = (m: Record<string, { kind: string; optional?: boolean }>) =>
        Object.entries(m).map(([n, p]) => `${n}:${p.kind}${p.optional ? '?' : ''}`).join(', ') || '—';
      const params = (schema: Record<string, unknown>) =>
        paramRows(schema).filter((p) => p.name !== 'variant').map((p) => `${p.name}${p.required ? '' : '?'}: ${p.type}${p.default !== undefined ? ` = ${JSON.stringify(p.default)}` : ''}`).join('; ') || '—';
      for (const n of infos) {
        process.stdout.write(`${n.type}  [${n.family}] ${n.title}\n  ${n.summary}\n  in: ${ports(n.inputs)}\n  out: ${ports(n.outputs)}\n`);
        if (n.variants) for (const [name, v] of Object.entries(n.variants)) process.stdout.write(`  variant "${name}" — ${v.title}: ${params(v.params)}\n`);
        else process.stdout.write(`  params: ${params(n.params)}\n`);
        process.stdout.write('\n');
      }
    });

  registerExport(program, setExit);

  program
    .command('schema')
    .description('print the JSON Schema of the pipeline format (schema/pipeline.schema.json)')
    .action(() => {
      process.stdout.write(JSON.stringify(pipelineJsonSchema(registry), null, 2) + '\n');
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    const verbose = argv.includes('--verbose');
    if (err instanceof CliError) {
      process.stderr.write(`ctxlab: ${err.message}\n`);
      return err.code;
    }
    process.stderr.write(`ctxlab: ${(err as Error).message ?? String(err)}\n`);
    if (verbose) process.stderr.write(`${(err as Error).stack}\n`);
    return EXIT.runFailed;
  }
}
