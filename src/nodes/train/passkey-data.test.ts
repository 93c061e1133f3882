import { describe, expect, it } from 'vitest';
import { text } from '../../engine/values.js';
import { runNode } from '../testing.js';
import { PASSKEY_QUESTION } from '../model/eval-passkey.js';
import { passkeyData, passkeyDataNode } from './passkey-data.js';

const corpus = 'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse. '.repeat(200);
const base = { share: 0.5, minLength: 256, maxLength: 400, digits: 5, encoding: 'bytes' as const, seed: 3 };

describe('train.passkey-data', () => {
  it('keeps the corpus in order and puts an answered passkey prompt after each slice', async () => {
    const { text: out, prompts } = await passkeyData(corpus, base);
    const answers = [...out.matchAll(/The pass key is (\d{5})\. Remember it\. \1 is the pass key\.[^]*?What is the pass key\? The pass key is (\d+)\.\n/g)];
    expect(answers.length).toBe(prompts);
    for (const a of answers) expect(a[2]).toBe(a[1]);
    // Removing the prompts (and the newline before each) gives the corpus back.
    const rest = out.replace(/\nThere is an important info[^]*?The pass key is \d+\.\n/g, '');
    expect(rest).toBe(corpus);
    // Prompt lengths stay within [minLength, maxLength] bytes (before the answer).
    for (const m of out.matchAll(/There is an important info[^]*?The pass key is(?= \d+\.\n)/g)) {
      expect(m[0].length + 1).toBeLessThanOrEqual(400);
      expect(m[0].length + 1).toBeGreaterThan(256 - 90);
    }
  });

  it('gives prompts about `share` of the characters, and is deterministic for a seed', async () => {
    const a = await passkeyData(corpus, { ...base, share: 0.25 });
    const promptChars = a.text.length - corpus.length;
    expect(promptChars / a.text.length).toBeGreaterThan(0.2);
    expect(promptChars / a.text.length).toBeLessThan(0.3);
    expect((await passkeyData(corpus, { ...base, share: 0.25 })).text).toBe(a.text);
    expect((await passkeyData(corpus, { ...base, share: 0.25, seed: 4 })).text).not.toBe(a.text);
  });

  it('runs as a node and ends each prompt with the eval question', async () => {
    const out = await runNode(passkeyDataNode, { text: text(corpus.slice(0, 2000)) }, { minLength: 300, maxLength: 300 });
    const s = (out.text as { text: string }).text;
    expect(s).toContain(PASSKEY_QUESTION + ' ');
    expect(() => passkeyDataNode.params.parse({ minLength: 500, maxLength: 300 })).toThrow(/minLength/);
  });
});
