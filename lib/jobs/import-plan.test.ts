import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseRegistryDocument } from '../formats/parse.ts';
import { officialServerValidator, readJson, REAL_TOOLHIVE, schemaErrors, upstreamFileValidator } from '../../test/formats/support.ts';
import { planImport, summarizeImport, type ServerReport } from './import-plan.ts';

const DATA = join(import.meta.dirname, 'testdata');
const text = (file: string) => readFileSync(join(DATA, file), 'utf8');
const parse = (t: string, file = 'doc.json') => parseRegistryDocument(t, { file, mode: 'lenient' });
const incoming = parse(text('incoming-toolhive.json'), 'incoming-toolhive.json');
const targetText = text('target-toolhive.json');
const existing = { document: parse(targetText, 'target-toolhive.json'), text: targetText };
const NOW = '2026-03-01T00:00:00Z';
const outcomes = (r: ServerReport[]) => Object.fromEntries(r.map((s) => [s.server, s.outcome]));

describe('planImport', () => {
  it('merge adds new servers, updates changed ones, keeps the rest, and skips invalid entries with the reason', () => {
    const plan = planImport({ incoming, existing, mode: 'merge', now: NOW });
    assert.deepEqual(outcomes(plan.report), { fetch: 'updated', postgres: 'added', redis: 'unchanged', 'notion-remote': 'added', 'local-only': 'kept', broken: 'skipped' });
    assert.deepEqual(plan.counts, { added: 2, updated: 1, unchanged: 1, kept: 1, removed: 0, skippedInvalid: 1, skippedFiltered: 0, total: 5 });
    const broken = plan.report.find((s) => s.server === 'broken');
    assert.match(broken?.reason ?? '', /^invalid: servers\.broken/);
    const doc = plan.document as { servers: Record<string, { image: string }>; remote_servers: Record<string, unknown>; last_updated: string };
    assert.deepEqual(Object.keys(doc.servers), ['fetch', 'local-only', 'postgres', 'redis']);
    assert.deepEqual(Object.keys(doc.remote_servers), ['notion-remote']);
    assert.equal(doc.servers.fetch?.image, 'ghcr.io/stackloklabs/gofetch/server:0.0.2');
    assert.equal(doc.last_updated, NOW);
    assert.equal(plan.changed, true);
    assert.equal(plan.text, `${JSON.stringify(plan.document, null, 2)}\n`);
  });

  it('replace drops the servers the import does not have', () => {
    const plan = planImport({ incoming, existing, mode: 'replace', now: NOW });
    assert.equal(outcomes(plan.report)['local-only'], 'removed');
    assert.equal(plan.counts.removed, 1);
    assert.equal(plan.counts.total, 4);
    assert.ok(!('local-only' in (plan.document as { servers: object }).servers));
  });

  it('a filter skips servers with the reason "filtered out", and the counts say so', () => {
    const plan = planImport({ incoming, existing: null, mode: 'merge', filter: { include: { tags: ['database'] } }, now: NOW });
    assert.deepEqual(outcomes(plan.report), { postgres: 'added', redis: 'added', fetch: 'skipped', 'notion-remote': 'skipped', broken: 'skipped' });
    assert.equal(plan.report.find((s) => s.server === 'fetch')?.reason, 'filtered out');
    assert.equal(plan.counts.skippedFiltered, 2);
    assert.equal(plan.counts.skippedInvalid, 1);
  });

  it('running the same import again changes nothing: same bytes, the old timestamp, changed=false', () => {
    const first = planImport({ incoming, existing, mode: 'merge', now: NOW });
    const again = planImport({ incoming, existing: { document: parse(first.text), text: first.text }, mode: 'merge', now: '2026-04-01T00:00:00Z' });
    assert.equal(again.changed, false);
    assert.equal(again.text, first.text);
    assert.equal(again.counts.added + again.counts.updated + again.counts.removed, 0);
  });

  it('converts to upstream: a schema-valid file envelope, one outcome per name and version', () => {
    const plan = planImport({ incoming, existing: null, mode: 'merge', convertTo: 'upstream', now: NOW });
    assert.equal(plan.format, 'upstream');
    const validate = upstreamFileValidator();
    assert.ok(validate(plan.document), schemaErrors(validate));
    const servers = (plan.document as { data: { servers: Array<{ name: string }> } }).data.servers;
    assert.deepEqual(servers.map((s) => s.name), ['io.github.stacklok/fetch', 'io.github.stacklok/notion-remote', 'io.github.stacklok/postgres', 'io.github.stacklok/redis']);
    const official = officialServerValidator();
    for (const s of servers) assert.ok(official(s), schemaErrors(official));
    assert.ok(plan.report.filter((r) => r.outcome === 'added').every((r) => r.version === '1.0.0'));
  });

  it('imports the real ToolHive registry into an upstream target and back into toolhive with every server accounted for', () => {
    const real = parse(readFileSync(REAL_TOOLHIVE, 'utf8'), 'real.json');
    const realCount = Object.keys(readJson<{ servers: object }>(REAL_TOOLHIVE).servers).length + Object.keys(readJson<{ remote_servers: object }>(REAL_TOOLHIVE).remote_servers).length;
    const up = planImport({ incoming: real, existing: null, mode: 'replace', convertTo: 'upstream', now: NOW });
    assert.equal(up.counts.added, realCount);
    const back = planImport({ incoming: parse(up.text), existing: null, mode: 'replace', convertTo: 'toolhive', now: NOW });
    assert.equal(back.counts.total, realCount);
    assert.equal(back.report.length, realCount);
  });

  it('summarizes in one line', () => {
    const plan = planImport({ incoming, existing, mode: 'merge', now: NOW });
    assert.equal(summarizeImport(plan.counts, true), 'would write 5 servers: 2 added, 1 updated, 1 unchanged, 1 kept, 0 removed, 1 skipped (1 invalid, 0 filtered)');
  });
});
