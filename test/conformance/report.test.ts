/**
 * The conformance suite's judge (scripts/conformance/report.ts): failures read from
 * schemathesis's NDJSON events, and the reviewed allow-list accepting exactly what each entry
 * says and nothing more. The NDJSON lines have the shape schemathesis 4 writes
 * (`--report ndjson`: one `{"ScenarioFinished": {…}}` per scenario).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { allowedBy, failuresOf, judge, parseAllowList, type Failure } from '../../scripts/conformance/report.ts';

const ALLOW_LIST = join(import.meta.dirname, 'allow-list.json');

function scenario(label: string, uri: string, status: number, contentType: string, body: unknown, failed: Array<{ code: string; title: string }>): string {
  return JSON.stringify({
    ScenarioFinished: {
      id: 'x',
      status: 'failure',
      recorder: {
        label,
        cases: {},
        checks: {
          c1: [
            { name: 'not_a_server_error', status: 'success' },
            ...failed.map((f) => ({ name: 'check', status: 'failure', failure_info: { failure: { type: 'T', code: f.code, operation: label, title: f.title, message: `${f.title}\nmore`, case_id: null, severity: 'medium' } } })),
          ],
        },
        interactions: {
          c1: {
            request: { method: 'GET', uri, headers: {} },
            response: { status_code: status, headers: { 'content-type': [contentType] }, content: { $base64: Buffer.from(JSON.stringify(body)).toString('base64') }, elapsed: 0.01 },
          },
        },
      },
    },
  });
}

const conflict = scenario(
  'GET /v0.1/servers',
  'http://127.0.0.1:1/registries/default/x/v0.1/servers?include_deleted=false&updated_since=2025-08-07T13%3A15%3A04.280Z',
  400,
  'application/problem+json',
  { title: 'Bad Request', status: 400, detail: 'Cannot set include_deleted=false when using updated_since' },
  [{ code: 'ST103', title: 'Undocumented status code' }, { code: 'ST202', title: 'Schema-valid request rejected' }],
);
const badLimit = scenario('GET /v0.1/servers', 'http://127.0.0.1:1/v0.1/servers?limit=0', 422, 'application/problem+json', { status: 422, errors: [{ message: 'expected number >= 1', location: 'query.limit', value: 0 }] }, [
  { code: 'ST202', title: 'Schema-valid request rejected' },
]);
const notFound = scenario('GET /v0.1/servers/{serverName}/versions', 'http://127.0.0.1:1/v0.1/servers/a%2Fb/versions', 404, 'application/problem+json; charset=utf-8', { status: 404 }, [{ code: 'ST105', title: 'Undocumented Content-Type' }]);

test('failuresOf: one failure per failed check, with the request and response it saw; passed checks and other events are not failures', () => {
  const ndjson = [JSON.stringify({ PhaseStarted: { phase: 'examples' } }), conflict, badLimit, ''].join('\n');
  const failures = failuresOf(ndjson, 'official', '/registries/default/x');
  assert.equal(failures.length, 3);
  const [first] = failures;
  assert.equal(first!.operation, 'GET /v0.1/servers');
  assert.equal(first!.code, 'ST103');
  assert.equal(first!.status, 400);
  assert.equal(first!.contentType, 'application/problem+json');
  assert.deepEqual(first!.query, { include_deleted: 'false', updated_since: '2025-08-07T13:15:04.280Z' });
  assert.match(first!.body!, /Cannot set include_deleted=false/);
  // the same failure twice (a scenario repeated in another phase) counts once
  assert.equal(failuresOf([conflict, conflict].join('\n'), 'official', 't').length, 2);
});

test('failuresOf: an error of the run is a failure no entry can accept', async () => {
  const list = parseAllowList(await readFile(ALLOW_LIST, 'utf8'), 'allow-list.json');
  const failures = failuresOf(JSON.stringify({ NonFatalError: { label: 'GET /v0.1/servers', info: { title: 'Network Error', message: 'Connection refused' } } }), 'ours', '/');
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.code, 'error');
  assert.equal(judge(failures, list).unexpected.length, 1);
});

test('the reviewed allow-list accepts the official spec gaps it names, each only under its conditions', async () => {
  const list = parseAllowList(await readFile(ALLOW_LIST, 'utf8'), 'allow-list.json');
  const failures = failuresOf([conflict, badLimit, notFound].join('\n'), 'official', '/');
  const verdict = judge(failures, list);
  assert.deepEqual(verdict.unexpected, []);
  assert.deepEqual(verdict.allowed.map((a) => a.entry.id), ['include-deleted-false-with-updated-since', 'include-deleted-false-with-updated-since', 'invalid-parameter-422', 'problem-json-errors']);

  const base = failures[0]!;
  const variant = (change: Partial<Failure>) => allowedBy({ ...base, ...change }, list)?.id;
  // a 400 for another reason, a 500, another check, a 422 on another parameter: not accepted
  assert.equal(variant({ query: { updated_since: '2025-08-07T13:15:04.280Z' } }), undefined);
  assert.equal(variant({ query: { include_deleted: 'false', updated_since: '' } }), undefined);
  assert.equal(variant({ status: 500 }), undefined);
  assert.equal(variant({ code: 'ST201' }), undefined);
  const limit = failures.find((f) => f.status === 422)!;
  assert.equal(allowedBy({ ...limit, body: JSON.stringify({ errors: [{ location: 'query.cursor' }] }) }, list), undefined);
  assert.equal(allowedBy({ ...limit, body: JSON.stringify({ errors: [{ location: 'query.limit' }, { location: 'query.cursor' }] }) }, list), undefined);
  assert.equal(allowedBy({ ...limit, spec: 'ours' }, list), undefined, 'our spec documents the 422');
  // problem+json is allowed for the official spec only
  const problem = failures.find((f) => f.code === 'ST105')!;
  assert.equal(allowedBy({ ...problem, spec: 'ours' }, list), undefined);
  assert.equal(allowedBy({ ...problem, contentType: 'text/plain' }, list), undefined);
});

test('parseAllowList: every entry needs an id, a reason, specs, check codes and a condition', () => {
  const entry = { id: 'a', reason: 'the official spec says nothing about this at all', specs: ['official'], checks: ['ST103'], status: 400 };
  const parse = (allowed: unknown[], excluded: unknown[] = []) => parseAllowList(JSON.stringify({ allowed, excluded }), 'f.json');
  assert.equal(parse([entry]).allowed.length, 1);
  assert.throws(() => parse([{ ...entry, reason: 'because' }]), /f\.json: allowed\[0\] \(a\): the reason must say why/);
  assert.throws(() => parse([entry, entry]), /duplicate id a/);
  assert.throws(() => parse([{ ...entry, specs: ['theirs'] }]), /specs must list official and\/or ours/);
  assert.throws(() => parse([{ ...entry, checks: [] }]), /checks must list check codes/);
  const { status: _status, ...broad } = entry;
  assert.throws(() => parse([broad]), /too broad/);
  assert.throws(() => parse([], [{ spec: 'ours', operation: '/events', reason: 'the reason for it is long enough' }]), /operation must be "METHOD \/path"/);
  assert.throws(() => parseAllowList('{}', 'f.json'), /needs "excluded" and "allowed" arrays/);
});

test('emptyParameter and repeatedParameter accept a failure only for the parameter schemathesis names, sent empty once or sent twice', async () => {
  const list = parseAllowList(await readFile(ALLOW_LIST, 'utf8'), 'allow-list.json');
  const accepted = (uri: string, parameter: string) => {
    const ndjson = scenario('GET /v0.1/servers', uri, 200, 'application/json', { servers: [] }, [{ code: 'ST201', title: 'Schema-violating request accepted' }]);
    const [f] = failuresOf(ndjson, 'official', '/');
    return allowedBy({ ...f!, message: `Invalid data should have been rejected\nInvalid component: parameter \`${parameter}\` in query - violates \`type\`` }, list)?.id;
  };
  assert.equal(accepted('http://h/v0.1/servers?include_deleted=', 'include_deleted'), 'empty-parameter-is-none');
  assert.equal(accepted('http://h/v0.1/servers?limit=&search=x', 'limit'), 'empty-parameter-is-none');
  assert.equal(accepted('http://h/v0.1/servers?offset=1&offset=x', 'offset'), 'repeated-parameter-first-counts');
  // the named parameter is not the empty or repeated one, or it was sent with a value: not accepted
  assert.equal(accepted('http://h/v0.1/servers?include_deleted=&limit=abc', 'limit'), undefined);
  assert.equal(accepted('http://h/v0.1/servers?include_deleted=maybe', 'include_deleted'), undefined);
  assert.equal(accepted('http://h/v0.1/servers?limit=', 'include_deleted'), undefined);
});
