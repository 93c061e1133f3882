import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { registry } from '../src/nodes/index.js';
import { DOCS_PATH, docsText } from './gen-docs.js';

describe('docs/nodes.md', () => {
  it('is current (run `npm run docs` when this fails)', () => {
    expect(readFileSync(DOCS_PATH, 'utf8')).toBe(docsText());
  });

  it('documents every node type and every variant', () => {
    const text = docsText();
    for (const def of registry.all()) {
      expect(text).toContain(`### \`${def.type}\``);
      for (const v of Object.keys(def.variants ?? {})) expect(text).toContain(`<a id="${def.type}.${v}"></a>`);
    }
  });

  it('shows params with types, ranges and defaults, ports with kinds and dims', () => {
    const text = docsText();
    expect(text).toContain('| `seqLen` | int (≥ 1, ≤ 4194304) | `1024` |');
    expect(text).toContain('| `q` | tensor | H × T × D |');
    expect(text).toContain('| `path` | string | *required* | .npy file, relative to the pipeline file |');
    expect(text).toContain('- *Efficient Streaming Language Models with Attention Sinks* (2023)');
  });
});
