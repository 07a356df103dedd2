import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { fastCheck, UnsupportedSchema } from './fast-check.ts';
import { ServerJson, ServerResponse } from './upstream-schema.ts';
import { ImageMetadata, RemoteServerMetadata } from './toolhive-schema.ts';
import { generateToolhiveRegistry, generateUpstreamServers, Rng } from '../../test/bench/generate.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/real');
const fixture = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>;

const toolhive = fixture('toolhive-registry.2026-02-20.json') as { servers: Record<string, unknown>; remote_servers: Record<string, unknown> };
const generatedToolhive = generateToolhiveRegistry(300, { seed: 4 });
const upstreamFiles = ['thv-registry-server-upstream-registry.json', 'toolhive-example-upstream-with-remotes.json'].flatMap((f) => (fixture(f) as { data: { servers: unknown[] } }).data.servers);
const responses = generateUpstreamServers(1_500, { seed: 8 });

const CASES: { name: string; schema: z.ZodType; valid: unknown[] }[] = [
  { name: 'ServerResponse', schema: ServerResponse, valid: [...responses, ...upstreamFiles.map((server) => ({ server }))] },
  { name: 'ServerJson', schema: ServerJson, valid: [...upstreamFiles, ...responses.map((r) => r.server)] },
  { name: 'ImageMetadata', schema: ImageMetadata, valid: [...Object.values(toolhive.servers), ...Object.values(generatedToolhive.servers ?? {})] },
  { name: 'RemoteServerMetadata', schema: RemoteServerMetadata, valid: [...Object.values(toolhive.remote_servers), ...Object.values(generatedToolhive.remote_servers ?? {})] },
];

/** every [parent, key] in a JSON value, the root's slot included */
function slots(root: { v: unknown }): [Record<string | number, unknown>, string | number][] {
  const out: [Record<string | number, unknown>, string | number][] = [[root as Record<string, unknown>, 'v']];
  const stack: unknown[] = [root.v];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    for (const key of Object.keys(node)) {
      const k = Array.isArray(node) ? Number(key) : key;
      out.push([node as Record<string | number, unknown>, k]);
      stack.push((node as Record<string, unknown>)[key]);
    }
  }
  return out;
}

const ODD_VALUES: unknown[] = [null, 0, -1, 1.5, Number.MAX_SAFE_INTEGER + 2, true, 'true', '', 'x', 'ab', 'a/b', 'io.x/y', '\ud83d\ude00', '\ud83d\ude00\ud83d\ude00', '\ud83d', 'not a name', 'https://', 'http://x', 'stdio', 'sse', 'streamable-http', 'oci', 'named', 'positional', 'deprecated', 'Active', 'x'.repeat(201), '\ud83d\ude00'.repeat(150), 'y'.repeat(4097), [], [1], ['a'], {}, { type: 'stdio' }, { name: 'X', value: 'y' }];

/** a value of the same shape with one to three random edits: keys removed, values replaced, keys added */
function mutate(value: unknown, rng: Rng): unknown {
  const root = { v: structuredClone(value) };
  const edits = rng.int(1, 3);
  for (let i = 0; i < edits; i++) {
    const all = slots(root);
    const [parent, key] = rng.pick(all);
    const r = rng.next();
    if (r < 0.25 && !Array.isArray(parent) && parent !== (root as unknown)) delete parent[key];
    else if (r < 0.35 && typeof parent[key] === 'string') parent[key] = `${parent[key] as string}${rng.pick(['\ud83d\ude00', ' ', '/', '-x'])}`;
    else if (r < 0.45 && typeof parent[key] === 'object' && parent[key] !== null && !Array.isArray(parent[key])) (parent[key] as Record<string, unknown>)[rng.pick(['extra', 'type', 'name', 'url', '__proto__'])] = rng.pick(ODD_VALUES);
    else parent[key] = structuredClone(rng.pick(ODD_VALUES));
  }
  return root.v;
}

for (const c of CASES) {
  test(`${c.name}: the fast check passes the valid entries, and passes nothing the schema refuses`, () => {
    const check = fastCheck(c.schema);
    assert.ok(c.valid.length > 10, 'enough valid entries');
    for (const v of c.valid) {
      assert.equal(c.schema.safeParse(v).success, true, 'a valid entry');
      assert.equal(check(v), true, `the fast check passes ${JSON.stringify(v).slice(0, 200)}`);
    }
    const rng = new Rng(c.name.length * 7919);
    let refused = 0;
    let passed = 0;
    for (let i = 0; i < 4_000; i++) {
      const v = mutate(rng.pick(c.valid), rng);
      const ok = c.schema.safeParse(v).success;
      if (check(v)) {
        passed++;
        assert.equal(ok, true, `the fast check passed what the schema refuses: ${JSON.stringify(v).slice(0, 400)}`);
      } else if (!ok) refused++;
    }
    // the edits make both kinds: the test would notice a check that passes everything or nothing
    assert.ok(refused > 500 && passed > 500, `refused ${refused}, passed ${passed}`);
  });
}

test('the fast check counts string lengths in code points, as zod does', () => {
  const schema = z.looseObject({ s: z.string().min(2).max(3) });
  const check = fastCheck(schema);
  for (const s of ['ab', 'abc', '\ud83d\ude00\ud83d\ude00', '\ud83d\ude00a', 'a\ud83d\ude00\ud83d\ude00', '\ud83d\ude00\ud83d\ude00\ud83d\ude00', 'a', '\ud83d\ude00', 'abcd', '\ud83d\ud83d', '\ud83d']) {
    const accepted = schema.safeParse({ s }).success;
    // where zod accepts, the check may pass or defer; where zod refuses, it must not pass
    if (!accepted) assert.equal(check({ s }), false, JSON.stringify(s));
    else assert.equal(check({ s }), true, `${JSON.stringify(s)}: no doubt left once counted`);
  }
});

test('schemas with what the fast check does not model are refused at generation', () => {
  for (const schema of [
    z.strictObject({ a: z.string() }),
    z.union([z.string(), z.number()]),
    z.string().refine((s) => s !== 'x'),
    z.string().email(),
    z.looseObject({ a: z.date() }),
    z.record(z.enum(['a', 'b']), z.string()),
    z.discriminatedUnion('t', [z.looseObject({ t: z.enum(['a', 'b']) }), z.looseObject({ t: z.literal('c') })]),
  ]) {
    assert.throws(() => fastCheck(schema as z.ZodType), UnsupportedSchema);
  }
});
