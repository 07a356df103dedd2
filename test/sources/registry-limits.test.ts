/**
 * The registry source's memory bounds across a walk, against a plain loopback HTTP server that
 * serves as many pages as asked: the byte limit holds for all pages together, cursors are
 * capped in length, and the repeated-cursor guard keeps digests, not cursors.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CursorGuard, MAX_CURSOR_LENGTH } from '../../lib/sources/cursor-guard.ts';
import { createRegistrySource } from '../../lib/sources/registry.ts';
import { rejectsWith, testContext } from './helpers.ts';

interface Pager {
  pages: number;
  /** bytes of padding in each entry's description */
  pad: number;
  cursor: (page: number) => string;
}

describe('registry source: bounds across pages', () => {
  let server: Server;
  let url: string;
  const requested: number[] = [];
  const pager: Pager = { pages: 40, pad: 0, cursor: (p) => `c${p}` };
  before(async () => {
    server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const cursor = u.searchParams.get('cursor');
      let page = 1;
      if (cursor !== null) for (let p = 1; p <= pager.pages; p++) if (pager.cursor(p) === cursor) page = p + 1;
      requested.push(page);
      const servers = [{ server: { name: `io.test/s${page}`, version: '1.0.0', description: 'x'.repeat(pager.pad) }, _meta: {} }];
      const metadata = page < pager.pages ? { nextCursor: pager.cursor(page), count: 1 } : { count: 1 };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ servers, metadata }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v0.1`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  const source = () => createRegistrySource({ url, allowHttp: true, fullSyncEvery: 10 });
  const serve = (o: Partial<Pager>) => {
    Object.assign(pager, { pages: 40, pad: 0, cursor: (p: number) => `c${p}` }, o);
    requested.length = 0;
  };

  it('MCPREG_FETCH_MAX_BYTES bounds the sum of all pages, naming the page that passed it', async () => {
    // 40 pages of ~100 KB each, each far below the 1 MiB limit; together ~4 MB
    serve({ pages: 40, pad: 100_000 });
    const e = await rejectsWith(source().fetch(testContext({ policy: { maxBytes: 1024 * 1024 } })), 'too_large');
    assert.match(e.message, /^page 11 took the walk past 1048576 bytes for all pages together \(MCPREG_FETCH_MAX_BYTES; \d+ bytes in pages 1–10\)$/);
    assert.equal(e.where?.path, 'page 11');
    assert.deepEqual(requested, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 'stopped at the page that passed the limit');
    // within the limit the same walk succeeds
    serve({ pages: 40, pad: 1_000 });
    const r = await source().fetch(testContext({ policy: { maxBytes: 1024 * 1024 } }));
    assert.equal(r.kind, 'entries');
    assert.equal(r.kind === 'entries' ? r.entries.length : 0, 40);
  });

  it(`a cursor longer than ${MAX_CURSOR_LENGTH} characters is refused, naming the page`, async () => {
    serve({ pages: 3, cursor: (p) => (p === 2 ? 'x'.repeat(MAX_CURSOR_LENGTH + 1) + p : `c${p}`) });
    const e = await rejectsWith(source().fetch(testContext()), 'invalid_document');
    assert.equal(e.message, `page 2's metadata.nextCursor is ${MAX_CURSOR_LENGTH + 2} characters, over the ${MAX_CURSOR_LENGTH} a cursor may have; stopped walking`);
    assert.equal(e.where?.path, 'page 2');
    assert.deepEqual(requested, [1, 2]);
    // a cursor of exactly the bound is followed
    serve({ pages: 3, cursor: (p) => 'y'.repeat(MAX_CURSOR_LENGTH - 1) + p });
    const r = await source().fetch(testContext());
    assert.equal(r.kind === 'entries' ? r.entries.length : 0, 3);
  });

  it('300 maximal cursors are walked and the guard holds digests only', async () => {
    serve({ pages: 300, cursor: (p) => String(p).padStart(MAX_CURSOR_LENGTH, 'z') });
    const r = await source().fetch(testContext());
    assert.equal(r.kind === 'entries' ? r.entries.length : 0, 300);
    const guard = new CursorGuard();
    for (let p = 1; p <= 300; p++) assert.equal(guard.add(String(p).padStart(MAX_CURSOR_LENGTH, 'z')), true);
    assert.equal(guard.add(String(7).padStart(MAX_CURSOR_LENGTH, 'z')), false, 'a repeated cursor is recognised');
    assert.equal(guard.size, 300);
    assert.equal(guard.heldChars, 300 * 44, 'a 44-character digest per cursor, not 4 KiB');
  });
});
