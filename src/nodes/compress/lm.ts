// The scoring LM that prompt compressors ask "how surprising is this token here?". Pluggable: a
// scorer is registered by name and built per tokenizer encoding (ids mean different things in each).
import { loadTokenizer } from '../text/encodings.js';
import { mobyDickText } from './corpus.js';
import { KneserNeyTrigram, NgramLM } from './ngram.js';

export interface ScoringLM {
  readonly name: string;
  /**
   * ln p(ids[i] | ids[0..i)) for every i in [from, ids.length); entries before `from` are NaN (they
   * are context only). ids[0] is scored with an empty prefix.
   */
  logProbs(ids: Int32Array, from?: number): Float64Array;
}

/** Builds a scorer for the ids of one encoding (e.g. "cl100k_base"). */
export type ScoringLMFactory = (encoding: string) => Promise<ScoringLM>;

const factories = new Map<string, ScoringLMFactory>();
const built = new Map<string, Promise<ScoringLM>>();

/** Adds a scorer. Registering a name twice is an error, never a silent override. */
export function registerScoringLM(name: string, factory: ScoringLMFactory): void {
  if (factories.has(name)) throw new Error(`scoring LM "${name}" is registered twice`);
  factories.set(name, factory);
}

export function scoringLMNames(): string[] {
  return [...factories.keys()];
}

/** The scorer `name` for `encoding`, built on first use and kept for the process. */
export function loadScoringLM(name: string, encoding: string): Promise<ScoringLM> {
  const factory = factories.get(name);
  if (!factory) return Promise.reject(new Error(`unknown scoring LM "${name}"; known: ${scoringLMNames().join(', ')}`));
  const key = `${name}\u0000${encoding}`;
  let p = built.get(key);
  if (!p) {
    p = factory(encoding);
    p.catch(() => built.delete(key));
    built.set(key, p);
  }
  return p;
}

const trigrams = new Map<string, Promise<KneserNeyTrigram>>();

/** The Kneser–Ney trigram of an encoding, trained once per process on the Moby-Dick corpus. */
export function mobyDickTrigram(encoding: string): Promise<KneserNeyTrigram> {
  let p = trigrams.get(encoding);
  if (!p) {
    p = (async () => {
      const tok = await loadTokenizer(encoding);
      const ids = tok.encode(await mobyDickText()).ids;
      return KneserNeyTrigram.train(ids, tok.vocabSize);
    })();
    p.catch(() => trigrams.delete(encoding));
    trigrams.set(encoding, p);
  }
  return p;
}

/** Weight of the cache model in the default scorer. */
export const DEFAULT_CACHE_WEIGHT = 0.3;

registerScoringLM('ngram', async (enc) => new NgramLM('ngram', await mobyDickTrigram(enc), { cacheWeight: DEFAULT_CACHE_WEIGHT }));
registerScoringLM('ngram-static', async (enc) => new NgramLM('ngram-static', await mobyDickTrigram(enc), { cacheWeight: 0 }));
