import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseRegistryDocument } from '../formats/parse.ts';
import { officialServerValidator, REAL_TOOLHIVE, schemaErrors, toolhiveLegacyValidator, upstreamFileValidator } from '../../test/formats/support.ts';
import { contentOfDocument, renderExport } from './export-render.ts';

const real = parseRegistryDocument(readFileSync(REAL_TOOLHIVE, 'utf8'), { file: 'real.json', mode: 'strict' });
const content = contentOfDocument(real);
const total = Object.keys(real.toolhive?.servers ?? {}).length + Object.keys(real.toolhive?.remote_servers ?? {}).length;

describe('renderExport', () => {
  it('toolhive: the registry as read, valid against ToolHive\'s schema', () => {
    const out = renderExport(content, 'toolhive');
    assert.equal(out.serverCount, total);
    const validate = toolhiveLegacyValidator();
    assert.ok(validate(JSON.parse(out.text)), schemaErrors(validate));
    assert.deepEqual(JSON.parse(out.text), real.toolhive);
    assert.equal(out.bytes, Buffer.byteLength(out.text));
  });

  it('upstream: the file envelope, valid against ToolHive\'s upstream registry schema and each server.json against the official one', () => {
    const out = renderExport(content, 'upstream');
    const doc = JSON.parse(out.text) as { data: { servers: unknown[] } };
    const validate = upstreamFileValidator();
    assert.ok(validate(doc), schemaErrors(validate));
    const official = officialServerValidator();
    for (const s of doc.data.servers) assert.ok(official(s), schemaErrors(official));
    assert.equal(doc.data.servers.length, total);
  });

  it('upstream-list: the API list envelope with its count; a filter keeps a subset', () => {
    const out = renderExport(content, 'upstream-list', { include: { tags: ['database'] } });
    const doc = JSON.parse(out.text) as { servers: Array<{ server: unknown }>; metadata: { count: number } };
    assert.equal(doc.metadata.count, doc.servers.length);
    assert.equal(out.serverCount, doc.servers.length);
    assert.ok(doc.servers.length > 0 && doc.servers.length < total);
    const official = officialServerValidator();
    for (const s of doc.servers) assert.ok(official(s.server), schemaErrors(official));
  });
});
