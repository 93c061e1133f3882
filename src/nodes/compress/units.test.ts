import { describe, expect, it } from 'vitest';
import { allocate, percentile, topK } from './common.js';
import { blockStarts, phraseStarts, sentenceStarts, unitsFromStarts } from './units.js';
import type { TokensValue } from '../../engine/values.js';

describe('lexical units', () => {
  it('phrases: runs of content words, split at stop words and punctuation', () => {
    const s = 'The old sailor told a long story, and then slept.';
    //         0   4   8      15   20 22   27   32  36   41   46 48
    // units: The | old sailor told | a | long story | , | and | then | slept | .
    expect(phraseStarts(s)).toEqual([0, 4, 20, 22, 32, 34, 38, 43, 48]);
  });

  it('sentences: after . ! ? (then a space), CJK full stops, blank lines, and line breaks before a non-lowercase line', () => {
    expect(sentenceStarts('Hi there. How are you?  Fine!\nNext line 3.5 stays。次の文')).toEqual([0, 10, 24, 30, 50]);
    // A hard-wrapped sentence stays whole; list items and paragraphs are cut.
    expect(sentenceStarts('A long sentence that\nwraps here\n- item one\n- item two\n\nnew paragraph')).toEqual([0, 32, 43, 55]);
  });

  it('blocks: separated by blank lines', () => {
    expect(blockStarts('  one\ntwo\n\nthree\n \n\n four\n')).toEqual([2, 11, 21]);
  });

  it('a token goes with the unit of its first non-space character; whitespace with the unit before', () => {
    // Tokens: "Hello" "," " world" "." "\n\n" "Bye"
    const text = 'Hello, world.\n\nBye';
    const cuts = [0, 5, 6, 12, 13, 15, 18];
    const tokens: TokensValue = {
      kind: 'tokens', text, encoding: 'test', ids: new Int32Array(6),
      offsets: Int32Array.from(cuts.slice(0, -1).flatMap((s, i) => [s, cuts[i + 1]!])),
    };
    expect([...unitsFromStarts(tokens, sentenceStarts(text)).unitOf]).toEqual([0, 0, 0, 0, 0, 1]);
    expect([...unitsFromStarts(tokens, phraseStarts(text)).unitOf]).toEqual([0, 1, 2, 3, 3, 4]);
  });
});

describe('helpers', () => {
  it('percentile interpolates linearly between closest ranks (numpy default)', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([50, 10, 40, 20, 30], 35)).toBeCloseTo(24, 12);
    expect(percentile([7], 90)).toBe(7);
  });

  it('allocate splits a total by largest remainder, ties to the earlier part', () => {
    expect(allocate(3, [3, 3])).toEqual([2, 1]);
    expect(allocate(10, [1, 2, 7])).toEqual([1, 2, 7]);
    expect(allocate(5, [3, 3, 3])).toEqual([2, 2, 1]);
    expect(allocate(4, [0, 5])).toEqual([0, 4]);
  });

  it('topK keeps the highest scores in index order, ties to the earlier index', () => {
    expect(topK([1, 5, 3, 5, 0], 3)).toEqual([1, 2, 3]);
    expect(topK([2, 2, 2], 2)).toEqual([0, 1]);
  });
});
