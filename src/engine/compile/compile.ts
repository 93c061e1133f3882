// compile: validate (zod) → resolve edges → topological order → shape inference → cost → memory plan.
// Every problem is reported with the JSON path and the node id; nothing here throws on bad input.
import type { z } from 'zod';
import type { AnyNodeDef, Cost, PortSpec } from '../node.js';
import { ShapeError } from '../node.js';
import type { Registry } from '../registry.js';
import { NESTING_MESSAGE, tooDeep } from '../schema/limits.js';
import { migrate } from '../schema/migrations.js';
import { PipelineSchema, splitPortRef, type Pipeline } from '../schema/pipeline.js';
import { formatShape } from '../tensor.js';
import { predictedBytes, type PortShape } from '../values.js';
import { variantOf } from '../variants.js';
import { dict, own } from '../dict.js';
import { checkIssues, emitIssues, metricKeyIssues } from './refs.js';

export interface CompileIssue {
  /** JSON path into the pipeline document, e.g. `nodes[2].params.seqLen`. */
  path: string;
  nodeId?: string;
  port?: string;
  /**
   * Set when the message is about the node itself (its shapes): displays say `<nodeId> (<nodeType>): `
   * before it (formatIssue); a view that is already on the node shows the message alone.
   */
  nodeType?: string;
  message: string;
}

export interface PlanStep {
  id: string;
  /** Index of the node in the document's `nodes` array. */
  index: number;
  def: AnyNodeDef;
  params: any;
  /** For each connected input port, where its value comes from. */
  inputs: Record<string, { node: string; port: string }>;
  /** Output ports that some edge reads. */
  connectedOutputs: Set<string>;
  inShapes: Record<string, PortShape | undefined>;
  outShapes: Record<string, PortShape | undefined>;
  cost: Cost;
  /** Index of the last step that reads each output (own index when nothing reads it). */
  lastUse: Record<string, number>;
  predictedOutputBytes: number;
  /** Predicted bytes live while this node runs: live values + its workspace + its outputs. */
  predictedPeakBytes: number;
}

export interface Plan {
  doc: Pipeline;
  steps: PlanStep[];
  predictedPeakBytes: number;
  /** The step at which the predicted peak happens. */
  peakStep: string | undefined;
  /** Folder that relative paths in params resolve against. */
  baseDir: string;
}

/** Output shapes by node id, then port. */
export type ShapeMap = Record<string, Record<string, PortShape | undefined>>;

export type CompileResult =
  | { ok: true; plan: Plan; warnings: CompileIssue[] }
  /** `shapes` and `costs` (with `partial`): what could be inferred despite the issues. */
  | { ok: false; issues: CompileIssue[]; shapes?: ShapeMap; costs?: Record<string, Cost> };

export interface CompileOptions {
  baseDir?: string;
  /** Params set explicitly (e.g. `--set`): naming one the node does not have is an error, not a warning. */
  strictParams?: { node: string; param: string }[];
  /**
   * When the document has issues, go on inferring what can be (nodes whose params parse and whose
   * inputs are all known) and return those shapes and costs beside the issues: the editor labels
   * edges and sizes nodes while the graph is incomplete.
   */
  partial?: boolean;
}

/**
 * Formats a zod issue path as a JSON path (`nodes[0].params.seqLen`); a key that is not a plain name
 * (empty, dotted, a newline…) is quoted (`params["a.b"]`), so the path stays unambiguous and on one line.
 */
export function jsonPath(parts: readonly PropertyKey[]): string {
  let s = '';
  for (const p of parts) {
    const key = String(p);
    if (typeof p === 'number') s += `[${p}]`;
    else if (!/^[A-Za-z_$][\w$-]*$/.test(key)) s += `[${JSON.stringify(key)}]`;
    else s += s === '' ? key : `.${key}`;
  }
  return s === '' ? '$' : s;
}

function zodIssues(err: z.ZodError, prefix: PropertyKey[], nodeId?: string): CompileIssue[] {
  return err.issues.map((i) => ({ path: jsonPath([...prefix, ...i.path]), nodeId, message: i.message }));
}

/** Validates the document and each node's params; returns the parsed document or the issues. */
export function validateDocument(
  raw: unknown,
  registry: Registry,
  opts: Pick<CompileOptions, 'strictParams'> = {},
): { ok: true; doc: Pipeline; params: unknown[]; warnings: CompileIssue[] } | { ok: false; issues: CompileIssue[]; doc?: Pipeline; params?: unknown[] } {
  const deep = tooDeep(raw);
  if (deep) return { ok: false, issues: [{ path: jsonPath(deep), message: NESTING_MESSAGE }] };
  const migrated = migrate(raw).doc;
  const parsed = PipelineSchema.safeParse(migrated);
  if (!parsed.success) return { ok: false, issues: zodIssues(parsed.error, []) };
  const doc = parsed.data;
  const issues: CompileIssue[] = [];
  const warnings: CompileIssue[] = [];
  const params: unknown[] = [];
  const seen = new Map<string, number>();
  doc.nodes.forEach((n, i) => {
    if (seen.has(n.id))
      issues.push({ path: `nodes[${i}].id`, nodeId: n.id, message: `duplicate node id "${n.id}" (also nodes[${seen.get(n.id)}])` });
    seen.set(n.id, i);
    const def = registry.get(n.type);
    if (!def) {
      issues.push({ path: `nodes[${i}].type`, nodeId: n.id, message: `unknown node type "${n.type}"${suggest(n.type, registry.types())}` });
      params.push(undefined);
      return;
    }
    const p = def.params.safeParse(n.params);
    if (!p.success) issues.push(...zodIssues(p.error, ['nodes', i, 'params'], n.id));
    else
      for (const w of unknownParams(n.params, p.data as Record<string, unknown>, def.params, def.type, i, n.id)) {
        const set = opts.strictParams?.find((o) => o.node === n.id && `nodes[${i}].params.${o.param.split('.')[0]}` === w.path);
        if (set) issues.push({ ...w, message: w.message.replace(', so it has no effect', '') });
        else warnings.push(w);
      }
    params.push(p.success ? p.data : undefined);
  });
  // With node issues the document still parsed: a partial compile goes on with the nodes that did.
  return issues.length ? { ok: false, issues, doc, params } : { ok: true, doc, params, warnings };
}

/**
 * Params the schema does not know (zod strips them while parsing): a typo such as "seqlen", or a param
 * of another variant. Warnings, not errors: a newer writer's params are kept and written back.
 */
function unknownParams(raw: unknown, parsed: Record<string, unknown>, schema: z.ZodType, type: string, i: number, nodeId: string): CompileIssue[] {
  if (!raw || typeof raw !== 'object') return [];
  const known = paramNames(schema, parsed);
  const owner = typeof parsed.variant === 'string' ? `${type} variant "${parsed.variant}"` : type;
  return Object.keys(raw)
    .filter((k) => !known.includes(k))
    .map((k) => ({
      path: `nodes[${i}].params.${k}`, nodeId,
      message: `"${k}" is not a param of ${owner}, so it has no effect${suggest(k, known)}; params: ${known.join(', ')}`,
    }));
}

/** The param names of an object schema, or of the union member that `value` parses as (variant families). */
function paramNames(schema: z.ZodType, value: unknown): string[] {
  const s = schema as unknown as { shape?: object; options?: z.ZodType[] };
  if (s.shape) return Object.keys(s.shape);
  // A variant family: the option whose `variant` literal matches (a full parse of each option, per node,
  // dominated compiling large documents).
  const variant = (value as { variant?: unknown } | null)?.variant;
  for (const option of s.options ?? []) {
    const tag = (option as unknown as { shape?: Record<string, z.ZodType> }).shape?.variant;
    if (tag && variant !== undefined ? tag.safeParse(variant).success : option.safeParse(value).success) return paramNames(option, value);
  }
  return value && typeof value === 'object' ? Object.keys(value) : [];
}

/** ` (did you mean "x"?)` for up to three close `options`, or nothing. */
export function suggest(word: string, options: string[]): string {
  const close = options.filter((o) => o.includes(word) || word.includes(o) || editDistance(o, word) <= 2);
  return close.length ? ` (did you mean ${close.slice(0, 3).map((c) => `"${c}"`).join(', ')}?)` : '';
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/**
 * The single port-compatibility rule, used by the compiler and by the editor's isValidConnection.
 * Returns null when an edge from `out` to `inp` is allowed, else the reason.
 */
export function checkPortKinds(out: PortSpec, inp: PortSpec, fromShape?: PortShape): string | null {
  const kind = fromShape?.kind ?? out.kind;
  if (kind !== inp.kind) return `a ${kind} output cannot feed a ${inp.kind} input`;
  return null;
}

/**
 * Kahn's algorithm over successor sets, stable in document order (the order the runtime runs nodes
 * in): the ready node with the lowest index goes first, taken from a binary min-heap, so the order
 * costs O((nodes + edges) · log nodes). Nodes that never become ready sit on a cycle (or downstream
 * of one).
 */
export function topologicalOrder(succ: Set<number>[]): { order: number[]; cyclic: number[] } {
  const indeg = succ.map(() => 0);
  succ.forEach((s) => s.forEach((t) => indeg[t]!++));
  const ready = new MinHeap();
  indeg.forEach((d, i) => d === 0 && ready.push(i));
  const order: number[] = [];
  while (ready.size) {
    const i = ready.pop();
    order.push(i);
    for (const t of succ[i]!) if (--indeg[t]! === 0) ready.push(t);
  }
  return { order, cyclic: indeg.flatMap((d, i) => (d > 0 ? [i] : [])) };
}

/** A binary min-heap of integers. */
class MinHeap {
  private readonly a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(x: number): void {
    const a = this.a;
    let i = a.push(x) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= x) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = x;
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= a.length) break;
        if (c + 1 < a.length && a[c + 1]! < a[c]!) c++;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

export function compile(raw: unknown, registry: Registry, opts: CompileOptions = {}): CompileResult {
  const v = validateDocument(raw, registry, opts);
  if (!v.ok && !(opts.partial && v.doc)) return { ok: false, issues: v.issues, ...(opts.partial ? { shapes: dict(), costs: dict() } : {}) };
  const doc = v.doc!;
  const params = v.params!;
  // Partial: issues so far do not stop the compile; the nodes they concern are left out of inference.
  const issues: CompileIssue[] = v.ok ? [] : [...v.issues];
  const warnings: CompileIssue[] = v.ok ? [...v.warnings] : [];
  const shapes = new Map<string, Record<string, PortShape | undefined>>();
  const costs: Record<string, Cost> = dict();
  const failedResult = (): CompileResult => (opts.partial ? { ok: false, issues, shapes: dict(shapes), costs } : { ok: false, issues });
  const index = new Map(doc.nodes.map((n, i) => [n.id, i]));
  const inputsOf = doc.nodes.map(() => dict<{ node: string; port: string }>());
  const connected = doc.nodes.map(() => new Set<string>());
  const succ = doc.nodes.map(() => new Set<number>());
  // Nodes with a broken incoming edge: already reported, so their "input not connected" would be noise.
  const brokenInputs = new Set<number>();

  // Edges: endpoints exist, kinds match, each input fed once.
  // The first edge into and out of each port, for issues that point at an edge (a scan per issue
  // would make a document full of failing nodes cost O(nodes · edges)).
  const edgeTo = new Map<string, number>();
  const edgeFrom = new Map<string, number>();
  doc.edges.forEach((e, ei) => {
    if (!edgeTo.has(e.to)) edgeTo.set(e.to, ei);
    if (!edgeFrom.has(e.from)) edgeFrom.set(e.from, ei);
  });
  doc.edges.forEach((e, ei) => {
    const from = splitPortRef(e.from);
    const to = splitPortRef(e.to);
    const fi = index.get(from.node);
    const ti = index.get(to.node);
    if (fi === undefined) return issues.push({ path: `edges[${ei}].from`, message: `edge from unknown node "${from.node}"` });
    if (ti === undefined) return issues.push({ path: `edges[${ei}].to`, message: `edge to unknown node "${to.node}"` });
    const fdef = registry.get(doc.nodes[fi]!.type);
    const tdef = registry.get(doc.nodes[ti]!.type);
    if (!fdef || !tdef) return undefined; // an unknown type, reported by validation (partial compile)
    // Own ports only: a port named "constructor" is not Object.prototype's.
    const out = own(fdef.outputs, from.port);
    const inp = own(tdef.inputs, to.port);
    const broken = (issue: CompileIssue) => {
      brokenInputs.add(ti);
      return issues.push(issue);
    };
    if (!out)
      return issues.push({ path: `edges[${ei}].from`, nodeId: from.node, port: from.port,
        message: `node "${from.node}" (${fdef.type}) has no output "${from.port}"; outputs: ${Object.keys(fdef.outputs).join(', ')}` });
    if (!inp)
      return broken({ path: `edges[${ei}].to`, nodeId: to.node, port: to.port,
        message: `node "${to.node}" (${tdef.type}) has no input "${to.port}"; inputs: ${Object.keys(tdef.inputs).join(', ')}` });
    const reason = checkPortKinds(out, inp);
    if (reason) return broken({ path: `edges[${ei}]`, nodeId: to.node, port: to.port, message: `${e.from} → ${e.to}: ${reason}` });
    if (inputsOf[ti]![to.port])
      return issues.push({ path: `edges[${ei}].to`, nodeId: to.node, port: to.port, message: `input "${e.to}" is fed by more than one edge` });
    inputsOf[ti]![to.port] = from;
    connected[fi]!.add(from.port);
    succ[fi]!.add(ti);
    return undefined;
  });
  doc.nodes.forEach((n, i) => {
    const def = registry.get(n.type);
    if (!def || brokenInputs.has(i)) return;
    for (const [port, spec] of Object.entries(def.inputs))
      if (!spec.optional && !inputsOf[i]![port])
        issues.push({ path: `nodes[${i}]`, nodeId: n.id, port, message: `required input "${n.id}.${port}" (${spec.kind}) is not connected` });
  });
  const defOf = (id: string) => {
    const i = index.get(id);
    return i === undefined ? undefined : registry.get(doc.nodes[i]!.type);
  };
  // Checks and emitted names need every node's params: only for a document that validated.
  if (v.ok) {
    issues.push(...checkIssues(doc, defOf, (id, port) => connected[index.get(id)!]!.add(port)));
    issues.push(...emitIssues(doc, doc.nodes.map((n) => registry.get(n.type)), params));
  }
  if (issues.length && !opts.partial) return failedResult();

  const { order, cyclic } = topologicalOrder(succ);
  if (cyclic.length) {
    const onCycle = cyclic.map((i) => doc.nodes[i]!.id);
    issues.push({ path: 'edges', nodeId: onCycle[0], message: `the graph has a cycle through ${onCycle.join(' → ')}` });
    if (!opts.partial) return failedResult();
  }

  // Shape inference and cost, in order.
  const steps: PlanStep[] = [];
  const stepOf = new Map<string, number>();
  // Nodes whose inference failed, and everything downstream of them: reported once, at the source.
  const failed = new Set<string>();
  for (const i of order) {
    const n = doc.nodes[i]!;
    const def = registry.get(n.type);
    // Partial compile: a node with an unknown type, invalid params or an unconnected input is not inferred.
    const incomplete = !def || params[i] === undefined || Object.entries(def.inputs).some(([port, spec]) => !spec.optional && !inputsOf[i]![port]);
    if (incomplete || Object.values(inputsOf[i]!).some((src) => failed.has(src.node))) {
      failed.add(n.id);
      continue;
    }
    const inShapes = dict<PortShape | undefined>();
    for (const [port, src] of Object.entries(inputsOf[i]!)) inShapes[port] = shapes.get(src.node)?.[src.port];
    let outShapes: Record<string, PortShape | undefined> = {};
    let cost: Cost = { flops: 0, workspaceBytes: 0 };
    try {
      outShapes = def.infer(inShapes as any, params[i]) as Record<string, PortShape | undefined>;
      if (def.cost) cost = def.cost(inShapes as any, params[i], outShapes as any);
    } catch (err) {
      const port = err instanceof ShapeError ? err.port : undefined;
      const src = port ? inputsOf[i]![port] : undefined;
      const edgeIdx = src ? edgeTo.get(`${n.id}.${port}`) ?? -1 : -1;
      issues.push({
        path: edgeIdx >= 0 ? `edges[${edgeIdx}]` : `nodes[${i}]`,
        nodeId: n.id,
        port,
        nodeType: def.type,
        message: (err as Error).message,
      });
      failed.add(n.id);
      continue;
    }
    // A declared output this configuration does not make (e.g. quantize fp16 has no scales) cannot be wired.
    for (const port of connected[i]!) {
      if (port in outShapes) continue;
      const edgeIdx = edgeFrom.get(`${n.id}.${port}`) ?? -1;
      const variant = variantOf(params[i]) ? `, variant ${variantOf(params[i])}` : '';
      issues.push({
        path: edgeIdx >= 0 ? `edges[${edgeIdx}].from` : `nodes[${i}]`,
        nodeId: n.id,
        port,
        message: `${n.id} (${def.type}${variant}) does not produce "${port}" with these params`,
      });
      failed.add(n.id);
    }
    for (const [port, s] of Object.entries(outShapes)) {
      if (s && def.outputs[port] && s.kind !== def.outputs[port]!.kind)
        issues.push({ path: `nodes[${i}]`, nodeId: n.id, port, message: `internal: ${def.type}.infer gave ${s.kind} for ${def.outputs[port]!.kind} port "${port}"` });
    }
    shapes.set(n.id, outShapes);
    costs[n.id] = cost;
    stepOf.set(n.id, steps.length);
    steps.push({
      id: n.id, index: i, def, params: params[i], inputs: inputsOf[i]!, connectedOutputs: connected[i]!,
      inShapes, outShapes, cost, lastUse: {}, predictedOutputBytes: 0, predictedPeakBytes: 0,
    });
  }
  if (v.ok) issues.push(...metricKeyIssues(doc.checks, (id, port) => own(shapes.get(id), port)));
  if (issues.length) return failedResult();

  // Memory plan: a value lives from the step that makes it to the last step that reads it.
  for (const s of steps) for (const port of Object.keys(s.outShapes)) s.lastUse[port] = stepOf.get(s.id)!;
  steps.forEach((s, si) => {
    for (const src of Object.values(s.inputs)) {
      const producer = steps[stepOf.get(src.node)!]!;
      producer.lastUse[src.port] = Math.max(producer.lastUse[src.port] ?? si, si);
    }
  });
  const bytesOf = (s: PlanStep, port: string) => {
    // An optional output nobody reads (e.g. attention's probe) is never produced.
    if (s.def.outputs[port]?.optional && !s.connectedOutputs.has(port)) return 0;
    const shape = s.outShapes[port];
    return shape ? predictedBytes(shape) ?? 0 : 0;
  };
  // Bytes live while step si runs: outputs of earlier steps read at si or later. Each value adds its
  // bytes from the step after its producer and takes them off after its last reader (a difference
  // array), so the plan costs O(steps + ports), not O(steps²).
  const delta = new Float64Array(steps.length + 1);
  steps.forEach((s, si) => {
    for (const port of Object.keys(s.outShapes)) {
      const last = s.lastUse[port]!;
      if (last <= si) continue;
      const b = bytesOf(s, port);
      delta[si + 1]! += b;
      delta[last + 1]! -= b;
    }
  });
  let peak = 0;
  let peakStep: string | undefined;
  let live = 0;
  steps.forEach((s, si) => {
    s.predictedOutputBytes = Object.keys(s.outShapes).reduce((n, p) => n + bytesOf(s, p), 0);
    live += delta[si]!;
    s.predictedPeakBytes = live + s.cost.workspaceBytes + s.predictedOutputBytes;
    if (s.predictedPeakBytes > peak) {
      peak = s.predictedPeakBytes;
      peakStep = s.id;
    }
  });
  for (const s of steps)
    for (const [port, shape] of Object.entries(s.outShapes))
      if (shape && (shape.kind === 'tensor' || shape.kind === 'kv') && shape.shape?.some((d) => d === null))
        warnings.push({ path: `nodes[${s.index}]`, nodeId: s.id, port, message: `${s.id}.${port}: shape ${formatShape(shape.shape)} is known only at run time; the memory guard checks it then, before the nodes that read it run` });

  return { ok: true, plan: { doc, steps, predictedPeakBytes: peak, peakStep, baseDir: opts.baseDir ?? '.' }, warnings };
}

/** Pre-flight guard: the first step whose predicted peak exceeds the budget, as an issue. */
export function checkMemoryBudget(plan: Plan, budgetBytes: number): CompileIssue | null {
  const s = plan.steps.find((st) => st.predictedPeakBytes > budgetBytes);
  if (!s) return null;
  const what = s.cost.note ? ` (${s.cost.note})` : '';
  return {
    path: `nodes[${s.index}]`,
    nodeId: s.id,
    message: `refused before running: node "${s.id}" (${s.def.type}) needs a predicted ${formatBytes(s.predictedPeakBytes)} at peak${what}, over the memory budget of ${formatBytes(budgetBytes)}`,
  };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** An issue on one line: `path [nodeId]: message`, the node and its type before a message about the node itself. */
export function formatIssue(i: CompileIssue): string {
  return `${i.path}${i.nodeId ? ` [${i.nodeId}]` : ''}: ${issueMessage(i)}`;
}

/** The message, after `<nodeId> (<nodeType>): ` where it is about the node itself; for views not already on the node. */
export function issueMessage(i: CompileIssue): string {
  return i.nodeType && i.nodeId !== undefined ? `${i.nodeId} (${i.nodeType}): ${i.message}` : i.message;
}
