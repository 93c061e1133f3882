// Pipeline → a standalone TypeScript module that builds the same graph through the engine's public
// API (`context-lab`), runs it and writes its outputs like `ctxlab run --out`. A pure function (no
// Node imports): the CLI and the editor's Export menu both call it. The generated module is what
// imports Node modules.
import { jsonPath, topologicalOrder } from '../compile/compile.js';
import { migrate } from '../schema/migrations.js';
import { PipelineSchema, splitPortRef, type Pipeline } from '../schema/pipeline.js';
import { commentText, keyLiteral, literal, stringLiteral } from './literal.js';

/** What the exporter needs from a registry: titles for the comments (a `Registry` fits). */
export interface TitleSource {
  get(type: string): { title: string; variants?: Record<string, { title: string }> } | undefined;
}

export interface TsExportOptions {
  /**
   * The folder that relative paths in params resolve against: the original pipeline file's folder,
   * written either relative to the generated file's folder (e.g. "../pipelines"; resolved at run
   * time through `import.meta.url`, so the pair can move together) or as an absolute path.
   * Default ".": the generated file's own folder.
   */
  baseDir?: string;
  /** Where the pipeline came from, for the header comment (e.g. "pipelines/flash-vs-naive.json"). */
  source?: string;
  /** Node titles for the comments; without it the comments name the type only. */
  registry?: TitleSource;
  /** The module the engine API is imported from. Default "context-lab". */
  packageName?: string;
  /** Output folder when the module is run without one. Default "results/<source file name or pipeline name>". */
  defaultOutDir?: string;
  /** The generated file's name, for the usage line. */
  fileName?: string;
}

export class ExportError extends Error {
  constructor(public readonly issues: { path: string; message: string }[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
    this.name = 'ExportError';
  }
}

/** Names the module uses itself, plus words that cannot name a variable in an ES module. */
const TAKEN = new Set([
  'p', 'main', 'run', 'files', 'args', 'flag', 'backend', 'outDir', 'baseDir', 'pipeline', 'runPipeline', 'writeOutputs', 'PipelineLoadError',
  'fileURLToPath', 'process', 'console', 'URL', 'Object', 'JSON', 'Math', 'undefined', 'NaN',
  'Infinity', 'eval', 'arguments', 'globalThis',
  'await', 'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do',
  'else', 'enum', 'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'implements', 'import',
  'in', 'instanceof', 'interface', 'let', 'new', 'null', 'package', 'private', 'protected', 'public',
  'return', 'static', 'super', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while',
  'with', 'yield', 'type', 'as', 'of', 'async', 'from', 'get', 'set',
]);

/** Variable names for node ids: `-` becomes `_`; clashes get a numeric suffix. */
function variableNames(ids: string[]): Map<string, string> {
  const used = new Set(TAKEN);
  const names = new Map<string, string>();
  for (const id of ids) {
    const stem = id.replace(/[^A-Za-z0-9_$]/g, '_');
    let name = TAKEN.has(stem) ? `${stem}_` : stem;
    for (let i = 2; used.has(name); i++) name = `${stem}_${i}`;
    used.add(name);
    names.set(id, name);
  }
  return names;
}

/** The order the compiler runs the nodes in. */
function runOrder(doc: Pipeline): number[] {
  const index = new Map(doc.nodes.map((n, i) => [n.id, i]));
  const succ = doc.nodes.map(() => new Set<number>());
  for (const e of doc.edges) succ[index.get(splitPortRef(e.from).node)!]!.add(index.get(splitPortRef(e.to).node)!);
  const { order, cyclic } = topologicalOrder(succ);
  if (cyclic.length)
    throw new ExportError([{ path: 'edges', message: `the graph has a cycle through ${cyclic.map((i) => `"${doc.nodes[i]!.id}"`).join(', ')}` }]);
  return order;
}

/** Validates the structure (migrating older versions) and the edges' endpoints; node params are the compiler's business. */
function parseForExport(raw: unknown): Pipeline {
  const parsed = PipelineSchema.safeParse(migrate(raw).doc);
  if (!parsed.success) throw new ExportError(parsed.error.issues.map((i) => ({ path: jsonPath(i.path), message: i.message })));
  const doc = parsed.data;
  const issues: { path: string; message: string }[] = [];
  const ids = new Set<string>();
  doc.nodes.forEach((n, i) => {
    if (ids.has(n.id)) issues.push({ path: `nodes[${i}].id`, message: `duplicate node id "${n.id}"` });
    ids.add(n.id);
  });
  const fed = new Set<string>();
  doc.edges.forEach((e, i) => {
    for (const end of ['from', 'to'] as const)
      if (!ids.has(splitPortRef(e[end]).node)) issues.push({ path: `edges[${i}].${end}`, message: `no node "${splitPortRef(e[end]).node}"` });
    if (fed.has(e.to)) issues.push({ path: `edges[${i}].to`, message: `input ${e.to} is fed by more than one edge` });
    fed.add(e.to);
  });
  if (issues.length) throw new ExportError(issues);
  return doc;
}

/** Wraps text into `// ` comment lines of about `width` characters. */
function commentBlock(text: string, width = 100): string[] {
  const lines: string[] = [];
  for (const para of text.split(/\r?\n/)) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean).map(commentText)) {
      if (line && line.length + 1 + word.length > width) (lines.push(line), (line = ''));
      line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
  }
  return lines.map((l) => (l ? `// ${l}` : '//'));
}

function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || p.startsWith('\\\\') || /^[A-Za-z]:[\\/]/.test(p);
}

function baseDirStatement(baseDir: string): string[] {
  if (isAbsolutePath(baseDir)) {
    return ['// Relative paths in params resolve against the original pipeline\'s folder.', `const baseDir = ${stringLiteral(baseDir)};`];
  }
  let rel = baseDir.replace(/\\/g, '/');
  if (!rel || rel === '.') rel = './';
  if (!rel.endsWith('/')) rel += '/';
  if (!rel.startsWith('.') && !rel.startsWith('/')) rel = `./${rel}`;
  return [
    '// Relative paths in params resolve against the original pipeline\'s folder, stored relative to this file.',
    `const baseDir = fileURLToPath(new URL(${stringLiteral(encodeURI(rel))}, import.meta.url));`,
  ];
}

function titleComment(node: Pipeline['nodes'][number], registry: TitleSource | undefined): string {
  const def = registry?.get(node.type);
  const variant = typeof node.params.variant === 'string' ? node.params.variant : undefined;
  const variantTitle = variant ? def?.variants?.[variant]?.title ?? variant : undefined;
  const title = def ? `${def.title}${variantTitle ? ` — ${variantTitle}` : ''} (${node.type})` : `${node.type}${variant ? ` — ${variant}` : ''}`;
  return `// ${commentText(`${node.id}: ${title}${node.label ? ` · "${node.label}"` : ''}`)}`;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const KNOWN_NODE_FIELDS = new Set(['id', 'type', 'params', 'position', 'label', 'notes']);

/** The generated module's text. Throws ExportError when the document is not a valid pipeline. */
export function exportTypeScript(raw: unknown, opts: TsExportOptions = {}): string {
  const doc = parseForExport(raw);
  const order = runOrder(doc);
  const names = variableNames(order.map((i) => doc.nodes[i]!.id));
  // Null-prototype records: a port named `__proto__` is a key like any other.
  const inputsOf = new Map<string, Record<string, { node: string; port: string }>>();
  const read = new Set<string>();
  for (const e of doc.edges) {
    const from = splitPortRef(e.from);
    const to = splitPortRef(e.to);
    (inputsOf.get(to.node) ?? inputsOf.set(to.node, Object.create(null)).get(to.node)!)[to.port] = from;
    read.add(from.node);
  }
  // The default output folder is named after the source file, else after the pipeline.
  const stem = opts.source?.split(/[\\/]/).pop()?.replace(/\.json$/i, '') || doc.name;
  const slug = stem.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'pipeline';
  const outDefault = opts.defaultOutDir ?? `results/${slug}`;
  const file = opts.source ? ` from ${commentText(opts.source)}` : '';

  const out: string[] = [];
  out.push(`// ${commentText(doc.name)} — a Context Lab pipeline as code, exported${file}.`);
  if (doc.description) out.push('//', ...commentBlock(doc.description));
  out.push(
    '//',
    `// Run: npx tsx ${commentText(opts.fileName ?? '<this file>')} [outDir] [--backend cpu|wasm|webgpu]   (or env CTXLAB_OUT, CTXLAB_BACKEND)`,
    '// It builds the graph through the engine\'s public API (docs/api.md), runs it, writes <outDir>/*.npy,',
    '// metrics.json and profile.json like `ctxlab run --out`, prints the metrics and the checks, and exits',
    '// with 1 when a node failed or a check did not hold (2 when the pipeline is invalid).',
    `// Default outDir: ${commentText(outDefault)}`,
    `import { fileURLToPath } from 'node:url';`,
    `import { pipeline, PipelineLoadError, runPipeline, writeOutputs } from ${stringLiteral(opts.packageName ?? 'context-lab')};`,
    '',
  );

  const extra: Record<string, unknown> = {};
  if (doc.description !== undefined) extra.description = doc.description;
  if (doc.checks !== undefined) extra.checks = doc.checks;
  out.push(Object.keys(extra).length ? `const p = pipeline(${stringLiteral(doc.name)}, ${literal(extra, '')});` : `const p = pipeline(${stringLiteral(doc.name)});`);

  for (const i of order) {
    const n = doc.nodes[i]!;
    out.push('', titleComment(n, opts.registry));
    const dropped = Object.keys(n).filter((k) => !KNOWN_NODE_FIELDS.has(k));
    if (dropped.length) out.push(`// (fields the builder does not carry, left out: ${dropped.map(commentText).join(', ')})`);
    const inputs = Object.entries(inputsOf.get(n.id) ?? {});
    // `handle.id` is the node's id, so a port named "id" is written as an explicit reference.
    const ref = (r: { node: string; port: string }) =>
      r.port === 'id' ? `{ node: ${stringLiteral(r.node)}, port: 'id' }` : IDENT.test(r.port) ? `${names.get(r.node)}.${r.port}` : `${names.get(r.node)}[${stringLiteral(r.port)}]`;
    const inputsText = inputs.length ? `{ ${inputs.map(([port, r]) => `${keyLiteral(port)}: ${ref(r)}`).join(', ')} }` : '{}';
    const options: Record<string, unknown> = {};
    if (n.position) options.position = n.position;
    if (n.label !== undefined) options.label = n.label;
    if (n.notes !== undefined) options.notes = n.notes;
    const hasOptions = Object.keys(options).length > 0;
    const args = [stringLiteral(n.id), stringLiteral(n.type)];
    const rest: [string, (indent: string) => string][] = [['params', (ind) => literal(n.params, ind)]];
    if (inputs.length || hasOptions) rest.push(['inputs', () => inputsText]);
    if (hasOptions) rest.push(['options', (ind) => literal(options, ind)]);
    const lhs = read.has(n.id) ? `const ${names.get(n.id)} = ` : '';
    const flat = `${lhs}p.node(${[...args, ...rest.map(([, f]) => f(''))].join(', ')});`;
    if (flat.length <= 110 && !flat.includes('\n')) out.push(flat);
    else out.push(`${lhs}p.node(${args.join(', ')},`, ...rest.map(([, f]) => `  ${f('  ')},`), ');');
  }

  out.push(
    '',
    ...baseDirStatement(opts.baseDir ?? '.'),
    '',
    '// No top-level await: the module also runs where tsx treats .ts files as CommonJS.',
    'async function main(args: string[]): Promise<number> {',
    '  const flag = (name: string) => { const i = args.indexOf(name); return i < 0 ? undefined : args.splice(i, 2)[1]; };',
    `  const backend = flag('--backend') ?? process.env.CTXLAB_BACKEND ?? 'cpu';`,
    `  if (backend !== 'cpu' && backend !== 'wasm' && backend !== 'webgpu') throw new Error(\`--backend: expected cpu, wasm or webgpu, got "\${backend}"\`);`,
    `  const outDir = args[0] ?? process.env.CTXLAB_OUT ?? ${stringLiteral(outDefault)};`,
    '',
    '  const run = await runPipeline(p.toJSON(), { backend, baseDir });',
    '  const files = await writeOutputs(run, outDir);',
    '  console.log(`${run.profile.pipeline}: ${run.status} on ${run.profile.backend.name} in ${run.profile.totalMs.toFixed(1)} ms`);',
    '  for (const e of run.errors) console.error(`node "${e.nodeId}" failed: ${e.message}`);',
    '  // Scalars only: series (per-step memory, timelines) are in metrics.json.',
    '  for (const [key, values] of Object.entries(run.metrics))',
    "    console.log(`${key}: ${Object.entries(values).filter(([, v]) => typeof v !== 'object').map(([k, v]) => `${k} ${v}`).join('  ')}`);",
    "  for (const c of run.checks) console.log(`${c.ok ? '✓' : '✗'} ${c.text}`);",
    "  console.log(`wrote ${files.join(', ')}`);",
    "  return run.status === 'ok' && run.checks.every((c) => c.ok) ? 0 : 1;",
    '}',
    '',
    'main(process.argv.slice(2)).then(',
    '  (code) => (process.exitCode = code),',
    '  (err: unknown) => {',
    '    // An invalid pipeline exits with 2, like `ctxlab run`.',
    '    console.error(err instanceof PipelineLoadError ? err.message : err);',
    '    process.exitCode = err instanceof PipelineLoadError ? 2 : 1;',
    '  },',
    ');',
    '',
  );
  return out.join('\n');
}
