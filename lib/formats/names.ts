/**
 * Server names in both formats. ToolHive names an entry by its registry key (`github`); the
 * upstream format by a reverse-DNS name (`io.github.stacklok/github`). ToolHive's own rules:
 * a key without `/` becomes `io.github.stacklok/<key>`; an upstream name's ToolHive key is the
 * part after its single `/`.
 */

export const TOOLHIVE_NAMESPACE = 'io.github.stacklok';

/** `fetch` → `io.github.stacklok/fetch`; a key that already holds a `/` is kept */
export function buildReverseDnsName(key: string): string {
  return key.includes('/') ? key : `${TOOLHIVE_NAMESPACE}/${key}`;
}

/** `io.github.stacklok/fetch` → `fetch`; a name without exactly one `/` is kept */
export function extractSimpleName(name: string): string {
  const slash = name.indexOf('/');
  if (slash < 0 || name.indexOf('/', slash + 1) >= 0) return name;
  return name.slice(slash + 1);
}

/**
 * ToolHive keys for a set of upstream names, deterministic and collision-free: each name gets its
 * simple name, unless several names share it; then the one in ToolHive's own namespace
 * (`io.github.stacklok/…`) — or, failing that, the smallest name in UTF-16 order — gets the simple
 * name and every other keeps its full upstream name as its key.
 */
export function assignToolhiveKeys(names: Iterable<string>): Map<string, string> {
  const bySimple = new Map<string, string[]>();
  for (const name of names) {
    const simple = extractSimpleName(name);
    const list = bySimple.get(simple);
    if (list) list.push(name);
    else bySimple.set(simple, [name]);
  }
  const keys = new Map<string, string>();
  for (const [simple, list] of bySimple) {
    if (list.length === 1) {
      keys.set(list[0] as string, simple);
      continue;
    }
    const own = `${TOOLHIVE_NAMESPACE}/${simple}`;
    const winner = list.includes(own) ? own : list.reduce((a, b) => (b < a ? b : a));
    for (const name of list) keys.set(name, name === winner ? simple : name);
  }
  // a full name used as a key could equal another server's simple name (`a/b` vs a key `a/b`
  // cannot happen: simple names hold no `/`), so the keys are unique
  return keys;
}
