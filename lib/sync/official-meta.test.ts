import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareEntries, markLatest, sortEntries } from './official-meta.ts';
import { planToolhiveEntries } from '../formats/registry-conversion.ts';
import type { ServerResponse } from '../formats/upstream-schema.ts';
import { generateUpstreamServers, Rng } from '../../test/bench/generate.ts';

/** an entry that remembers where it came from, so that the order of equal ones shows */
function e(name: string, version: string, tag: number): ServerResponse {
  return { server: { name, version, description: `#${tag}` } } as ServerResponse;
}

const tags = (list: readonly ServerResponse[]) => list.map((x) => `${x.server.name}@${x.server.version}${x.server.description}`);

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const rng = new Rng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

test('sortEntries puts entries in the order of a stable sort by compareEntries, whatever the input order', () => {
  const generated = generateUpstreamServers(3_000, { seed: 5 });
  const inputs: [string, ServerResponse[]][] = [
    ['grouped, names unsorted (as generated)', generated],
    ['sorted', [...generated].sort(compareEntries)],
    ['shuffled', shuffled(generated, 1)],
    ['reversed', [...generated].reverse()],
    ['a name in two runs, versions out of order, equal entries', [e('b/x', '1.10.0', 1), e('b/x', '1.9.0', 2), e('a/y', '2.0.0', 3), e('b/x', '1.10.0', 4), e('a/y', '10.0.0', 5), e('c/z', '1', 6), e('b/x', '1.0.0', 7)]],
    ['sorted names, versions out of order', [e('a/a', '2', 1), e('a/a', '10', 2), e('a/b', '1', 3), e('a/c', 'b', 4), e('a/c', 'a', 5)]],
    ['names that differ only in case and non-ASCII', [e('a/é', '1', 1), e('a/Z', '1', 2), e('a/z', '1', 3), e('A/z', '1', 4), e('a/😀', '1', 5), e('a/\uffff', '1', 6)]],
    ['one entry', [e('a/a', '1', 1)]],
    ['none', []],
  ];
  for (const [what, input] of inputs) {
    const expected = tags([...input].sort(compareEntries));
    const list = [...input];
    assert.equal(sortEntries(list), list, 'sorts in place');
    assert.deepEqual(tags(list), expected, what);
  }
});

test('the ToolHive plan does not depend on the order the versions come in', () => {
  const generated = generateUpstreamServers(2_000, { seed: 9 });
  const plan = (items: ServerResponse[]) => {
    const p = planToolhiveEntries(items);
    const entries = (list: typeof p.servers) => list.map((x) => `${x.key}=${x.server.name}@${x.server.version}`);
    return { servers: entries(p.servers), remote_servers: entries(p.remote_servers), skipped: p.skipped.map((s) => s.server).sort() };
  };
  const reference = plan([...generated].sort(compareEntries));
  assert.ok(reference.servers.length > 100 && reference.remote_servers.length > 100, 'both kinds of entry');
  assert.deepEqual(plan(generated), reference, 'grouped');
  assert.deepEqual(plan(shuffled(generated, 2)), reference, 'shuffled');
});

test('sortEntries with markLatest marks each name as markLatest does after a sort', () => {
  const generated = generateUpstreamServers(3_000, { seed: 6 });
  // flags as sources get them wrong: none, several, on an old version
  generated.forEach((x, i) => {
    const official = x._meta?.['io.modelcontextprotocol.registry/official'];
    if (official) official.isLatest = i % 5 === 0 ? true : i % 7 === 0 ? false : official.isLatest;
  });
  const latest = (list: readonly ServerResponse[]) => list.map((x) => `${x.server.name}@${x.server.version}:${String(x._meta?.['io.modelcontextprotocol.registry/official']?.isLatest)}`);
  for (const input of [generated, shuffled(generated, 3)]) {
    const expected = latest(markLatest(structuredClone(input).sort(compareEntries)));
    assert.deepEqual(latest(sortEntries(structuredClone(input), { markLatest: true })), expected);
  }
});
