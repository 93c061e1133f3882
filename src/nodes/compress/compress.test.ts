// The compressors with the default scoring LM (the Kneser–Ney trigram trained on Moby-Dick, built once
// for this file, plus the cache of the prompt).
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../engine/tensor.js';
import type { MetricsValue, TokensValue } from '../../engine/values.js';
import { tokenize } from '../text/tokenizer.js';
import { runNode } from '../testing.js';
import { compress } from './index.js';
import { tokenUnits } from './units.js';

const ARTICLE = `The city council of Tampere approved a budget of 4.2 million euros for a new hospital wing on Monday.
Construction begins in March and should end in late 2027, according to the architect, Liisa Korhonen.
The wing will hold forty-two operating theatres, a pharmacy, and a rooftop garden with solar panels that
supply a third of its electricity. Patients from the old clinic will move in stages, starting with the
children's ward, and the council expects waiting times for surgery to fall by half within two years.
Critics argued that the money should have gone to nursing staff instead, since the region has lost
three hundred nurses to Norway and Sweden since 2020. The mayor replied that salaries are set nationally
and that the new wing will make the hospital a more attractive place to work.`;

// Filler and repetition marked, so the test can count what was dropped.
const PARAGRAPH: [string, 'content' | 'filler'][] = [
  ['The committee approved a budget of 4.2 million dollars for the new hospital wing in Tampere', 'content'],
  [', you know, as I said before, of course,', 'filler'],
  [' and construction begins in March 2026.', 'content'],
  [' Well, well, so to speak, and so on and so forth, as it were,', 'filler'],
  [' The architect, Liisa Korhonen, designed forty-two operating theatres with solar roofs.', 'content'],
  [' The committee approved a budget of 4.2 million dollars for the new hospital wing in Tampere.', 'filler'], // a repetition
  [' I mean, you know, it is what it is, of course, and so on.', 'filler'],
  [' Patients will be transferred from the old clinic by electric ambulance in June.', 'content'],
];

const PROMPT = [
  'Answer the arithmetic question. Think step by step and give the final number.',
  'Q: A ship carried 30 sailors and took on 4 more at the Azores. How many sailors were aboard? A: 30 + 4 = 34. The answer is 34.',
  'Q: A cooper made 3 barrels on Monday and 5 on Tuesday. How many barrels did he make? A: 3 + 5 = 8. The answer is 8.',
  'Q: Well, you know, the whale, the whale swam 10 miles and then, you know, as I said, 5 miles more. How far did it swim? A: 10 + 5 = 15. The answer is 15.',
  'Q: A harpooner had 12 irons and lost 7 in a storm. How many irons were left? A: 12 - 7 = 5. The answer is 5.',
  'Q: The crew caught 6 whales in June and 9 in July. How many whales did they catch in the two months?',
].join('\n\n');

async function compressText(text: string, params: Record<string, unknown>) {
  const tokens = await tokenize(text, 'cl100k_base');
  const out = await runNode(compress, { tokens }, params);
  return { input: tokens, output: out.tokens as TokensValue, kept: (out.kept as Tensor).data as Uint8Array, m: (out.metrics as MetricsValue).values };
}

function expectSubsequence(input: TokensValue, output: TokensValue, kept: Uint8Array) {
  const keptIds = [...input.ids].filter((_, t) => kept[t] === 1);
  expect([...output.ids]).toEqual(keptIds);
  // The output text is the kept tokens' text, in order, and its offsets point into it.
  const pieces = [...input.ids].map((_, t) => input.text.slice(input.offsets[2 * t], input.offsets[2 * t + 1])).filter((_, t) => kept[t] === 1);
  expect(output.text).toBe(pieces.join(''));
  for (let j = 0; j < output.ids.length; j++) expect(output.text.slice(output.offsets[2 * j], output.offsets[2 * j + 1])).toBe(pieces[j]);
  expect(output.encoding).toBe(input.encoding);
}

/** Fraction of the dropped tokens that were filler or repetition. */
async function fillerShareOfDropped(params: Record<string, unknown>) {
  const text = PARAGRAPH.map(([s]) => s).join('');
  const { input, kept } = await compressText(text, params);
  const kindOf = (t: number) => {
    let end = 0;
    for (const [s, kind] of PARAGRAPH) if (input.offsets[2 * t]! < (end += s.length)) return kind;
    return 'content';
  };
  const dropped = [...kept.keys()].filter((t) => kept[t] === 0);
  expect(dropped.length).toBeGreaterThan(10);
  return dropped.filter((t) => kindOf(t) === 'filler').length / dropped.length;
}

describe('selective-context with the default LM', () => {
  it('keeps 1 − dropRatio of the tokens at token level, within 2 points', async () => {
    for (const dropRatio of [0.2, 0.5, 0.7]) {
      const { m } = await compressText(ARTICLE, { variant: 'selective-context', unit: 'token', dropRatio });
      expect(Math.abs((m.ratio as number) - (1 - dropRatio)), `dropRatio ${dropRatio}: ratio ${m.ratio}`).toBeLessThanOrEqual(0.02);
    }
  });

  it('keeps a subsequence, and whole units', async () => {
    for (const unit of ['token', 'phrase', 'sentence']) {
      const { input, output, kept, m } = await compressText(ARTICLE, { variant: 'selective-context', unit, dropRatio: 0.4 });
      expectSubsequence(input, output, kept);
      expect(m.outputTokens).toBe(output.ids.length);
      expect(m.unitsDropped as number).toBeGreaterThan(0);
    }
    // Phrase and sentence level: every token of a unit shares the unit's fate.
    for (const unit of ['phrase', 'sentence'] as const) {
      const { input, kept } = await compressText(ARTICLE, { variant: 'selective-context', unit, dropRatio: 0.4 });
      const { unitOf } = tokenUnits(input, unit);
      for (let t = 1; t < kept.length; t++) if (unitOf[t] === unitOf[t - 1]) expect(kept[t], `token ${t}`).toBe(kept[t - 1]);
    }
  });

  it('is deterministic', async () => {
    const p = { variant: 'selective-context', unit: 'phrase', dropRatio: 0.35 };
    const a = await compressText(ARTICLE, p);
    const b = await compressText(ARTICLE, p);
    expect([...a.kept]).toEqual([...b.kept]);
  });

  it('drops filler and repetition first', async () => {
    for (const unit of ['token', 'phrase'])
      expect(await fillerShareOfDropped({ variant: 'selective-context', unit, dropRatio: 0.3 }), unit).toBeGreaterThanOrEqual(0.8);
  });
});

describe('llmlingua with the default LM', () => {
  it('hits the target ratio within 2 points', async () => {
    for (const targetRatio of [0.2, 0.35, 0.5, 0.8]) {
      const { m } = await compressText(PROMPT, { variant: 'llmlingua', targetRatio, segmentTokens: 50 });
      expect(Math.abs((m.ratio as number) - targetRatio), `target ${targetRatio}: ratio ${m.ratio}`).toBeLessThanOrEqual(0.02);
    }
  });

  it('keeps a subsequence; drops whole demonstrations before the question', async () => {
    const { input, output, kept, m } = await compressText(PROMPT, { variant: 'llmlingua', targetRatio: 0.35, segmentTokens: 50 });
    expectSubsequence(input, output, kept);
    expect(m.demonstrations).toBe(4);
    expect(m.demonstrationsKept as number).toBeLessThan(4);
    expect(m.questionRatio as number).toBeGreaterThanOrEqual(0.9);
  });

  it('is deterministic', async () => {
    const p = { variant: 'llmlingua', targetRatio: 0.4, segmentTokens: 20 };
    const a = await compressText(PROMPT, p);
    const b = await compressText(PROMPT, p);
    expect([...a.kept]).toEqual([...b.kept]);
  });

  it('drops filler and repetition first', async () => {
    expect(await fillerShareOfDropped({ variant: 'llmlingua', targetRatio: 0.7, segmentTokens: 30 })).toBeGreaterThanOrEqual(0.8);
  });
});
