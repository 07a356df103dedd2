import MiniSearch, { type SearchResult } from 'minisearch';
import type { SearchDocument } from './documents.ts';

/**
 * Full-text search over one list of servers, with MiniSearch (BM25 ranking, prefix and fuzzy
 * matching). Words are split at spaces, punctuation and camelCase humps. One index per
 * snapshot: built once (lazily, by the query function) and then only read; hits name documents by their `id` (the caller's position of the server).
 *
 * Ranking: a term found in a name or the title counts 3×, in tags or tool names 2×, in the
 * description 1×; a query that *is* a server's name (case, spaces and punctuation aside) puts
 * that server first (×10). The last word of the query (the one being typed) and any word the
 * index does not hold also match as prefixes when 3 or more characters long (`postgre` →
 * postgres, postgresql); a word the index does not hold, of 4 or more characters, also
 * matches within one edit (`postgress` → postgres). Known words are not expanded: on 10k
 * servers, expanding every word of a three-word query made it 5× slower, and a second edit
 * tripled the cost again. A prefix match weighs 0.375 of an exact one, a fuzzy match 0.45.
 * Several terms: any may match, and servers matching more of them rank higher.
 */

export const FIELDS = ['names', 'title', 'tags', 'tools', 'description'] as const;
export type SearchField = (typeof FIELDS)[number];
export const FIELD_BOOSTS: Readonly<Record<SearchField, number>> = { names: 3, title: 3, tags: 2, tools: 2, description: 1 };
export const EXACT_NAME_BOOST = 10;

/** Lower case, accents folded: `Café` and `cafe` are one term. */
function processTerm(term: string): string | null {
  const t = term.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase();
  return t === '' ? null : t;
}

const SEPARATORS = /[\n\r\p{Z}\p{P}]+/u;
const CAMEL = /(?<=[\p{Ll}\p{N}])(?=\p{Lu})/u;

/** Words split at spaces and punctuation; a camelCase word (`sendEmail`) also as its parts. */
function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const word of text.split(SEPARATORS)) {
    if (word === '') continue;
    out.push(word);
    const parts = word.split(CAMEL);
    if (parts.length > 1) out.push(...parts);
  }
  return out;
}

/** `Postgres MCP-Pro` and `postgres-mcp-pro` are the same name */
export function nameKey(text: string): string {
  return (processTerm(text) ?? '').split(/[\s\p{P}\p{S}]+/u).filter(Boolean).join(' ');
}

const OPTIONS = {
  idField: 'id',
  fields: [...FIELDS],
  storeFields: [] as string[],
  extractField: (doc: SearchDocument, field: string) => {
    const v = doc[field as keyof SearchDocument];
    return Array.isArray(v) ? v.join(' ') : (v as string | number);
  },
  tokenize,
  processTerm,
  searchOptions: { boost: { ...FIELD_BOOSTS }, combineWith: 'OR' as const },
};

/** MiniSearch options that also collect every indexed term (queries are processed without collecting). */
function collecting(terms: Set<string>) {
  return {
    ...OPTIONS,
    processTerm: (term: string) => {
      const t = processTerm(term);
      if (t !== null) terms.add(t);
      return t;
    },
    searchOptions: { ...OPTIONS.searchOptions, processTerm },
  };
}

export interface SearchHit {
  /** the document's id */
  id: number;
  score: number;
  /** the query is one of the server's names */
  exactName: boolean;
  /** which indexed terms matched, and in which fields (`{"postgresql": ["title", "tags"]}`) */
  matches: Record<string, SearchField[]>;
}

export interface SearchOptions {
  /** only documents for which this is true (the endpoint's filters) */
  filter?: (id: number) => boolean;
}

export class ServerSearchIndex {
  readonly #index: MiniSearch<SearchDocument>;
  /** ids of the documents by each of their nameKey()s */
  readonly #byName: Map<string, number[]>;
  readonly #terms: Set<string>;
  readonly #prefix = (term: string, i: number, terms: string[]) => term.length >= 3 && (i === terms.length - 1 || !this.#terms.has(term));
  readonly #fuzzy = (term: string) => (term.length >= 4 && !this.#terms.has(term) ? 1 : false);

  private constructor(index: MiniSearch<SearchDocument>, byName: Map<string, number[]>, terms: Set<string>) {
    this.#index = index;
    this.#byName = byName;
    this.#terms = terms;
  }

  /** Builds in chunks, yielding to the event loop between them (other requests keep being answered). */
  static async build(docs: readonly SearchDocument[], options: { chunkSize?: number } = {}): Promise<ServerSearchIndex> {
    const terms = new Set<string>();
    const index = new MiniSearch<SearchDocument>(collecting(terms));
    await index.addAllAsync(docs, { chunkSize: options.chunkSize ?? 500 });
    return new ServerSearchIndex(index, namesOf(docs), terms);
  }

  static buildSync(docs: readonly SearchDocument[]): ServerSearchIndex {
    const terms = new Set<string>();
    const index = new MiniSearch<SearchDocument>(collecting(terms));
    index.addAll(docs);
    return new ServerSearchIndex(index, namesOf(docs), terms);
  }

  /** The index as JSON (MiniSearch's serialisation), e.g. to ship it in a snapshot. */
  serialize(): string {
    return JSON.stringify({ index: this.#index, names: [...this.#byName], terms: [...this.#terms] });
  }

  static load(json: string): ServerSearchIndex {
    const parsed = JSON.parse(json) as { index: unknown; names: [string, number[]][]; terms: string[] };
    const index = MiniSearch.loadJS<SearchDocument>(parsed.index as never, { ...OPTIONS, searchOptions: { ...OPTIONS.searchOptions, processTerm } });
    return new ServerSearchIndex(index, new Map(parsed.names), new Set(parsed.terms));
  }

  get size(): number {
    return this.#index.documentCount;
  }

  /** Hits for `query`, best first (ties: by id). An empty query has none. */
  search(query: string, options: SearchOptions = {}): SearchHit[] {
    const key = nameKey(query);
    if (key === '') return [];
    const filter = options.filter;
    const results = this.#index.search(query, { prefix: this.#prefix, fuzzy: this.#fuzzy, ...(filter ? { filter: (r: SearchResult) => filter(r.id as number) } : {}) });
    const exact = this.#byName.get(key);
    const hits = results.map((r: SearchResult): SearchHit => {
      const id = r.id as number;
      const exactName = exact !== undefined && exact.includes(id);
      return { id, score: exactName ? r.score * EXACT_NAME_BOOST : r.score, exactName, matches: r.match as Record<string, SearchField[]> };
    });
    // MiniSearch ranks by score; ties by id, and exact names moved up, need one more sort
    return hits.sort((a, b) => b.score - a.score || a.id - b.id);
  }
}

function namesOf(docs: readonly SearchDocument[]): Map<string, number[]> {
  const byName = new Map<string, number[]>();
  for (const d of docs) {
    for (const key of new Set(d.names.map(nameKey))) {
      const ids = byName.get(key);
      if (ids) ids.push(d.id);
      else byName.set(key, [d.id]);
    }
  }
  return byName;
}
