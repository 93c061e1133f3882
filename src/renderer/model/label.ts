// A node's label often quotes one of its params ("T = 2048" on a Q/K/V source). When that param
// changes, the label follows, so the canvas never shows a stale figure.

const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Ways a number is written in a label: 2048, and 2K / 2k for multiples of 1024. */
function spellings(n: number): string[] {
  const out = [String(n)];
  if (n >= 1024 && n % 1024 === 0) out.push(`${n / 1024}K`, `${n / 1024}k`);
  return out;
}

/** `n` written the way `like` was (a K suffix stays a K suffix where it can). */
function respell(n: number, like: string): string {
  const k = /[kK]$/.exec(like)?.[0];
  return k && n >= 1024 && n % 1024 === 0 ? `${n / 1024}${k}` : String(n);
}

/**
 * The label after params change from `before` to `after`: a number param whose old value appears in
 * the label exactly once (as a whole number, not part of another) is replaced by its new value.
 * Labels that quote nothing, or quote a value ambiguously, are left alone.
 */
export function followLabel(label: string | undefined, before: Record<string, unknown>, after: Record<string, unknown>): string | undefined {
  if (!label) return label;
  let out = label;
  for (const [key, now] of Object.entries(after)) {
    const was = before[key];
    if (typeof was !== 'number' || typeof now !== 'number' || was === now || !Number.isFinite(now)) continue;
    const re = new RegExp(`(?<![\\w.])(${spellings(was).map(quote).join('|')})(?![\\w.]|\\.\\d)`, 'g');
    const hits = [...label.matchAll(re)];
    if (hits.length !== 1) continue;
    out = out.replace(re, (m) => respell(now, m));
  }
  return out;
}
