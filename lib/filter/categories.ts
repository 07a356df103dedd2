/**
 * Where a server's categories come from, for filters (lib/filter) and the query API alike.
 * No heavy imports: the query function loads this on its ToolHive path.
 */

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function lower(values: Iterable<unknown>): string[] {
  const out = new Set<string>();
  for (const v of values) if (typeof v === 'string' && v !== '') out.add(v.toLowerCase());
  return [...out];
}

function stringList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/**
 * Categories: ToolHive has no category field. They come from `custom_metadata.category` (a
 * string) and `custom_metadata.categories` (a list of strings); an entry that declares neither
 * is categorised by its tags (ToolHive documents tags as its "categorization labels").
 */
export function categoriesOf(customMetadata: unknown, tags: readonly string[]): string[] {
  if (isRecord(customMetadata)) {
    const declared = lower([customMetadata.category, ...stringList(customMetadata.categories)]);
    if (declared.length > 0) return declared;
  }
  return lower(tags);
}

