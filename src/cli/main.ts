// `ctxlab`: run, sweep, validate and inspect Context Lab pipelines from the terminal.
// Exit codes: 0 ok, 1 run failed (a node failed or a check did not hold), 2 invalid pipeline or arguments.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { catalog, paramRows } from '../engine/catalog.js';
import { pipelineJsonSchema } from '../engine/schema/json-schema.js';
import { registry } from '../nodes/index.js';
import pkg from '../../package.json' with { type: 'json' };
import { CliError, EXIT, runCommand, sweepCommand, validateCommand, type RunFlags, type RunReport } from './run.js';
import { registerExport } from './export.js';
import { registerPlan } from './plan.js';
import { terminalLines } from './format.js';

const BACKENDS = ['cpu', 'wasm', 'webgpu'] as const;
const collect = (v: string, prev: string[]) => [...prev, v];
const FILE_HELP = 'the pipeline JSON ("-": read it from stdin; relative paths in params then resolve against the working folder)';
const ALLOW_READ_HELP =
  'let the pipeline read files in this folder too (repeatable); without it, files named in params are read only from the pipeline file\'s folder and below (stdin: the working folder)';
const BUDGET_HELP = 'refuse runs whose predicted peak exceeds this: 8GiB, 512MiB (powers of 1024), 1GB, 500MB (powers of 1000) or bytes; default half of system memory';

function runOptions(cmd: Command, outHelp: string): Command {
  return cmd
    .addOption(new Option('-b, --backend <name>', 'tfjs backend').choices(BACKENDS).default('wasm'))
    .option('-s, --set <node.param=value>', 'override a param (repeatable); value is JSON or a string', collect, [])
    .option('-o, --out <dir>', outHelp)
    .option('--memory-budget <size>', BUDGET_HELP)
    .option('--allow-read <dir>', ALLOW_READ_HELP, collect, [])
    .option('--json', 'print a JSON report instead of tables')
    .option('--no-progress', 'no progress bar')
    .addOption(new Option('--threads <n>', "threads of the wasm backend's kernels: attention, selective scan, group quantize (default: the cores available)").argParser(positiveInt));
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
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
    .version(pkg.version, '-V, --version', 'print the version')
    .option('--verbose', 'print stack traces on errors')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const verbose = () => program.opts().verbose === true;
  // The engine's worker inherits the environment: the kernel reads its thread count there.
  program.hook('preAction', (_, action) => {
    const threads = action.opts().threads as number | undefined;
    if (threads) process.env.CTXLAB_WASM_THREADS = String(threads);
  });

  runOptions(program.command('run').argument('<file>', FILE_HELP).description('run a pipeline once and print per-node timings and memory'), 'write outputs (.npy), metrics.json and profile.json here').action(
    async (file: string, flags: RunFlags) => setExit(print(await runCommand(file, { ...flags, verbose: verbose() }), flags.json)),
  );

  runOptions(
    program
      .command('sweep')
      .argument('<file>', FILE_HELP)
      .description('run once per value of one param (--set node.param=v1,v2,…); per-node ms and peak bytes with log-log slopes')
      .addHelpText(
        'after',
        '\nEvery value is validated before any runs; one untimed warm-up run at the smallest value comes first.\n' +
          'Exit codes: 0 when every value ran or was refused by the memory guard (refusals are printed as results),\n' +
          '1 when any run failed, 2 for an invalid pipeline, value or argument.',
      ),
    'write sweep.csv (a row per value and node, then a slope row per node) and sweep.json here',
  ).action(async (file: string, flags: RunFlags) => setExit(print(await sweepCommand(file, { ...flags, verbose: verbose() }), flags.json)));

  program
    .command('validate')
    .argument('<file>', FILE_HELP)
    .description('check a pipeline: schema, params, edges, cycles, shapes, and the memory plan against the budget, without running')
    .option('-s, --set <node.param=value>', 'override a param (repeatable)', collect, [])
    .option('--memory-budget <size>', BUDGET_HELP)
    .option('--allow-read <dir>', ALLOW_READ_HELP, collect, [])
    .option('--json', 'print the plan or the issues as JSON')
    .option('--backend <name>', "webgpu: also check each node's GPU kernel needs against this machine's adapter (which node would fall back, and why)")
    .action(async (file: string, flags: { set: string[]; memoryBudget?: string; allowRead: string[]; json?: boolean; backend?: string }) => setExit(print(await validateCommand(file, flags), flags.json)));

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
  registerPlan(program, setExit);

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
    const e = err as Error & { cause?: unknown; issues?: unknown };
    const exitCode = err instanceof CliError ? err.code : EXIT.runFailed;
    const message = e.message ?? String(err);
    // With --json every outcome is JSON on stdout, errors included (as an invalid pipeline's issues are).
    if (argv.includes('--json'))
      process.stdout.write(JSON.stringify({ ok: false, status: exitCode === EXIT.invalid ? 'invalid' : 'failed', issues: e.issues ?? [{ message }] }, null, 2) + '\n');
    else process.stderr.write(`ctxlab: ${terminalLines(message)}\n`);
    if (argv.includes('--verbose')) process.stderr.write(`${(e.cause as Error | undefined)?.stack ?? e.stack}\n`);
    return exitCode;
  }
}
