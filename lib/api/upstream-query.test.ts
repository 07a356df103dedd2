import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OFFICIAL_META } from './entry.ts';
import { parseListParams, type ListParams } from './params.ts';
import { MORE, listPage, versionOf, versionsOf } from './upstream-query.ts';
import { UpstreamView, viewOf } from './upstream-view.ts';

interface Row {
  name: string;
  version: string;
  status?: 'active' | 'deprecated' | 'deleted';
  latest?: boolean;
  published?: string;
  updated?: string;
}

function response(r: Row, extraOfficial: Record<string, unknown> = {}) {
  return {
    server: { name: r.name, version: r.version, description: `server ${r.name}` },
    _meta: {
      [OFFICIAL_META]: {
        status: r.status ?? 'active',
        publishedAt: r.published ?? '2025-01-01T00:00:00Z',
        updatedAt: r.updated ?? r.published ?? '2025-01-01T00:00:00Z',
        isLatest: r.latest ?? false,
        ...extraOfficial,
      },
    },
  };
}

function doc(rows: Row[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ servers: rows.map((r) => response(r)), metadata: { count: rows.length } }));
}

const ROWS: Row[] = ([
  { name: 'io.a/alpha', version: '1.0.0', published: '2025-01-01T00:00:00Z' },
  { name: 'io.a/alpha', version: '2.0.0', latest: true, published: '2025-03-01T00:00:00.000002Z', updated: '2025-03-01T00:00:00.000002Z' },
  { name: 'io.a/alpha', version: '2.0.0-rc.1', status: 'deprecated', published: '2025-02-01T00:00:00Z' },
  { name: 'io.b/beta_x', version: '0.1.0', latest: true, status: 'deleted', updated: '2025-03-01T00:00:00.000001Z' },
  { name: 'io.c/Gamma', version: '1.0.0+build.5', latest: true },
  { name: 'io.c/gamma', version: '1.0.0', latest: true },
] as Row[]).sort((x, y) => (x.name === y.name ? (x.version < y.version ? -1 : 1) : x.name < y.name ? -1 : 1));

function params(q: string): ListParams {
  const r = parseListParams(new URLSearchParams(q));
  assert.ok(r.ok);
  return r.value;
}

const page = (view: UpstreamView, q: string) => {
  const p = listPage(view, params(q));
  assert.notEqual(p, MORE);
  return p as Exclude<typeof p, typeof MORE>;
};
const keys = (items: { name: string; version: string }[]) => items.map((e) => `${e.name}:${e.version}`);

test('pages walk every visible row once; nextCursor only on full pages', () => {
  const view = viewOf(doc(ROWS));
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 10; i++) {
    const p = page(view, `limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    seen.push(...keys(p.items));
    if (!p.nextCursor) break;
    assert.equal(p.items.length, 2);
    cursor = p.nextCursor;
  }
  assert.deepEqual(seen, ['io.a/alpha:1.0.0', 'io.a/alpha:2.0.0', 'io.a/alpha:2.0.0-rc.1', 'io.c/Gamma:1.0.0+build.5', 'io.c/gamma:1.0.0']);
  // data ending on a page boundary: one more request returns an empty page without a cursor
  const last = page(view, 'limit=1&cursor=io.c%2Fgamma%3A1.0.0');
  assert.deepEqual(last, { items: [] });
});

test('a cursor without a colon means names after it', () => {
  assert.deepEqual(keys(page(view(), 'cursor=io.a/alpha').items), ['io.c/Gamma:1.0.0+build.5', 'io.c/gamma:1.0.0']);
  function view() {
    return viewOf(doc(ROWS));
  }
});

test('filters: deleted hidden by default, search case-insensitive with literal _ and %, version latest/exact, updated_since strict', () => {
  const view = viewOf(doc(ROWS));
  assert.deepEqual(keys(page(view, 'include_deleted=true').items).length, 6);
  assert.deepEqual(keys(page(view, 'search=GAMMA').items), ['io.c/Gamma:1.0.0+build.5', 'io.c/gamma:1.0.0']);
  assert.deepEqual(keys(page(view, 'search=_&include_deleted=true').items), ['io.b/beta_x:0.1.0']);
  assert.deepEqual(keys(page(view, 'search=a_a').items), [], '_ is not a wildcard');
  assert.deepEqual(keys(page(view, 'search=%25').items), [], '% is not a wildcard');
  assert.deepEqual(keys(page(view, 'version=latest').items), ['io.a/alpha:2.0.0', 'io.c/Gamma:1.0.0+build.5', 'io.c/gamma:1.0.0']);
  assert.deepEqual(keys(page(view, 'version=1.0.0').items), ['io.a/alpha:1.0.0', 'io.c/gamma:1.0.0']);
  // strictly after, with microsecond precision, and deleted rows included
  assert.deepEqual(keys(page(view, 'updated_since=2025-03-01T00:00:00.000001Z').items), ['io.a/alpha:2.0.0']);
  assert.deepEqual(keys(page(view, 'updated_since=2025-03-01T00:00:00Z').items), ['io.a/alpha:2.0.0', 'io.b/beta_x:0.1.0']);
});

test('versions: newest published first, deleted only on request; latest and exact lookups', () => {
  const view = viewOf(doc(ROWS));
  assert.deepEqual(keys(versionsOf(view, 'io.a/alpha', false) as never), ['io.a/alpha:2.0.0', 'io.a/alpha:2.0.0-rc.1', 'io.a/alpha:1.0.0']);
  assert.equal(versionsOf(view, 'io.b/beta_x', false), null);
  assert.equal((versionsOf(view, 'io.b/beta_x', true) as never[]).length, 1);
  assert.equal(versionsOf(view, 'io.a/nope', true), null);
  assert.equal((versionOf(view, 'io.a/alpha', 'latest', false) as { version: string }).version, '2.0.0');
  assert.equal(versionOf(view, 'io.b/beta_x', 'latest', false), null);
  assert.equal((versionOf(view, 'io.b/beta_x', 'latest', true) as { version: string }).version, '0.1.0');
  assert.equal((versionOf(view, 'io.c/Gamma', '1.0.0+build.5', false) as { version: string }).version, '1.0.0+build.5');
  assert.equal(versionOf(view, 'io.c/gamma', '9.9.9', false), null);
  assert.equal(versionOf(view, 'IO.C/GAMMA', 'latest', false), null, 'names are case-sensitive on lookup');
});

test('a partial view answers what cannot change and says MORE otherwise', () => {
  const bytes = doc(ROWS);
  const view = new UpstreamView();
  // enough bytes for the first three elements
  const third = new TextDecoder().decode(bytes).indexOf('{"server":{"name":"io.b/beta_x"');
  view.feed(bytes.subarray(0, third + 10), false);
  assert.equal(view.length, 3);
  assert.deepEqual(keys((listPage(view, params('limit=2')) as { items: never[] }).items), ['io.a/alpha:1.0.0', 'io.a/alpha:2.0.0']);
  assert.equal(listPage(view, params('limit=5')), MORE);
  assert.equal(listPage(view, params('search=gamma')), MORE);
  assert.equal(versionsOf(view, 'io.a/alpha', false), MORE, 'more alpha versions could follow');
  assert.equal(versionOf(view, 'io.c/gamma', 'latest', false), MORE);
  view.feed(bytes, true);
  assert.ok(view.complete);
  assert.equal((versionsOf(view, 'io.a/alpha', false) as never[]).length, 3);
});

test('unsorted input is sorted when complete and never answered from a prefix; duplicates and invalid entries are skipped', () => {
  const rows = [ROWS[4]!, ROWS[0]!, ROWS[0]!, ROWS[1]!];
  const text = JSON.stringify({ servers: [...rows.map((r) => response(r)), { server: { name: 'x/y' } }] });
  const view = new UpstreamView();
  view.feed(new TextEncoder().encode(text), true, 2);
  assert.equal(listPage(view, params('limit=1')), MORE);
  while (view.feed(new TextEncoder().encode(text), true, 2));
  assert.ok(view.complete);
  assert.deepEqual(keys(Array.from({ length: view.length }, (_, i) => view.entry(i))), ['io.a/alpha:1.0.0', 'io.a/alpha:2.0.0', 'io.c/Gamma:1.0.0+build.5']);
  assert.equal(view.skipped.length, 2);
  assert.match(view.skipped.map((s) => s.reason).join('\n'), /duplicate version/);
  assert.match(view.skipped.map((s) => s.reason).join('\n'), /server.version/);
});

test('entries are served as their own compact bytes; extra keys in the official block are dropped', () => {
  const clean = response(ROWS[0]!);
  const dirty = response(ROWS[1]!, { internalNote: 'x' });
  const text = `{"servers":[${JSON.stringify(clean)},\n  ${JSON.stringify(dirty, null, 2)}]}`;
  const view = viewOf(new TextEncoder().encode(text));
  assert.equal(new TextDecoder().decode(view.bytes(0)), JSON.stringify(clean));
  const second = JSON.parse(new TextDecoder().decode(view.bytes(1)));
  assert.deepEqual(Object.keys(second._meta[OFFICIAL_META]).sort(), ['isLatest', 'publishedAt', 'status', 'updatedAt']);
  assert.ok(!new TextDecoder().decode(view.bytes(1)).includes('\n'));
});

test('a truncated document fails the view with a precise error', () => {
  const bytes = doc(ROWS);
  const view = new UpstreamView();
  view.feed(bytes.subarray(0, bytes.length - 40), true);
  assert.ok(view.failure);
  assert.match(view.failure!.message, /unexpected end of document inside servers\[5\]/);
});

test('a version whose JSON is broken inside the document is never served; escaped keys are understood', () => {
  const good = JSON.stringify(response(ROWS[0]!));
  const broken = JSON.stringify(response(ROWS[1]!)).replace('"description":', '"description":tru,"x":');
  const escaped = JSON.stringify(response(ROWS[4]!)).replace('"name":', '"n\\u0061me":');
  const view = viewOf(new TextEncoder().encode(`{"servers":[${good},${broken},${escaped}]}`));
  assert.equal(view.length, 3, 'framing and indexing do not need the whole document');
  assert.equal(view.name(2), 'io.c/Gamma');
  assert.deepEqual(keys(page(view, 'limit=10').items), ['io.a/alpha:1.0.0', 'io.c/Gamma:1.0.0+build.5']);
  assert.equal(versionOf(view, 'io.a/alpha', '2.0.0', false), null);
  assert.equal(view.skipped.length, 1);
  assert.match(view.skipped[0]!.reason, /not valid JSON/);
});
