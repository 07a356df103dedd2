import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CLI_BUNDLE, mcpreg } from '../../../test/formats/cli.ts';
import { REAL_THV_UPSTREAM, REAL_TOOLHIVE } from '../../../test/formats/support.ts';

const noStack = (s: string) => assert.ok(!/\n\s+at /.test(s) && !s.includes('Error:'), `no stack trace in ${JSON.stringify(s)}`);

describe('mcpreg validate', () => {
  it('a valid ToolHive registry: exit 0', async () => {
    const r = await mcpreg(['validate', REAL_TOOLHIVE]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /toolhive document \(toolhive\), 102 valid entries: valid/);
  });

  it('a valid upstream file from stdin: exit 0', async () => {
    const { readFileSync } = await import('node:fs');
    const r = await mcpreg(['validate', '-'], { stdin: readFileSync(REAL_THV_UPSTREAM) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /<stdin>: upstream document \(file\), 12 valid entries: valid/);
  });

  const invalid = JSON.stringify({
    servers: {
      ok: { image: 'ghcr.io/a/ok:1', description: 'fine' },
      bad: { image: 'ghcr.io/a/bad:1', description: 'x', tools: 'one', transport: 'pigeon' },
    },
  });

  it('each problem as "path: message", exit 1', async () => {
    const r = await mcpreg(['validate', '-'], { stdin: invalid });
    assert.equal(r.code, 1);
    assert.deepEqual(r.stdout.trim().split('\n'), ['servers.bad.tools: expected array, found "one"', 'servers.bad.transport: "pigeon" is not one of "stdio", "sse", "streamable-http"']);
    assert.match(r.stderr, /1 valid entry, 2 problems/);
  });

  it('--strict stops at the first problem', async () => {
    const r = await mcpreg(['validate', '--strict', '-'], { stdin: invalid });
    assert.equal(r.code, 1);
    assert.equal(r.stdout.trim().split('\n').length, 1);
  });

  it('--json prints the problems as a JSON array', async () => {
    const r = await mcpreg(['validate', '--json', '-'], { stdin: invalid });
    assert.equal(r.code, 1);
    assert.deepEqual(JSON.parse(r.stdout), [
      { path: 'servers.bad.tools', server: 'bad', code: 'invalid_document', message: 'expected array, found "one"' },
      { path: 'servers.bad.transport', server: 'bad', code: 'invalid_document', message: '"pigeon" is not one of "stdio", "sse", "streamable-http"' },
    ]);
    const ok = await mcpreg(['validate', '--json', REAL_TOOLHIVE]);
    assert.equal(ok.code, 0);
    assert.deepEqual(JSON.parse(ok.stdout), []);
  });

  it('documents that cannot be read at all are problems too: not JSON, not UTF-8, too deep, wrong format', async () => {
    const cases: [string | Uint8Array, RegExp][] = [
      ['{"servers": {', /^\$: truncated JSON/],
      [Buffer.from([0x7b, 0xff, 0x7d]), /^\$: not UTF-8: invalid byte 0xff at byte offset 1/],
      [`{"servers":{"a":${'['.repeat(100)}${']'.repeat(100)}}}`, /^servers\.a(\[0\])+: nesting deeper than 64 levels/],
      ['{"kind":"ConfigMap"}', /^\$: neither a ToolHive registry .* found an object with keys "kind"/],
    ];
    for (const [stdin, expected] of cases) {
      const r = await mcpreg(['validate', '-'], { stdin });
      assert.equal(r.code, 1);
      assert.match(r.stdout, expected);
      noStack(r.stdout + r.stderr);
    }
  });

  it('--format upstream on a ToolHive registry is a problem', async () => {
    const r = await mcpreg(['validate', '--format', 'upstream', REAL_TOOLHIVE]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /expected an upstream document .* found a ToolHive document/);
  });

  it('usage errors and unreadable files: stderr, non-zero exit, no stack trace', async () => {
    for (const [args, code, expected] of [
      [['validate'], 2, /expected one input FILE or -, got 0/],
      [['validate', '--format', 'yaml', 'x'], 2, /--format must be "toolhive" or "upstream"/],
      [['validate', '--bogus', 'x'], 2, /Unknown option '--bogus'/],
      [['validate', '/nonexistent/registry.json'], 1, /\/nonexistent\/registry.json: cannot read: no such file/],
      [['validate', '/'], 1, /cannot read: is a directory/],
    ] as const) {
      const r = await mcpreg([...args]);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, expected);
      assert.equal(r.stdout, '');
      noStack(r.stderr);
    }
  });

  it('--help', async () => {
    const r = await mcpreg(['validate', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /usage: mcpreg validate/);
  });

  it('the bundled dist/cli.js behaves the same', { skip: existsSync(CLI_BUNDLE) ? false : 'dist/cli.js is not built (npm run build)' }, async () => {
    const r = await mcpreg(['validate', '--json', '-'], { stdin: invalid, entry: CLI_BUNDLE });
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).length, 2);
  });
});
