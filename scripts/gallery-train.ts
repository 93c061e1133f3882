// `npm run gallery:train`: runs every training claim in pipelines/train/ through the CLI at full length
// and writes docs/training.md — for each pipeline its claim, its checks, and held-out perplexity
// against evaluation length per model (table and SVG chart), with the command, machine and seeds.
// Minutes per pipeline on 2 cores; the test suite runs the same files with a few steps only.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

const only = process.argv.slice(2);
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

const sections: string[] = [];
for (const file of files) {
  const path = join('pipelines/train', file);
  const doc = JSON.parse(readFileSync(path, 'utf8'));
  const started = Date.now();
  let stdout: string;
  try {
    stdout = execFileSync('node', ['bin/ctxlab.mjs', 'run', path, '--backend', 'wasm', '--json', '--out', join('docs/training', file.replace('.json', ''))], { encoding: 'utf8', maxBuffer: 1 << 28 });
  } catch (e) {
    stdout = (e as { stdout?: string }).stdout ?? '';
  }
  const report = JSON.parse(stdout) as Report;
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  const trains = doc.nodes.filter((n: { type: string }) => n.type === 'train.lm');
  const series = trains.map((n: { id: string; params: { contextLength: number } }) => {
    const m = report.metrics[n.id] ?? {};
    const byLength = (m.heldOutLossByLength ?? {}) as Record<string, number | string>;
    const points: [number, number][] = [[n.params.contextLength, Math.exp(m.heldOutLoss as number)]];
    for (const [len, loss] of Object.entries(byLength)) if (typeof loss === 'number') points.push([Number(len), Math.exp(loss)]);
    return { name: n.id, points: points.sort((a, b) => a[0] - b[0]) };
  });
  const svg = file.replace('.json', '.svg');
  if (series.length) writeFileSync(join('docs/training', svg), chart(series));
  const lengths: number[] = [...new Set<number>(series.flatMap((s: { points: [number, number][] }) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const table = [
    `| model | ${lengths.map((l) => `ppl @ ${l}`).join(' | ')} | final train loss | tokens/s |`,
    `| --- | ${lengths.map(() => '---:').join(' | ')} | ---: | ---: |`,
    ...series.map((s: { name: string; points: [number, number][] }) => {
      const m = report.metrics[s.name] ?? {};
      return `| ${s.name} | ${lengths.map((l) => s.points.find((p) => p[0] === l)?.[1].toFixed(2) ?? '—').join(' | ')} | ${(m.finalLoss as number)?.toFixed(3)} | ${(m.tokensPerSecond as number)?.toFixed(0)} |`;
    }),
  ];
  sections.push(
    `## ${doc.name}\n\n${doc.description}\n\n` +
      `\`pipelines/train/${file}\` · ${minutes} min · seeds ${[...new Set(trains.map((n: { params: { seed?: number } }) => n.params.seed ?? 0))].join(', ')}\n\n` +
      (series.length ? `![held-out perplexity against length](training/${svg})\n\n${table.join('\n')}\n\n` : '') +
      evalTables(doc.nodes, report.metrics) +
      `Checks:\n\n${report.checks.map((c) => `- ${c.ok ? '✓' : '✗'} ${c.text}`).join('\n')}\n`,
  );
  console.log(`${file}: ${report.checks.filter((c) => c.ok).length}/${report.checks.length} checks hold (${minutes} min)`);
}

const header = `# Train short, test long: measured

Generated by \`npm run gallery:train\` (${new Date().toISOString().slice(0, 10)}) on ${cpus()[0]?.model ?? 'unknown CPU'} ×
${cpus().length}, backend wasm, Node ${process.version}. Every model is a Llama-family byte-level model trained by the
\`train.lm\` node on the first characters of Moby-Dick (shipped with the lab), with the last 10% held out; held-out
perplexity is measured on that unseen end of the text. A ✗ below is a claim that did not hold at this scale.
`;
writeFileSync('docs/training.md', `${header}\n${sections.join('\n')}`);
