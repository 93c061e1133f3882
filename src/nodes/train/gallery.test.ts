// The training claims in pipelines/train/ take minutes at full length (`npm run gallery:train` runs them
// and writes docs/training.md). Here each runs through the CLI with a few steps on a short text: the
// mechanism works end to end (train, fine-tune, evaluate at every length, evaluate every check).
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ctxlab } from '../../cli/testing.js';

const files = readdirSync('pipelines/train').filter((f) => f.endsWith('.json')).sort();

describe('pipelines/train/ with a few steps', () => {
  it('has training claims', () => expect(files.length).toBeGreaterThanOrEqual(2));
  for (const file of files) {
    it(`${file} trains, evaluates and checks its claim`, async () => {
      const doc = JSON.parse(readFileSync(`pipelines/train/${file}`, 'utf8'));
      const trains: { id: string; params: { evalLengths?: number[]; contextLength?: number } }[] = doc.nodes.filter((n: { type: string }) => n.type === 'train.lm');
      expect(trains.length).toBeGreaterThan(0);
      const sets = trains.flatMap((n) => ['--set', `${n.id}.steps=3`, '--set', `${n.id}.evalWindows=1`, '--set', `${n.id}.warmupSteps=1`]);
      const r = await ctxlab(['run', `pipelines/train/${file}`, '--backend', 'wasm', '--json', ...sets]);
      expect(r.stderr, r.stderr).toBe('');
      const report = JSON.parse(r.stdout);
      expect(report.errors).toEqual([]);
      for (const n of trains) {
        const m = report.metrics[n.id];
        expect(m.loss, `${n.id}: a loss per step`).toHaveLength(3);
        expect(Number.isFinite(m.heldOutLoss), `${n.id}: held-out loss`).toBe(true);
        for (const len of n.params.evalLengths ?? []) expect(typeof m.heldOutLossByLength[len], `${n.id} at ${len}`).toBe('number');
      }
      // Three steps do not make the claim true; every check is still evaluated against real metrics.
      expect(report.checks.length).toBe(doc.checks.length);
      expect(report.checks.every((c: { text: string }) => !/has no|not a number/.test(c.text))).toBe(true);
    }, 300_000);
  }
});
