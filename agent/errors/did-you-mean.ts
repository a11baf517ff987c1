/** The one "did you mean" of overlay-warden: the known names nearest to a misspelt one (store URL parameters, config keys and values, commands, options). */

/** Levenshtein distance: the fewest single-character insertions, deletions and substitutions that turn `a` into `b`. Pure. */
export function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min((row[j] as number) + 1, (next[j - 1] as number) + 1, (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length] as number;
}

/**
 * The candidates `given` is most likely a misspelling of, in the candidates' order; [] when none is near. Case is
 * ignored; a candidate equal to `given` (as the caller's normalisation may make it: `upper_layer` → `upper-layer`) is the
 * nearest of all. Near means within 2 edits, and within 1 for names of up to 5 characters (so `ls` suggests nothing and
 * `chek` suggests `check`); only the candidates at the smallest distance are returned. When none is near, a
 * candidate that begins with `given` or that `given` begins with is one, the shorter of the two being 3 characters
 * or more (`stat` → `status`, `warning` → `warn`). Pure.
 */
export function nearestNames(given: string, candidates: readonly string[]): string[] {
  const word = given.toLowerCase();
  const limit = word.length <= 5 ? 1 : 2;
  let best = limit;
  let nearest: string[] = [];
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate.toLowerCase());
    if (distance > best) continue;
    if (distance < best || nearest.length === 0) [best, nearest] = [distance, [candidate]];
    else nearest.push(candidate);
  }
  if (nearest.length > 0) return nearest;
  return candidates.filter((candidate) => {
    const name = candidate.toLowerCase();
    return (word.length >= 3 && name.startsWith(word)) || (name.length >= 3 && word.startsWith(name));
  });
}

/**
 * `did you mean X?` (`X or Y`, `X, Y, or Z` when several are as near) for the names nearestNames found, each written
 * by `spell` (quoted, prefixed with `--`…); undefined for none. Pure.
 */
export function didYouMean(names: readonly string[], spell: (name: string) => string = (name) => name): string | undefined {
  if (names.length === 0) return undefined;
  return `did you mean ${new Intl.ListFormat('en', { type: 'disjunction' }).format(names.map(spell))}?`;
}
