// The CLI on hostile pipelines: text from the pipeline is printed escaped (no forged lines, no
// terminal control sequences), and deep nesting is refused at load with its JSON path instead of
// hanging the process.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { terminalText } from './format.js';
import { ctxlabWithin } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'ctxlab-hostile-'));
const write = (name: string, doc: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return path;
};
/** Raw characters a terminal would act on or hide; the CLI must never print them from a pipeline. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const FORGE = '\n  ✓ everything is fine\u001b[2J\u001b]0;owned\u0007\r\u202e';

function hostile() {
  return {
    format: 'context-lab/pipeline',
    version: 1,
    name: `name${FORGE}`,
    nodes: [
      { id: 'qkv', type: 'source.synthetic-qkv', params: { heads: 1, seqLen: 8, headDim: 4, [`key${FORGE}`]: 1 }, label: `label${FORGE}` },
      { id: 'attn', type: 'attention', params: { variant: 'naive' } },
    ],
    edges: ['q', 'k', 'v'].map((p) => ({ from: `qkv.${p}`, to: `attn.${p}` })),
    checks: [
      { node: 'qkv', profile: 'wallMs', ge: 0, why: `why${FORGE}` },
      { node: 'attn', profile: 'wallMs', lt: 0, why: `fails${FORGE}` },
    ],
  };
}

describe('terminalText', () => {
  it('shows control characters, ESC, newlines and bidi controls as escapes', () => {
    expect(terminalText('a\nb\r\t\u001b[2J\u0007\u007f\u0085\u2028\u202e é ✓')).toBe('a\\nb\\r\\t\\x1b[2J\\x07\\x7f\\x85\\u2028\\u202e é ✓');
    expect(terminalText(terminalText('x\u001by'))).toBe('x\\x1by');
  });
});

describe('ctxlab prints pipeline text escaped', () => {
  it('run: the name and each check stay on one line, with no control characters', async () => {
    const r = await ctxlabWithin(['run', write('hostile.json', hostile()), '--backend', 'cpu', '--no-progress'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(1); // the second check fails
    expect(r.stdout + r.stderr).not.toMatch(RAW);
    expect(r.stdout).toContain('pipeline: name\\n  ✓ everything is fine\\x1b[2J\\x1b]0;owned\\x07\\r\\u202e · 2 nodes');
    // Exactly the two real checks: one ✓, one ✗, each on its own line.
    expect(r.stdout.split('\n').filter((l) => /^\s*[✓✗]/.test(l))).toHaveLength(2);
    expect(r.stdout).toMatch(/^ {2}✓ qkv\.wallMs = .* — why\\n {2}✓ everything is fine\\x1b\[2J/m);
    expect(r.stdout).toMatch(/^ {2}✗ attn\.wallMs = .* — fails\\n/m);
  }, 90_000);

  it('validate and invalid pipelines: warnings and errors quoting the pipeline are escaped', async () => {
    const v = await ctxlabWithin(['validate', write('hostile.json', hostile())], { timeoutMs: 60_000 });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout + v.stderr).not.toMatch(RAW);
    expect(v.stdout).toContain('warning: nodes[0].params.key\\n  ✓ everything is fine');

    const bad = { ...hostile(), nodes: [{ id: 'x', type: `type${FORGE}` }], edges: [], checks: [] };
    const r = await ctxlabWithin(['run', write('bad.json', bad), '--backend', 'cpu'], { timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).not.toMatch(RAW);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('nodes[0].type [x]: unknown node type "type\\n  ✓ everything is fine');

    const notJson = await ctxlabWithin(['validate', write('broken.json', `{"name": "\u001b[2J${FORGE}`)], { timeoutMs: 60_000 });
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).not.toMatch(RAW);
    expect(notJson.stderr.trim().split('\n')).toHaveLength(1);
  }, 90_000);
});

describe('deep nesting', () => {
  const deep = (levels: number) => `{"a":`.repeat(levels) + '1' + '}'.repeat(levels);
  const doc = (levels: number) =>
    `{"format":"context-lab/pipeline","version":1,"nodes":[{"id":"qkv","type":"source.synthetic-qkv","params":{"heads":1,"seqLen":8,"headDim":4,"deep":${deep(levels)}}}]}`;

  it('10^4 levels: run, validate, export and stdin exit 2 naming the JSON path, and the process ends', async () => {
    const file = write('deep.json', doc(10_000));
    const runs = await Promise.all([
      ctxlabWithin(['run', file, '--backend', 'cpu'], { timeoutMs: 30_000 }),
      ctxlabWithin(['validate', file], { timeoutMs: 30_000 }),
      ctxlabWithin(['export', file, '--ts', join(dir, 'deep.ts')], { timeoutMs: 30_000 }),
      ctxlabWithin(['run', '-', '--backend', 'cpu'], { input: doc(10_000), timeoutMs: 30_000 }),
      ctxlabWithin(['run', '-', '--backend', 'cpu', '--json'], { input: `[${'['.repeat(100_000)}${']'.repeat(100_000)}]`, timeoutMs: 30_000 }),
    ]);
    for (const r of runs.slice(0, 4)) {
      expect(r.timedOut).toBe(false);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^ctxlab: nodes\[0\]\.params\.deep(\.a){60}: .*nested deeper than 64 levels/);
    }
    const json = JSON.parse(runs[4]!.stdout);
    expect(runs[4]!.code).toBe(2);
    expect(json.issues[0].path).toMatch(/^(\[0\]){64}$/);
  }, 60_000);

  it('64 levels are still accepted', async () => {
    // The document, nodes, the node and params take 4 levels; "deep" adds 60 objects.
    const r = await ctxlabWithin(['validate', write('ok.json', doc(60))], { timeoutMs: 30_000 });
    expect(r.stderr).not.toMatch(/nested deeper/);
    expect(r.code, r.stderr).toBe(0);
    const over = await ctxlabWithin(['validate', write('over.json', doc(61))], { timeoutMs: 30_000 });
    expect(over.code).toBe(2);
    expect(over.stderr).toMatch(/nested deeper than 64 levels/);
  }, 60_000);

  it('an error after the engine started (the output folder cannot be made) still ends the process', async () => {
    const file = write('not-a-folder', 'x');
    const r = await ctxlabWithin(['run', write('ok2.json', hostile()), '--backend', 'cpu', '--out', join(file, 'out')], { timeoutMs: 60_000 });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ctxlab: ENOTDIR.*not-a-folder/);
  }, 90_000);
});
