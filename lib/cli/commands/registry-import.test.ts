import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runInProcess } from '../../../test/cli/in-process.ts';
import { schemaErrors, upstreamFileValidator } from '../../../test/formats/support.ts';

const DATA = join(import.meta.dirname, '../../jobs/testdata');

describe('mcpreg registry import / export between files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpreg-import-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('merges into an existing file, writes the per-server report, and leaves the file alone on a re-run', async () => {
    const to = join(dir, 'target.json');
    await copyFile(join(DATA, 'target-toolhive.json'), to);
    const report = join(dir, 'report.json');
    const r = await runInProcess(['registry', 'import', '--from', join(DATA, 'incoming-toolhive.json'), '--to', to, '--report', report]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${to}: wrote 5 servers: 2 added, 1 updated, 1 unchanged, 1 kept, 0 removed, 1 skipped (1 invalid, 0 filtered)\n`);
    const written = JSON.parse(await readFile(to, 'utf8')) as { servers: Record<string, unknown> };
    assert.deepEqual(Object.keys(written.servers), ['fetch', 'local-only', 'postgres', 'redis']);
    const rep = JSON.parse(await readFile(report, 'utf8')) as { servers: Array<{ server: string; outcome: string }> };
    assert.equal(rep.servers.length, 6);
    const mtime = (await stat(to)).mtimeMs;
    const again = await runInProcess(['registry', 'import', '--from', join(DATA, 'incoming-toolhive.json'), '--to', to]);
    assert.match(again.stdout, /0 added, 0 updated, 4 unchanged, 1 kept.*already up to date: file not rewritten/);
    assert.equal((await stat(to)).mtimeMs, mtime);
  });

  it('--dry-run writes nothing; --mode replace and --convert-to upstream create a schema-valid file', async () => {
    const to = join(dir, 'new.json');
    const dry = await runInProcess(['registry', 'import', '--from', join(DATA, 'incoming-toolhive.json'), '--to', to, '--dry-run', '--include-tag', 'database']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /would write 2 servers: 2 added.*2 filtered\).*dry run: nothing written/);
    await assert.rejects(stat(to));
    const r = await runInProcess(['registry', 'import', '--from', join(DATA, 'incoming-toolhive.json'), '--to', to, '--mode', 'replace', '--convert-to', 'upstream']);
    assert.equal(r.code, 0, r.stderr);
    const validate = upstreamFileValidator();
    assert.ok(validate(JSON.parse(await readFile(to, 'utf8'))), schemaErrors(validate));
  });

  it('export writes each format; a bad --format is a usage error', async () => {
    for (const format of ['toolhive', 'upstream', 'upstream-list']) {
      const to = join(dir, `export-${format}.json`);
      const r = await runInProcess(['registry', 'export', '--from', join(DATA, 'incoming-toolhive.json'), '--to', to, '--format', format]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`: 4 servers, \\d+ bytes \\(${format}\\)\\n$`));
    }
    const bad = await runInProcess(['registry', 'export', '--from', 'x', '--to', 'y', '--format', 'xml']);
    assert.equal(bad.code, 2);
  });
});
