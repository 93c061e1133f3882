// Every example pipeline runs through the CLI, as a user would run it, and its checks hold.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ctxlab } from './cli/testing.js';

const files = readdirSync('pipelines').filter((f) => f.endsWith('.json')).sort();

describe('pipelines/ through `ctxlab run`', () => {
  it('has example pipelines', () => expect(files.length).toBeGreaterThan(0));
  for (const file of files) {
    it(`${file} runs, and its checks hold`, async () => {
      const doc = JSON.parse(readFileSync(`pipelines/${file}`, 'utf8'));
      const r = await ctxlab(['run', `pipelines/${file}`, '--backend', 'wasm', '--json']);
      expect(r.stderr, r.stderr).toBe('');
      const report = JSON.parse(r.stdout);
      const failed = report.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { text: string }) => c.text);
      expect(failed, `failed checks of ${file}`).toEqual([]);
      expect(report.errors).toEqual([]);
      expect(r.code).toBe(0);
      expect(report.checks.length, `${file} states its claim as checks`).toBeGreaterThan(0);
      expect(typeof doc.description, `${file} has a description`).toBe('string');
    }, 300_000);
  }
});
