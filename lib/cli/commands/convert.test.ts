import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI_BUNDLE, mcpreg } from '../../../test/formats/cli.ts';
import { REAL_THV_UPSTREAM, REAL_TOOLHIVE, readJson, schemaErrors, upstreamFileValidator } from '../../../test/formats/support.ts';
import { ServerList } from '../../formats/upstream-schema.ts';
import { ToolhiveRegistry } from '../../formats/toolhive-schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpreg-convert-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('mcpreg convert', () => {
  it('--to upstream writes ToolHive\'s upstream file envelope', async () => {
    const r = await mcpreg(['convert', '--to', 'upstream', REAL_TOOLHIVE]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { data: { servers: unknown[] }; meta: { last_updated: string } };
    const validate = upstreamFileValidator();
    assert.ok(validate(out), schemaErrors(validate));
    assert.equal(out.data.servers.length, 102);
    assert.equal(out.meta.last_updated, '2026-02-20T00:21:11Z');
  });

  it('--to upstream --list writes the registry API list envelope', async () => {
    const r = await mcpreg(['convert', '--to', 'upstream', '--list', REAL_TOOLHIVE]);
    assert.equal(r.code, 0, r.stderr);
    const out = ServerList.parse(JSON.parse(r.stdout));
    assert.equal(out.metadata?.count, 102);
  });

  it('--to toolhive from an upstream file, into --out', async () => {
    const file = join(dir, 'registry.json');
    const r = await mcpreg(['convert', '--to', 'toolhive', '--out', file, REAL_THV_UPSTREAM]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const out = ToolhiveRegistry.parse(JSON.parse(readFileSync(file, 'utf8')));
    assert.equal(Object.keys(out.servers ?? {}).length, 12);
    assert.equal(out.last_updated, '2025-11-26T00:27:46Z');
    assert.equal(out.servers?.github?.image, 'ghcr.io/github/github-mcp-server:v0.22.0');
  });

  it('a round trip through the CLI keeps every server', async () => {
    const up = await mcpreg(['convert', '--to', 'upstream', REAL_TOOLHIVE]);
    const back = await mcpreg(['convert', '--to', 'toolhive', '-'], { stdin: up.stdout });
    assert.equal(back.code, 0, back.stderr);
    const original = readJson<ToolhiveRegistry>(REAL_TOOLHIVE);
    const out = JSON.parse(back.stdout) as ToolhiveRegistry;
    assert.deepEqual(Object.keys(out.servers ?? {}).sort(), Object.keys(original.servers ?? {}).sort());
    assert.deepEqual(Object.keys(out.remote_servers ?? {}).sort(), Object.keys(original.remote_servers ?? {}).sort());
  });

  it('invalid input fails by default and writes nothing; --lenient leaves out and lists the bad entries', async () => {
    const input = JSON.stringify({ servers: { ok: { image: 'ghcr.io/a/ok:1', description: 'fine' }, bad: { description: 'no image' } } });
    const file = join(dir, 'strict.json');
    const strict = await mcpreg(['convert', '--to', 'upstream', '--out', file, '-'], { stdin: input });
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /^mcpreg: <stdin> server "bad" servers\.bad\.image: required field is missing/);
    assert.equal(existsSync(file), false);
    const lenient = await mcpreg(['convert', '--to', 'upstream', '--lenient', '-'], { stdin: input });
    assert.equal(lenient.code, 0);
    assert.match(lenient.stderr, /warning: left out servers\.bad\.image: required field is missing/);
    assert.equal(JSON.parse(lenient.stdout).data.servers.length, 1);
  });

  it('servers that ToolHive cannot express are listed on stderr', async () => {
    const input = JSON.stringify([
      { name: 'io.github.a/bundle', description: 'd', version: '1.0.0', packages: [{ registryType: 'mcpb', identifier: 'https://github.com/a/b/releases/download/v1/x.mcpb', transport: { type: 'stdio' } }] },
      { name: 'io.github.a/node', description: 'd', version: '1.0.0', packages: [{ registryType: 'npm', identifier: '@a/node', version: '1.0.0', transport: { type: 'stdio' } }] },
    ]);
    const r = await mcpreg(['convert', '--to', 'toolhive', '-'], { stdin: input });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: left out server "io.github.a\/bundle" version "1.0.0": has only mcpb packages/);
    assert.deepEqual(Object.keys(JSON.parse(r.stdout).servers), ['node']);
  });

  it('--from forces the input format', async () => {
    const r = await mcpreg(['convert', '--to', 'toolhive', '--from', 'toolhive', REAL_THV_UPSTREAM]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /expected a ToolHive registry/);
  });

  it('usage errors: stderr, exit 2, no stack trace; --help explains the output', async () => {
    for (const [args, expected] of [
      [['convert', REAL_TOOLHIVE], /--to must be "upstream" or "toolhive"/],
      [['convert', '--to', 'yaml', REAL_TOOLHIVE], /--to must be "upstream" or "toolhive", not "yaml"/],
      [['convert', '--to', 'toolhive', '--list', REAL_TOOLHIVE], /--list only applies to --to upstream/],
      [['convert', '--to', 'upstream'], /expected one input FILE or -, got 0/],
    ] as const) {
      const r = await mcpreg([...args]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, expected);
      assert.ok(!/\n\s+at /.test(r.stderr));
    }
    const help = await mcpreg(['convert', '--help']);
    assert.match(help.stdout, /ToolHive's upstream registry file envelope/);
  });

  it('the bundled dist/cli.js converts too', { skip: existsSync(CLI_BUNDLE) ? false : 'dist/cli.js is not built (npm run build)' }, async () => {
    const r = await mcpreg(['convert', '--to', 'upstream', REAL_TOOLHIVE], { entry: CLI_BUNDLE });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).data.servers.length, 102);
  });
});
