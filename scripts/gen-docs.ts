// Writes docs/nodes.md, the node reference, from the node declarations (`npm run docs`). A test
// (scripts/gen-docs.test.ts) fails when the file is stale.
import { writeFileSync } from 'node:fs';
import { catalog, paramRows, type JsonSchema, type NodeInfo, type PortInfo } from '../src/engine/catalog.js';
import type { Reference } from '../src/engine/node.js';
import type { Registry } from '../src/engine/registry.js';
import { registry } from '../src/nodes/index.js';
import { typeText } from '../src/engine/schema/param-text.js';

export const DOCS_PATH = new URL('../docs/nodes.md', import.meta.url);

/** Prose from a declaration as Markdown text: `<out>` is not an HTML tag, `a*b*c` is not emphasis. */
const md = (s: string) => s.replace(/[<*\\]/g, (c) => (c === '<' ? '&lt;' : `\\${c}`));

/** Text for a Markdown table cell: no line breaks, pipes escaped. */
const cell = (s: string) => s.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');

/** Inline code that survives backticks inside. */
const code = (s: string) => (s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``);

function portsTable(title: string, ports: Record<string, PortInfo>): string[] {
  const rows = Object.entries(ports);
  if (!rows.length) return [`${title}: none.`, ''];
  return [
    `| ${title.toLowerCase().replace(/s$/, '')} | kind | dims | description |`,
    '|---|---|---|---|',
    ...rows.map(([name, p]) => `| \`${name}\`${p.optional ? ' (optional)' : ''} | ${p.kind} | ${p.dims ? p.dims.join(' × ') : ''} | ${cell(md(p.doc ?? ''))} |`),
    '',
  ];
}

function paramsTable(schema: JsonSchema): string[] {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const rows = paramRows(schema).filter((r) => r.name !== 'variant');
  if (!rows.length) return ['Params: none.', ''];
  return [
    '| param | type | default | description |',
    '|---|---|---|---|',
    ...rows.map((r) => {
      const def = r.default !== undefined ? code(JSON.stringify(r.default)) : r.required ? '*required*' : '—';
      return `| \`${r.name}\` | ${cell(typeText(props[r.name] ?? {}))} | ${cell(def)} | ${cell(md(r.description ?? ''))} |`;
    }),
    '',
  ];
}

function references(refs: Reference[] | undefined): string[] {
  if (!refs?.length) return [];
  return ['References:', ...refs.map((r) => `- ${r.url ? `[${md(r.title)}](${r.url})` : `*${md(r.title)}*`} (${r.year})`), ''];
}

function formula(f: string | undefined): string[] {
  if (!f) return [];
  return f.includes('\n') ? ['Formula:', '', '```', f, '```', ''] : [`Formula: ${code(f)}`, ''];
}

function nodeSection(n: NodeInfo): string[] {
  const out = [`<a id="${n.type}"></a>`, '', `### \`${n.type}\` — ${md(n.title)}`, '', md(n.summary), '', ...formula(n.formula)];
  out.push(...portsTable('Inputs', n.inputs), ...portsTable('Outputs', n.outputs));
  if (!n.variants) out.push(...paramsTable(n.params));
  out.push(...references(n.references));
  if (n.variants) {
    const names = Object.keys(n.variants);
    out.push(`Variants (param \`variant\`): ${names.map((v) => `[\`${v}\`](#${n.type}.${v})`).join(', ')}.`, '');
    for (const [name, v] of Object.entries(n.variants)) {
      out.push(`<a id="${n.type}.${name}"></a>`, '', `#### \`${name}\` — ${md(v.title)}`, '', md(v.summary), '', ...formula(v.formula));
      out.push(...paramsTable(v.params), ...references(v.references));
    }
  }
  return out;
}

export function docsText(reg: Registry = registry): string {
  const infos = catalog(reg);
  const families = [...new Set(infos.map((n) => n.family))];
  const variants = infos.reduce((s, n) => s + Object.keys(n.variants ?? {}).length, 0);
  const out: string[] = [
    '# Node reference',
    '',
    '<!-- Generated from the node declarations by `npm run docs` (scripts/gen-docs.ts). Do not edit by hand: a test fails when this file is stale. -->',
    '',
    `${infos.length} node types in ${families.length} families, ${variants} variants. A node in a pipeline file is`,
    '`{ "id", "type", "params" }`; params left out take the defaults below. Types with variants pick one',
    'with `params.variant`, and each variant has its own params. Ports connect by kind (tensor, tokens,',
    'text, kv, bias, metrics); dims name the expected axes. A tensor may carry one more leading dimension',
    'of 1 (a batch of one, e.g. [1, H, T, D]); outputs whose leading axis follows such an input keep it.',
    '`ctxlab nodes [type]` prints the same catalog.',
    '',
    '## Contents',
    '',
    ...families.map((f) => `- **${f}**: ${infos.filter((n) => n.family === f).map((n) => `[\`${n.type}\`](#${n.type})`).join(', ')}`),
    '',
  ];
  for (const f of families) {
    out.push(`## ${f}`, '');
    for (const n of infos.filter((i) => i.family === f)) out.push(...nodeSection(n));
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  writeFileSync(DOCS_PATH, docsText());
  console.log(`wrote ${DOCS_PATH.pathname}`);
}
