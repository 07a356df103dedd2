/**
 * `search=` answered from the substring index must be the scan's answer, exactly: on the real
 * fixtures (the upstream registry's servers, ToolHive's registry.json) and on generated data,
 * for fragments of names, words of descriptions, tags, one- and two-letter queries, queries
 * found nowhere, and non-ASCII text; on the upstream list also with cursors, limits and the
 * other filters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SubstringIndex } from '../../lib/api/substring-index.ts';
import { listPage, scanPage, MORE, type Page } from '../../lib/api/upstream-query.ts';
import { viewOf, type UpstreamView } from '../../lib/api/upstream-view.ts';
import { parseListParams } from '../../lib/api/params.ts';
import { indexToolhive, matchesFilter, parseServerFilter, type ToolhiveServer } from '../../lib/api/toolhive-view.ts';
import { facetIndex, facetIndexOf, facetIndexReady, filterServers, positionAfter, searchServers } from '../../lib/api/server-search.ts';
import { FIXTURES, fixtureEntries, publishEntries, publishRealToolhive } from './fixture.ts';
import { startQuery, tempStore } from './harness.ts';
import { generateToolhiveRegistry, generateUpstreamServers, Rng } from '../bench/generate.ts';
import type { ServerResponse } from '../../lib/formats/upstream-schema.ts';

function sorted(entries: ServerResponse[]): ServerResponse[] {
  return entries.sort((a, b) => (a.server.name === b.server.name ? (a.server.version < b.server.version ? -1 : 1) : a.server.name < b.server.name ? -1 : 1));
}

/** queries drawn from the texts themselves (every length from 1 to 12), plus some found nowhere */
function queriesFrom(texts: string[], count: number, seed: number): string[] {
  const rng = new Rng(seed);
  const out = new Set<string>(['', 'a', 'io', 'mcp', 'zzzq', 'é', 'ü', '/', '-', '.', 'server', 'xyz-not-there', 'github.com/']);
  while (out.size < count) {
    const t = rng.pick(texts);
    const len = rng.int(1, 12);
    const at = rng.int(0, Math.max(0, t.length - len));
    out.add(t.slice(at, at + len).toLowerCase());
    if (rng.chance(0.1)) out.add(`${t.slice(at, at + len).toLowerCase()}q~`);
  }
  return [...out].filter((q) => q !== '');
}

/** every candidate the index proposes from `from` on, checking that they ascend */
function candidatesOf(index: SubstringIndex, q: string, from = 0): number[] {
  const out: number[] = [];
  index.candidates(q, from, (id) => {
    if (out.length > 0) assert.ok(id > out[out.length - 1]!, `candidates ascend (${JSON.stringify(q)})`);
    out.push(id);
    return true;
  });
  return out;
}

test('the substring index finds exactly the texts that include the query', () => {
  const rng = new Rng(3);
  const alphabet = 'abcde-./éü日本';
  const texts = Array.from({ length: 3000 }, () => Array.from({ length: rng.int(0, 40) }, () => rng.pick([...alphabet])).join(''));
  const index = SubstringIndex.build(texts.length, (id) => texts[id]!);
  assert.equal(index.size, texts.length);
  let nonEmpty = 0;
  let proposed = 0;
  for (const q of queriesFrom(texts.filter((t) => t.length > 0), 2000, 4)) {
    const expected = texts.flatMap((t, id) => (t.includes(q) ? [id] : []));
    assert.deepEqual(index.search(q, (id) => texts[id]!.includes(q)), expected, `query ${JSON.stringify(q)}`);
    // from any id on: the same answer's tail
    const from = rng.int(0, texts.length);
    assert.deepEqual(
      candidatesOf(index, q, from).filter((id) => texts[id]!.includes(q)),
      expected.filter((id) => id >= from),
      `query ${JSON.stringify(q)} from ${from}`,
    );
    if (q.length >= 3) proposed += candidatesOf(index, q).length - expected.length;
    if (expected.length > 0) nonEmpty++;
  }
  assert.ok(nonEmpty > 1000, `most queries found something (${nonEmpty})`);
  // the intersection of the trigrams' lists leaves few candidates that fail the check
  assert.ok(proposed < 2000 * 20, `candidates beyond the answers: ${proposed}`);
});

test('built in steps, the index is the same and the event loop turns between the steps', async () => {
  const rng = new Rng(5);
  const texts = Array.from({ length: 3000 }, () => Array.from({ length: rng.int(0, 30) }, () => rng.pick([...'abcdefg-'])).join(''));
  let turns = 0;
  let spinning = true;
  const spin = () => {
    if (!spinning) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  // slow texts (a busy loop per document): a 0 ms slice yields after every 256 documents
  const slow = (id: number) => {
    const until = performance.now() + 0.01;
    while (performance.now() < until);
    return texts[id]!;
  };
  const stepped = await SubstringIndex.buildInSteps(texts.length, slow, 0);
  spinning = false;
  assert.ok(turns >= 10, `the event loop turned ${turns} times during the build`);
  const whole = SubstringIndex.build(texts.length, (id) => texts[id]!);
  assert.equal(stepped.bytes, whole.bytes);
  for (const q of queriesFrom(texts.filter((t) => t.length > 0), 300, 6)) assert.deepEqual(candidatesOf(stepped, q), candidatesOf(whole, q), q);
});

test('the substring index: several texts per document, no trigram across two of them, any Unicode', () => {
  const docs: string[][] = [['abc', 'def'], ['abcdef'], ['xyz'], [], [''], ['ab', 'c'], ['日本語のテキスト', 'émoji 😀 here'], ['İstanbul'.toLowerCase()], ['a\u0000b\u0000c']];
  const index = SubstringIndex.build(docs.length, (id) => docs[id]!);
  const contains = (q: string) => (id: number) => docs[id]!.some((t) => t.includes(q));
  const scan = (q: string) => docs.flatMap((d, id) => (d.some((t) => t.includes(q)) ? [id] : []));
  for (const q of ['abc', 'cde', 'bcd', 'def', 'abcdef', 'xyz', 'ab', 'c', 'a', '本語の', 'ji 😀', '😀', '😀 h', 'i̇st', 'stan', 'a\u0000b', '\u0000b\u0000', 'zzz']) {
    assert.deepEqual(index.search(q, contains(q)), scan(q), JSON.stringify(q));
  }
  // 'cde' spans two texts of document 0: not a candidate there (its trigram is in no text)
  assert.deepEqual(candidatesOf(index, 'cde'), [1]);
  // a page stops where visit says so
  const seen: number[] = [];
  index.candidates('ab', 0, (id) => (seen.push(id), seen.length < 2));
  assert.deepEqual(seen, [0, 1]);
  // an empty index
  const none = SubstringIndex.build(0, () => []);
  assert.deepEqual(candidatesOf(none, 'abc'), []);
  assert.deepEqual(candidatesOf(none, 'a'), []);
});

function pageOf(a: Page | typeof MORE): { names: string[]; nextCursor?: string } {
  assert.notEqual(a, MORE);
  const p = a as Page;
  return { names: p.items.map((e) => `${e.name}@${e.version}`), ...(p.nextCursor ? { nextCursor: p.nextCursor } : {}) };
}

function compareUpstream(view: UpstreamView, entries: ServerResponse[], seed: number, queries: number): number {
  const names = [...new Set(entries.map((e) => e.server.name))];
  const rng = new Rng(seed);
  let hits = 0;
  for (const q of queriesFrom(names, queries, seed)) {
    const variants = [
      `search=${encodeURIComponent(q)}`,
      `search=${encodeURIComponent(q.toUpperCase())}&limit=5`,
      `search=${encodeURIComponent(q)}&limit=100&include_deleted=true`,
      `search=${encodeURIComponent(q)}&version=latest&limit=7`,
    ];
    const e = rng.pick(entries);
    variants.push(`search=${encodeURIComponent(q)}&cursor=${encodeURIComponent(`${e.server.name}:${e.server.version}`)}&limit=3`);
    variants.push(`search=${encodeURIComponent(q)}&cursor=${encodeURIComponent(rng.pick(names))}`);
    for (const query of variants) {
      const parsed = parseListParams(new URLSearchParams(query));
      assert.ok(parsed.ok, query);
      const indexed = pageOf(listPage(view, parsed.value));
      assert.deepEqual(indexed, pageOf(scanPage(view, parsed.value)), query);
      // and a page followed by its next page is still the scan's
      if (indexed.nextCursor) {
        const next = parseListParams(new URLSearchParams(`${query.replace(/&cursor=[^&]*/, '')}&cursor=${encodeURIComponent(indexed.nextCursor)}`));
        assert.ok(next.ok);
        assert.deepEqual(pageOf(listPage(view, next.value)), pageOf(scanPage(view, next.value)), `${query} then ${indexed.nextCursor}`);
      }
      if (indexed.names.length > 0) hits++;
    }
  }
  return hits;
}

test('upstream search= from the name index equals the scan: real fixtures', async () => {
  const entries = fixtureEntries();
  const view = viewOf(Buffer.from(JSON.stringify({ servers: entries, metadata: { count: entries.length } })));
  const hits = compareUpstream(view, entries, 11, 300);
  assert.ok(hits > 300, `queries found versions (${hits})`);
});

test('upstream search= from the name index equals the scan: 8,000 generated versions', async () => {
  const entries = sorted(generateUpstreamServers(8000, { seed: 9 }));
  const view = viewOf(Buffer.from(JSON.stringify({ servers: entries, metadata: { count: entries.length } })));
  const hits = compareUpstream(view, entries, 12, 200);
  assert.ok(hits > 500, `queries found versions (${hits})`);
});

async function compareFacets(servers: ToolhiveServer[], seed: number, queries: number): Promise<number> {
  const rng = new Rng(seed);
  const texts = servers.flatMap((s) => [...s.facets.names, s.facets.text, ...s.facets.tags]).filter((t) => t.length > 0);
  // the first ask starts a build in steps and answers undefined (searches scan meanwhile)
  assert.equal(facetIndexOf(servers), undefined);
  const index = await facetIndexReady(servers);
  assert.equal(facetIndexOf(servers), index, 'built once, then kept');
  // built in steps or in one piece: the same candidates
  const whole = facetIndex(servers);
  for (const q of queriesFrom(texts, 50, seed + 1)) {
    const a: number[] = [];
    const b: number[] = [];
    index.candidates(q, 0, (id) => (a.push(id), true));
    whole.candidates(q, 0, (id) => (b.push(id), true));
    assert.deepEqual(a, b, q);
  }
  let hits = 0;
  for (const q of queriesFrom(texts, queries, seed)) {
    for (const query of [`search=${encodeURIComponent(q)}`, `search=${encodeURIComponent(q)}&tag=database,search`, `search=${encodeURIComponent(q)}&transport=stdio`]) {
      const parsed = parseServerFilter(new URLSearchParams(query));
      assert.ok(parsed.ok, query);
      const expected = servers.filter((s) => matchesFilter(s.facets, parsed.value)).map((s) => s.key);
      assert.deepEqual(filterServers(servers, parsed.value, () => index).map((s) => s.key), expected, query);
      // a page from a position on, stopping early: the same slice of the scan
      const from = rng.int(0, servers.length);
      const max = rng.pick([1, 2, 5, 31, 1000]);
      const scanned = servers.slice(from).filter((s) => matchesFilter(s.facets, parsed.value)).slice(0, max).map((s) => s.key);
      assert.deepEqual(searchServers(servers, parsed.value, () => index, from, max).map((s) => s.key), scanned, `${query} from ${from}, at most ${max}`);
      // without an index (still building): the scan, the same page
      assert.deepEqual(searchServers(servers, parsed.value, () => undefined, from, max).map((s) => s.key), scanned, `${query} scanned`);
      // from after a key (a cursor's)
      const key = rng.pick(servers).key;
      assert.equal(positionAfter(servers, (s) => s.key, key), servers.findIndex((s) => s.key > key) < 0 ? servers.length : servers.findIndex((s) => s.key > key));
      if (expected.length > 0) hits++;
    }
  }
  return hits;
}

test('/api/v1/servers search= from the index equals the scan: the real ToolHive registry', async () => {
  const doc = JSON.parse(readFileSync(join(FIXTURES, 'toolhive-registry.2026-02-20.json'), 'utf8'));
  const { servers } = indexToolhive(doc);
  assert.ok(servers.length > 50);
  const hits = await compareFacets(servers, 21, 500);
  assert.ok(hits > 400, `queries found servers (${hits})`);
});

test('/api/v1/servers search= from the index equals the scan: 1,500 generated ToolHive entries', async () => {
  const { servers } = indexToolhive(generateToolhiveRegistry(1500, { seed: 8 }));
  const hits = await compareFacets(servers, 22, 200);
  assert.ok(hits > 400, `queries found servers (${hits})`);
});

test('over HTTP: a search answer is the same bytes and ETag every time it is asked, and a 304 when revalidated (kept from its second time on)', async () => {
  const t = await tempStore();
  await publishEntries(t.store, { namespace: 'mcp', name: 'upstream' }, fixtureEntries());
  await publishRealToolhive(t.store, { namespace: 'team', name: 'toolhive' });
  const api = await startQuery({ store: t.store, config: { prefetch: false } });
  try {
    for (const path of ['/registries/mcp/upstream/v0.1/servers?search=git&limit=5', '/api/v1/servers?search=git&limit=5', '/api/v1/servers?search=zzzz-none&limit=5']) {
      const first = await api.get(path);
      assert.equal(first.status, 200, path);
      const etag = String(first.headers.etag);
      assert.match(etag, /^"[A-Za-z0-9_-]{27}"$/, path);
      for (let i = 0; i < 3; i++) {
        const again = await api.get(path);
        assert.equal(again.headers.etag, etag, `${path}: same ETag`);
        assert.deepEqual(again.body, first.body, `${path}: same bytes`);
        assert.equal((await api.get(path, { 'If-None-Match': etag })).status, 304, path);
      }
      // another search, another tag
      assert.notEqual((await api.get(path.replace('search=', 'search=i'))).headers.etag, etag);
    }
  } finally {
    await api.close();
    await t.cleanup();
  }
});
