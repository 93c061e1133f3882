// `npm run gallery:train`: runs every training claim in pipelines/train/ through the CLI at full length
// and writes docs/training.md — for each pipeline its claim, its checks, and held-out perplexity
// against evaluation length per model (table and SVG chart), with the command, machine and seeds.
// Minutes per pipeline on 2 cores; the test suite runs the same files with a few steps only.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

// `npm run gallery:train -- [name …] [--seeds 0,1,2]`: the pipelines whose file names contain a name
// (all by default), each run once per seed (every train.lm's seed overridden; default: the file's own).
const args = process.argv.slice(2);
const seedsAt = args.indexOf('--seeds');
const seeds = seedsAt >= 0 ? args[seedsAt + 1]!.split(',').map(Number) : [undefined];
if (seeds.some((s) => s !== undefined && !Number.isInteger(s))) throw new Error('--seeds takes integers, e.g. --seeds 0,1,2');
const only = args.filter((_, i) => i !== seedsAt && i !== seedsAt + 1);
const files = readdirSync('pipelines/train').filter((f) => f.endsWith('.json') && (only.length === 0 || only.some((o) => f.includes(o)))).sort();
mkdirSync('docs/training', { recursive: true });

interface Report {
  checks: { ok: boolean; text: string }[];
  metrics: Record<string, Record<string, unknown>>;
  nodes: { nodeId: string; ms: number }[];
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

/** A log-x line chart of perplexity against length, one line per model. */
function chart(series: { name: string; points: [number, number][] }[]): string {
  const W = 520, H = 300, left = 56, right = 130, top = 16, bottom = 40;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const [x0, x1] = [Math.log2(Math.min(...xs)), Math.log2(Math.max(...xs))];
  const [y0, y1] = [Math.log(Math.min(...ys)), Math.log(Math.max(...ys) * 1.05)];
  const px = (x: number) => left + ((Math.log2(x) - x0) / Math.max(x1 - x0, 1e-9)) * (W - left - right);
  const py = (y: number) => top + (1 - (Math.log(y) - y0) / Math.max(y1 - y0, 1e-9)) * (H - top - bottom);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  for (const x of [...new Set(xs)]) out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${top}" y2="${H - bottom}" stroke="#e5e7eb"/><text x="${px(x)}" y="${H - bottom + 14}" text-anchor="middle">${x}</text>`);
  for (let k = 0; k <= 4; k++) {
    const y = Math.exp(y0 + ((y1 - y0) * k) / 4);
    out.push(`<line x1="${left}" x2="${W - right}" y1="${py(y)}" y2="${py(y)}" stroke="#e5e7eb"/><text x="${left - 6}" y="${py(y) + 4}" text-anchor="end">${y.toPrecision(3)}</text>`);
  }
  out.push(`<text x="${(left + W - right) / 2}" y="${H - 8}" text-anchor="middle">evaluation length (tokens, log scale)</text>`);
  out.push(`<text x="14" y="${(top + H - bottom) / 2}" transform="rotate(-90 14 ${(top + H - bottom) / 2})" text-anchor="middle">held-out perplexity (log)</text>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${s.points.map(([x, y]) => `${px(x)},${py(y)}`).join(' ')}"/>`);
    for (const [x, y] of s.points) out.push(`<circle cx="${px(x)}" cy="${py(y)}" r="3" fill="${c}"/>`);
    out.push(`<text x="${W - right + 8}" y="${top + 14 + 16 * i}" fill="${c}">${s.name}</text>`);
  });
  return out.join('\n') + '\n</svg>\n';
}

interface EvalParams {
  ropeScaling?: { rope_type?: string; factor?: number } | null;
  attention?: { variant: string; window?: number };
  kvCache?: { policy: string; sinkTokens?: number; recentTokens?: number };
  prefillTokens?: number;
}

/** How an evaluation node differs from plain full attention: its rope_scaling, KV cache and attention params. */
function technique(p: EvalParams): string {
  const parts: string[] = [];
  if (p.ropeScaling) parts.push(`rope ${p.ropeScaling.rope_type} ×${p.ropeScaling.factor}`);
  else if (p.ropeScaling === null) parts.push('plain rope');
  if (p.attention && p.attention.variant !== 'naive') parts.push(`${p.attention.variant}${p.attention.window ? ` ${p.attention.window}` : ''}`);
  const c = p.kvCache;
  if (c && c.policy !== 'full') parts.push(`${c.policy} cache${c.policy === 'streaming' ? ` (${c.sinkTokens} sinks + ${c.recentTokens} recent)` : ''}`);
  if (p.prefillTokens !== undefined) parts.push(`prefill ${p.prefillTokens}, then 1 token/step`);
  return parts.join(', ') || 'full attention';
}

/** Tables of the eval.perplexity and eval.passkey nodes' results. */
function evalTables(nodes: { id: string; type: string; params: EvalParams }[], metrics: Report['metrics']): string {
  const out: string[] = [];
  const ppl = nodes.filter((n) => n.type === 'eval.perplexity' && metrics[n.id]);
  if (ppl.length) {
    const lengths = [...new Set(ppl.flatMap((n) => metrics[n.id]!.lengths as number[]))].sort((a, b) => a - b);
    out.push(`| eval | technique | ${lengths.map((l) => `ppl @ ${l}`).join(' | ')} |`, `| --- | --- | ${lengths.map(() => '---:').join(' | ')} |`);
    for (const n of ppl) {
      const m = metrics[n.id] as { lengths: number[]; perplexity: number[] };
      out.push(`| ${n.id} | ${technique(n.params)} | ${lengths.map((l) => m.perplexity[m.lengths.indexOf(l)]?.toFixed(2) ?? '—').join(' | ')} |`);
    }
    out.push('');
  }
  for (const n of nodes.filter((n) => n.type === 'eval.passkey' && metrics[n.id])) {
    const m = metrics[n.id] as { lengths: number[]; depths: number[]; accuracy: number[][]; promptTokens: number[][]; trials: number };
    out.push(`Passkey accuracy, \`${n.id}\` (${technique(n.params)}), ${m.trials} keys per cell:`, '');
    out.push(`| length (prompt tokens) | ${m.depths.map((d) => `depth ${d}`).join(' | ')} |`, `| --- | ${m.depths.map(() => '---:').join(' | ')} |`);
    m.lengths.forEach((L, i) => out.push(`| ${L} (${m.promptTokens[i]![0]}) | ${m.accuracy[i]!.map((a) => a.toFixed(2)).join(' | ')} |`));
    out.push('');
  }
  return out.length ? out.join('\n') + '\n' : '';
}

const sections = new Map<string, string>();
for (const file of files) {
  const path = join('pipelines/train', file);
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  const trains: { id: string; params: { contextLength: number; seed?: number } }[] = doc.nodes.filter((n: { type: string }) => n.type === 'train.lm');
  const started = Date.now();
  const runs = seeds.map((seed) => {
    const sets = seed === undefined ? [] : trains.flatMap((n) => ['--set', `${n.id}.seed=${seed}`]);
    let stdout: string;
    try {
      stdout = execFileSync('node', ['bin/ctxlab.mjs', 'run', path, '--backend', 'wasm', '--json', '--out', join('docs/training', file.replace('.json', '')), ...sets], { encoding: 'utf8', maxBuffer: 1 << 28 });
    } catch (e) {
      stdout = (e as { stdout?: string }).stdout ?? '';
    }
    return { seed: seed ?? trains[0]?.params.seed ?? 0, report: JSON.parse(stdout) as Report };
  });
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  // Held-out perplexity by length per model and seed; the chart draws the mean over seeds.
  const curve = (m: Record<string, unknown>, L: number) => {
    const points: [number, number][] = [[L, Math.exp(m.heldOutLoss as number)]];
    for (const [len, loss] of Object.entries((m.heldOutLossByLength ?? {}) as Record<string, number | string>)) if (typeof loss === 'number') points.push([Number(len), Math.exp(loss)]);
    return points.sort((a, b) => a[0] - b[0]);
  };
  const series = trains.map((n) => {
    const perSeed = runs.map((r) => curve(r.report.metrics[n.id] ?? {}, n.params.contextLength));
    const points = perSeed[0]!.map(([x], i) => [x, perSeed.reduce((s, c) => s + (c[i]?.[1] ?? NaN), 0) / perSeed.length] as [number, number]);
    return { name: n.id, points, perSeed };
  });
  const svg = file.replace('.json', '.svg');
  if (series.length) writeFileSync(join('docs/training', svg), chart(series));
  const lengths: number[] = [...new Set<number>(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const many = runs.length > 1;
  const table = [
    `| model${many ? ' | seed' : ''} | ${lengths.map((l) => `ppl @ ${l}`).join(' | ')} | final train loss | tokens/s |`,
    `| ---${many ? ' | ---:' : ''} | ${lengths.map(() => '---:').join(' | ')} | ---: | ---: |`,
    ...series.flatMap((s) =>
      runs.map((r, k) => {
        const m = r.report.metrics[s.name] ?? {};
        return `| ${s.name}${many ? ` | ${r.seed}` : ''} | ${lengths.map((l) => s.perSeed[k]!.find((p) => p[0] === l)?.[1].toFixed(2) ?? '—').join(' | ')} | ${(m.finalLoss as number)?.toFixed(3)} | ${(m.tokensPerSecond as number)?.toFixed(0)} |`;
      }),
    ),
  ];
  const checks = runs
    .map((r) => `${many ? `Checks, seed ${r.seed} (${r.report.checks.filter((c) => c.ok).length}/${r.report.checks.length} hold):` : 'Checks:'}\n\n${r.report.checks.map((c) => `- ${c.ok ? '✓' : '✗'} ${c.text}`).join('\n')}\n`)
    .join('\n');
  sections.set(
    doc.name,
    `## ${doc.name}\n\n${doc.description}\n\n` +
      `\`pipelines/train/${file}\` · ${minutes} min · seed${many ? 's' : ''} ${runs.map((r) => r.seed).join(', ')}${many ? ' (chart: mean over seeds)' : ''}\n\n` +
      (series.length ? `![held-out perplexity against length](training/${svg})\n\n${table.join('\n')}\n\n` : '') +
      evalTables(doc.nodes, runs[0]!.report.metrics) +
      checks,
  );
  for (const r of runs) console.log(`${file} seed ${r.seed}: ${r.report.checks.filter((c) => c.ok).length}/${r.report.checks.length} checks hold (${minutes} min in all)`);
}

const header = `# Train short, test long: measured

Generated by \`npm run gallery:train\` (${new Date().toISOString().slice(0, 10)}) on ${cpus()[0]?.model ?? 'unknown CPU'} ×
${cpus().length}, backend wasm, Node ${process.version}. Every model is a Llama-family byte-level model trained by the
\`train.lm\` node on the first characters of Moby-Dick (shipped with the lab), with the last 10% held out; held-out
perplexity is measured on that unseen end of the text. A ✗ below is a claim that did not hold at this scale.
`;
// Sections of pipelines not run this time are kept as they were.
let previous: string[] = [];
try {
  previous = readFileSync('docs/training.md', 'utf8').split(/\n(?=## )/).slice(1);
} catch {}
const merged = previous.map((sec) => {
  const title = sec.slice(3, sec.indexOf('\n'));
  const fresh = sections.get(title);
  sections.delete(title);
  return fresh ?? sec.trimEnd() + '\n';
});
writeFileSync('docs/training.md', `${header}\n${[...merged, ...sections.values()].join('\n')}`);
