/**
 * Name globs: `*` matches any run of characters (including `/` and nothing), `?` exactly one
 * character (including `/`); everything else is literal. A glob matches the whole name.
 * Matching is case-insensitive (see README.md).
 */

export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'isu');
}

/** one RegExp for several globs (any may match) */
export function globsToRegExp(globs: readonly string[]): RegExp {
  const alternatives = globs.map((g) => globToRegExp(g).source.slice(1, -1));
  return new RegExp(`^(?:${alternatives.join('|')})$`, 'isu');
}

export function hasWildcard(glob: string): boolean {
  return glob.includes('*') || glob.includes('?');
}
