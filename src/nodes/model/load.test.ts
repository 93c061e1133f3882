// Sharded checkpoints as transformers writes them (shards + model.safetensors.index.json, written by
// Python's safetensors in testdata/make_fixtures.py), read through model.load's weight source.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRandomAccess } from '../../engine/node/ranged.js';
import { parseShardIndex } from '../../engine/io/safetensors.js';
import { SafetensorsWeights } from './load.js';

const DATA = join(import.meta.dirname, 'testdata');
type Expected = Record<string, { values: number[] }>;
const expected = async () => JSON.parse(await readFile(join(DATA, 'expected.json'), 'utf8')) as Expected;

describe('sharded checkpoints', () => {
  it('reads a two-shard checkpoint and its index as transformers writes them', async () => {
    const want = await expected();
    const w = await SafetensorsWeights.open((p) => openRandomAccess(p), join(DATA, 'sharded'));
    expect(w.names().sort()).toEqual(['lm_head.weight', 'model.embed_tokens.weight', 'model.norm.weight']);
    for (const name of w.names()) {
      expect(w.fileOf(name)).toMatch(name === 'model.embed_tokens.weight' ? /model-00001-of-00002/ : /model-00002-of-00002/);
      expect(Array.from((await w.read(name)).data)).toEqual(want[name]!.values);
    }
    expect(w.residentBytes()).toBe(4 * 27);
    expect(w.totalBytes()).toBe(4 * 27);
  });

  it('refuses an index whose shard names leave the folder', async () => {
    expect(() => parseShardIndex(JSON.stringify({ weight_map: { w: '../../etc/x.safetensors' } }), 'model.safetensors.index.json')).toThrow(
      /model\.safetensors\.index\.json: weight_map\["w"\] = "\.\.\/\.\.\/etc\/x\.safetensors" is not a file name beside the index/,
    );
    expect(() => parseShardIndex('{"metadata": {}}', 'i.json')).toThrow(/i\.json: no "weight_map" object/);
  });
});
