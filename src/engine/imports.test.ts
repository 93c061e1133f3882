// The engine knows no node library and no host: nothing under src/engine (tests included) imports
// the node library, the editor, the CLI, the Electron main process or the composition root (src/lab).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..');
const ENGINE = join(SRC, 'engine');
const FORBIDDEN = ['nodes', 'renderer', 'cli', 'main', 'lab'];

/** Every module specifier in a source text: static and dynamic imports, re-exports, require. */
function importSpecifiers(text: string): string[] {
  const patterns = [/\b(?:import|export)\s[^'"`;]*?\bfrom\s*(['"])([^'"]+)\1/g, /\bimport\s*(['"])([^'"]+)\1/g, /\b(?:import|require)\s*\(\s*(['"])([^'"]+)\1\s*\)/g];
  return patterns.flatMap((re) => [...text.matchAll(re)].map((m) => m[2]!));
}

/** The imports of `file` (absolute) that point into a forbidden folder of src/. */
function forbiddenImports(file: string, text: string): string[] {
  return importSpecifiers(text).filter((spec) => {
    if (!spec.startsWith('.')) return false;
    const top = relative(SRC, resolve(dirname(file), spec)).split(/[\\/]/)[0];
    return FORBIDDEN.includes(top!);
  });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : /\.(m?[jt]sx?|cts)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

describe('engine imports', () => {
  it('finds the imports it is meant to refuse', () => {
    const file = join(ENGINE, 'run', 'x.ts');
    const text = [
      "import { registry } from '../../nodes/index.js';",
      "export { a } from '../../lab/api.js';",
      "import type { B } from '../../renderer/model/b.js';",
      "const m = await import('../../cli/run.js');",
      "import '../../main/side-effect.js';",
      "import { ok } from '../compile/compile.js';",
      "import { z } from 'zod';",
    ].join('\n');
    expect(forbiddenImports(file, text).sort()).toEqual(['../../cli/run.js', '../../lab/api.js', '../../main/side-effect.js', '../../nodes/index.js', '../../renderer/model/b.js']);
  });

  it('no file under src/engine imports src/nodes, src/renderer, src/cli, src/main or src/lab', () => {
    const files = sourceFiles(ENGINE);
    expect(files.length).toBeGreaterThan(40);
    const found = files.flatMap((f) => forbiddenImports(f, readFileSync(f, 'utf8')).map((spec) => `${relative(SRC, f)} imports ${spec}`));
    expect(found).toEqual([]);
  });
});
