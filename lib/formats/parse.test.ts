import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRegistryError } from '../errors.ts';
import { detectFormat, detectShape } from './detect.ts';
import { parseRegistryDocument, parseRegistryValue } from './parse.ts';

const server = (name: string, version = '1.0.0', extra: Record<string, unknown> = {}) => ({
  name,
  description: 'A server',
  version,
  packages: [{ registryType: 'npm', identifier: `@x/${name.split('/')[1]}`, version, transport: { type: 'stdio' } }],
  ...extra,
});
const official = (isLatest: boolean) => ({ 'io.modelcontextprotocol.registry/official': { status: 'active', publishedAt: '2025-10-01T00:00:00Z', updatedAt: '2025-10-01T00:00:00Z', isLatest } });

describe('detectFormat', () => {
  it('tells the shapes apart', () => {
    assert.equal(detectShape({ servers: {} }), 'toolhive');
    assert.equal(detectShape({ remote_servers: { a: {} } }), 'toolhive');
    assert.equal(detectShape({ servers: [] }), 'list');
    assert.equal(detectShape({ version: '1', meta: {}, data: { servers: [] } }), 'file');
    assert.equal(detectShape(server('io.github.a/b')), 'server');
    assert.equal(detectShape({ server: server('io.github.a/b'), _meta: {} }), 'response');
    assert.equal(detectShape([server('io.github.a/b')]), 'array');
    assert.equal(detectShape([]), 'array');
    assert.equal(detectFormat({ servers: [] }), 'upstream');
    assert.equal(detectFormat({ servers: {} }), 'toolhive');
  });
  it('says what it saw when neither fits', () => {
    assert.throws(() => detectFormat({ servers: 'x' }), (e: unknown) => isRegistryError(e) && e.code === 'unknown_format' && /where "servers" is "x"/.test(e.message));
    assert.throws(() => detectFormat(null), (e: unknown) => isRegistryError(e) && /found null/.test(e.message));
  });
});

describe('parseRegistryDocument', () => {
  it('reads the registry API list envelope, keeping entries as they are', () => {
    const doc = { servers: [{ server: server('io.github.a/b', '1.0.0'), _meta: official(false) }, { server: server('io.github.a/b', '1.1.0'), _meta: official(true) }], metadata: { count: 2, nextCursor: 'x' } };
    const parsed = parseRegistryDocument(JSON.stringify(doc), { mode: 'strict' });
    assert.equal(parsed.format, 'upstream');
    assert.equal(parsed.shape, 'list');
    assert.deepEqual(parsed.servers, doc.servers);
  });

  it('reads a single server.json, a single response and a bare array', () => {
    assert.deepEqual(parseRegistryDocument(JSON.stringify(server('io.github.a/b')), { mode: 'strict' }).servers, [{ server: server('io.github.a/b') }]);
    const response = { server: server('io.github.a/b'), _meta: official(true) };
    assert.deepEqual(parseRegistryDocument(JSON.stringify(response), { mode: 'strict' }).servers, [response]);
    const array = parseRegistryDocument(JSON.stringify([server('io.github.a/b'), response, server('io.github.a/c')]), { mode: 'lenient' });
    assert.equal(array.shape, 'array');
    // b 1.0.0 appears twice (once bare, once as a response): both are left out
    assert.deepEqual(array.servers.map((s) => s.server.name), ['io.github.a/c']);
    assert.deepEqual(array.invalid.map((p) => [p.path, p.code]), [['[0]', 'duplicate_name'], ['[1]', 'duplicate_name']]);
  });

  it('finds a repeated version of a name wherever it is: next to it, in a long run, or in another run of the name', () => {
    const list = (versions: [string, string][]) => JSON.stringify({ servers: versions.map(([n, v]) => ({ server: server(n, v) })) });
    const dupes = (versions: [string, string][]) => parseRegistryDocument(list(versions), { mode: 'lenient' }).invalid.map((p) => p.path);
    const many = (name: string, n: number): [string, string][] => Array.from({ length: n }, (_, i) => [name, `1.0.${i}`]);
    assert.deepEqual(dupes([...many('io.x/a', 3), ...many('io.x/b', 4)]), []);
    assert.deepEqual(dupes([['io.x/a', '1'], ['io.x/a', '2'], ['io.x/a', '1'], ['io.x/b', '1']]), ['servers[0]', 'servers[2]']);
    const long = many('io.x/a', 40);
    assert.deepEqual(dupes([...long, ['io.x/a', '1.0.7'], ...many('io.x/b', 20)]), ['servers[7]', 'servers[40]']);
    assert.deepEqual(dupes([...many('io.x/b', 20), ...long]), []);
    assert.deepEqual(dupes([['io.x/a', '1'], ['io.x/b', '1'], ['io.x/a', '2'], ['io.x/c', '1'], ['io.x/a', '1']]), ['servers[0]', 'servers[4]']);
    assert.deepEqual(dupes([['io.x/a', '1'], ['io.x/b', '1'], ['io.x/a', '2']]), []);
  });

  it('keeps unknown fields everywhere', () => {
    const doc = { servers: { a: { image: 'x', description: 'd', x_future: { y: 1 }, env_vars: [{ name: 'A', x_flag: true }] } }, x_top: 1 };
    const parsed = parseRegistryDocument(JSON.stringify(doc), { mode: 'strict' });
    assert.deepEqual(parsed.toolhive, doc);
    const up = { servers: [{ server: server('io.github.a/b', '1.0.0', { x_new: [1], packages: [{ registryType: 'oci', identifier: 'x', transport: { type: 'stdio', x_t: 1 }, x_p: 2 }] }), _meta: { x_m: 1 } }] };
    assert.deepEqual(parseRegistryDocument(JSON.stringify(up), { mode: 'strict' }).servers, up.servers);
  });

  it('strict mode throws the first problem with file, path and server; lenient lists them all', () => {
    const doc = {
      servers: {
        good: { image: 'ghcr.io/a/good:1', description: 'fine' },
        bad1: { image: 'ghcr.io/a/bad:1', description: 'x', transport: 'carrier-pigeon' },
        bad2: { description: 'no image', env_vars: [{ description: 'no name' }] },
      },
    };
    assert.throws(
      () => parseRegistryDocument(JSON.stringify(doc), { mode: 'strict', file: 'reg.json' }),
      (e: unknown) => isRegistryError(e) && e.code === 'invalid_document' && e.where.file === 'reg.json' && e.where.path === 'servers.bad1.transport' && e.where.server === 'bad1' && /"carrier-pigeon" is not one of "stdio", "sse", "streamable-http"/.test(e.message),
    );
    const lenient = parseRegistryDocument(JSON.stringify(doc), { mode: 'lenient' });
    assert.deepEqual(Object.keys(lenient.toolhive?.servers ?? {}), ['good']);
    assert.deepEqual(lenient.servers.map((s) => s.server.name), ['io.github.stacklok/good']);
    assert.deepEqual(lenient.invalid.map((p) => `${p.server} ${p.path}: ${p.message}`), [
      'bad1 servers.bad1.transport: "carrier-pigeon" is not one of "stdio", "sse", "streamable-http"',
      'bad2 servers.bad2.image: required field is missing (expected string)',
      'bad2 servers.bad2.env_vars[0].name: required field is missing (expected string)',
    ]);
  });

  it('ToolHive entries that cannot be published upstream are invalid: bad names, non-http remote URLs, no description', () => {
    const doc = {
      servers: {
        'my server': { image: 'x', description: 'd' },
        named: { image: 'x', description: 'd', name: 'a/b/c' },
        empty: { image: 'x', description: '' },
        fine: { image: 'x', description: 'd' },
      },
      remote_servers: { ftp: { url: 'ftp://files.example', description: 'd' } },
    };
    const parsed = parseRegistryDocument(JSON.stringify(doc), { mode: 'lenient' });
    assert.deepEqual(Object.keys(parsed.toolhive?.servers ?? {}), ['fine']);
    assert.deepEqual(parsed.invalid.map((p) => `${p.path}: ${p.message}`), [
      'servers["my server"]: "io.github.stacklok/my server" is not a valid upstream server name (a reverse-DNS namespace and a name of letters, digits, ".", "_" or "-", separated by one "/")',
      'servers.named.name: "a/b/c" is not a valid upstream server name (a reverse-DNS namespace and a name of letters, digits, ".", "_" or "-", separated by one "/")',
      'servers.empty.description: must not be empty',
      'remote_servers.ftp.url: must be an http(s) URL (found "ftp://files.example")',
    ]);
  });

  it('two entries that would share an upstream name are both left out', () => {
    const doc = { servers: { a: { image: 'x', description: 'd', name: 'com.acme/tool' }, b: { image: 'y', description: 'd', name: 'com.acme/tool' }, c: { image: 'z', description: 'd' } } };
    const parsed = parseRegistryDocument(JSON.stringify(doc), { mode: 'lenient' });
    assert.deepEqual(Object.keys(parsed.toolhive?.servers ?? {}), ['c']);
    assert.deepEqual(parsed.invalid.map((p) => [p.server, p.code]), [['a', 'duplicate_name'], ['b', 'duplicate_name']]);
  });

  it('a malformed envelope fails in both modes', () => {
    for (const mode of ['strict', 'lenient'] as const) {
      assert.throws(
        () => parseRegistryDocument(JSON.stringify({ version: 5, servers: {} }), { mode }),
        (e: unknown) => isRegistryError(e) && e.code === 'invalid_document' && e.where.path === 'version' && /expected string, found number 5/.test(e.message),
      );
      assert.throws(
        () => parseRegistryDocument(JSON.stringify({ servers: [], metadata: { count: -1 } }), { mode }),
        (e: unknown) => isRegistryError(e) && e.where.path === 'metadata.count',
      );
    }
  });

  it('a forced format that does not fit says what was found', () => {
    assert.throws(
      () => parseRegistryDocument(JSON.stringify({ servers: [] }), { mode: 'strict', format: 'toolhive' }),
      (e: unknown) => isRegistryError(e) && e.code === 'invalid_document' && /expected a ToolHive registry .* found an upstream document, an object with keys "servers"/.test(e.message),
    );
    assert.equal(parseRegistryDocument(JSON.stringify({ servers: {} }), { mode: 'strict', format: 'toolhive' }).format, 'toolhive');
  });

  it('groups: ToolHive groups keep their valid members, upstream file groups too', () => {
    const doc = { servers: {}, groups: [{ name: 'g', description: 'a group', servers: { a: { image: 'x', description: 'd' }, b: { image: 1 } } }] };
    const parsed = parseRegistryDocument(JSON.stringify(doc), { mode: 'lenient' });
    assert.deepEqual(Object.keys(parsed.toolhive?.groups?.[0]?.servers ?? {}), ['a']);
    assert.deepEqual(parsed.invalid.map((p) => p.path).sort(), ['groups[0].servers.b.description', 'groups[0].servers.b.image']);
    const file = { version: '1.0.0', meta: { last_updated: '2025-01-01T00:00:00Z' }, data: { servers: [], groups: [{ name: 'g', description: 'd', servers: [server('io.github.a/b'), { name: 'bad' }] }] } };
    const up = parseRegistryDocument(JSON.stringify(file), { mode: 'lenient' });
    assert.deepEqual(up.groups?.[0]?.servers.map((s) => s.name), ['io.github.a/b']);
    assert.equal(up.invalid[0]?.path, 'data.groups[0].servers[1].name');
  });

  it('parseRegistryValue checks the nesting of an already parsed value without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100000; i++) deep = { a: deep };
    assert.throws(
      () => parseRegistryValue({ servers: [{ server: server('io.github.a/b'), _meta: { deep } }] }, { mode: 'strict' }),
      (e: unknown) => isRegistryError(e) && e.code === 'too_deep' && e.where.path?.startsWith('servers[0]._meta.deep.a.a') === true,
    );
    assert.equal(parseRegistryValue({ servers: {} }, { mode: 'strict' }).format, 'toolhive');
  });
});
