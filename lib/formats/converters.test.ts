import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CONVERTERS, officialServerValidator, readJson, schemaErrors } from '../../test/formats/support.ts';
import { ImageMetadata, RemoteServerMetadata } from './toolhive-schema.ts';
import { imageToServerJson, remoteToServerJson } from './toolhive-to-upstream.ts';
import { ServerJson } from './upstream-schema.ts';
import { serverJsonToToolhive } from './upstream-to-toolhive.ts';

// ToolHive's own converter fixtures are the acceptance test of the mapping: our output equals
// ToolHive's expected output as JSON values (key order aside). The registry key is supplied as
// ToolHive's test supplies it.
describe('ToolHive converter fixtures', () => {
  const fixture = (dir: string, file: string) => readJson<Record<string, unknown>>(join(CONVERTERS, dir, file));

  it('image_to_server: the GitHub image entry becomes ToolHive\'s server.json', () => {
    const out = imageToServerJson('github', ImageMetadata.parse(fixture('image_to_server', 'input_github.json')));
    assert.deepStrictEqual(out, fixture('image_to_server', 'expected_github.json'));
  });

  it('remote_to_server: the SSE remote entry becomes ToolHive\'s server.json', () => {
    const out = remoteToServerJson('example-remote', RemoteServerMetadata.parse(fixture('remote_to_server', 'input_example.json')));
    assert.deepStrictEqual(out, fixture('remote_to_server', 'expected_example.json'));
  });

  it('server_to_image: the server.json becomes ToolHive\'s image entry', () => {
    const out = serverJsonToToolhive(ServerJson.parse(fixture('server_to_image', 'input_github.json')));
    assert.equal(out.kind, 'image');
    assert.deepStrictEqual(out.entry, fixture('server_to_image', 'expected_github.json'));
  });

  it('server_to_remote: the server.json becomes ToolHive\'s remote entry', () => {
    const out = serverJsonToToolhive(ServerJson.parse(fixture('server_to_remote', 'input_example.json')));
    assert.equal(out.kind, 'remote');
    assert.deepStrictEqual(out.entry, fixture('server_to_remote', 'expected_example.json'));
  });

  it('the emitted server.json documents validate against the official schema', () => {
    const validate = officialServerValidator();
    for (const out of [
      imageToServerJson('github', ImageMetadata.parse(fixture('image_to_server', 'input_github.json'))),
      remoteToServerJson('example-remote', RemoteServerMetadata.parse(fixture('remote_to_server', 'input_example.json'))),
    ]) {
      assert.ok(validate(out), `${out.name}: ${schemaErrors(validate)}`);
    }
  });

  it('the official schema validator is not a pushover', () => {
    const validate = officialServerValidator();
    const bad = { ...fixture('image_to_server', 'expected_github.json'), description: 'x'.repeat(101) };
    assert.equal(validate(bad), false);
    const noVersion = fixture('image_to_server', 'expected_github.json');
    delete noVersion.version;
    assert.equal(validate(noVersion), false);
  });
});
