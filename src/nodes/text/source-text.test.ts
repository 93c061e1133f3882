import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TextValue } from '../../engine/values.js';
import { runNode } from '../testing.js';
import { sourceText } from './source-text.js';

const dir = mkdtempSync(join(tmpdir(), 'ctxlab-text-'));

describe('source.text', () => {
  it('passes inline text through', async () => {
    const out = await runNode(sourceText, {}, { text: 'Call me Ishmael. 😀' });
    expect((out.text as TextValue).text).toBe('Call me Ishmael. 😀');
  });

  it('reads a UTF-8 file (a BOM is dropped)', async () => {
    const path = join(dir, 'a.txt');
    writeFileSync(path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('héllo\n漢字', 'utf8')]));
    const out = await runNode(sourceText, {}, { path });
    expect((out.text as TextValue).text).toBe('héllo\n漢字');
  });

  it('needs exactly one of text, path and corpus', () => {
    expect(() => sourceText.params.parse({})).toThrow(/exactly one of `text`, `path` or `corpus`/);
    expect(() => sourceText.params.parse({ text: 'a', path: 'b.txt' })).toThrow(/exactly one/);
    expect(() => sourceText.params.parse({ text: 'a', corpus: 'moby-dick' })).toThrow(/exactly one/);
    expect(sourceText.params.parse({ text: '' })).toEqual({ text: '' });
  });

  it('names the path when the file is missing or not UTF-8', async () => {
    await expect(runNode(sourceText, {}, { path: join(dir, 'missing.txt') })).rejects.toThrow(/cannot read path ".*missing\.txt"/);
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, Buffer.from([0x68, 0xff, 0xfe, 0x69]));
    await expect(runNode(sourceText, {}, { path: bad })).rejects.toThrow(/"[^"]*bad\.txt" is not valid UTF-8/);
  });
});

describe('source.text corpus', () => {
  it('reads the shipped Moby-Dick and keeps the first maxChars characters', async () => {
    const { runNode } = await import('../testing.js');
    const out = await runNode(sourceText, {}, { corpus: 'moby-dick', maxChars: 64 });
    const t = (out.text as { text: string }).text;
    expect(t).toHaveLength(64);
    expect(t).toMatch(/ETYMOLOGY/i);
  });
});

describe('source.text startChar', () => {
  it('skips the first startChar characters, then keeps maxChars', async () => {
    const { runNode } = await import('../testing.js');
    const whole = ((await runNode(sourceText, {}, { corpus: 'moby-dick', maxChars: 200 })).text as { text: string }).text;
    const tail = ((await runNode(sourceText, {}, { corpus: 'moby-dick', startChar: 150, maxChars: 30 })).text as { text: string }).text;
    expect(tail).toBe(whole.slice(150, 180));
  });
});
