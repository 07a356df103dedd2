/**
 * crds/examples/: every sample resource is valid for both the CRD (as the API server would
 * check it) and the zod schema the functions parse it with; the ConfigMap holds the real
 * ToolHive registry within the 1 MiB ConfigMap limit; the local-mode placeholders are the
 * ones crds/examples/README.md documents.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { MCPRegistrySpec } from '../../lib/kube/mcpregistry-spec.ts';
import { MCPRegistryExportJobSpec, MCPRegistryImportJobSpec, MCPRegistrySyncJobSpec } from '../../lib/kube/job-specs.ts';
import { CONFIGMAP_LIMIT, FIXTURE, renderRegistryConfigMap, TARGET } from '../../scripts/gen-example-configmap.ts';
import { crdValidator } from './crd-validation.ts';

type Obj = Record<string, any>;
const root = join(import.meta.dirname, '..', '..');
const examplesDir = join(root, 'crds', 'examples');

async function examples(): Promise<{ file: string; object: Obj }[]> {
  const files = (await readdir(examplesDir)).filter((f) => f.endsWith('.yaml')).sort();
  const out: { file: string; object: Obj }[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(join(examplesDir, file), 'utf8'))) out.push({ file, object: doc.toJSON() as Obj });
  }
  return out;
}

async function specValidator(crdFile: string): Promise<(v: unknown) => { ok: boolean; errors: { path: string; message: string }[] }> {
  const crd = parse(await readFile(join(root, 'crds', crdFile), 'utf8')) as Obj;
  return crdValidator(crd.spec.versions[0].schema.openAPIV3Schema.properties.spec, 'spec');
}

describe('crds/examples', () => {
  it('the registry ConfigMap is generated from the real ToolHive registry and holds all of it under 1 MiB', { skip: existsSync(FIXTURE) ? false : `fixture missing: ${FIXTURE}` }, async () => {
    const fixture = await readFile(FIXTURE, 'utf8');
    const committed = await readFile(TARGET, 'utf8');
    assert.equal(committed, renderRegistryConfigMap(fixture), 'stale: run npx node scripts/gen-example-configmap.ts');
    const cm = parse(committed) as Obj;
    const data = cm.data as Record<string, string>;
    const size = Object.entries(data).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    assert.ok(size <= CONFIGMAP_LIMIT, `ConfigMap data is ${size} bytes, over the limit`);
    assert.deepEqual(JSON.parse(data['registry.json']!), JSON.parse(fixture), 'same JSON value as the fixture: no server dropped or changed');
    assert.match(committed, new RegExp(`# ${size} bytes of data`), 'the header states the real size');
    assert.equal(cm.metadata.labels['toolhive.stacklok.io/registry-source'], 'true', 'labelled so the ApiServerSource streams its edits');
  });

  it('the generator refuses a registry that would not fit a ConfigMap', () => {
    const huge = JSON.stringify({ servers: { big: { description: 'x'.repeat(CONFIGMAP_LIMIT) } } });
    assert.throws(() => renderRegistryConfigMap(huge), /over the 1048576-byte ConfigMap limit/);
  });

  it('every MCPRegistry is valid for the CRD and for zod; one per source type, each with a filter', async () => {
    const validate = await specValidator('mcpregistries.yaml');
    const registries = (await examples()).filter((e) => e.object.kind === 'MCPRegistry');
    const types: string[] = [];
    for (const { file, object } of registries) {
      assert.equal(object.apiVersion, 'toolhive.stacklok.io/v1alpha1', file);
      const crd = validate(object.spec);
      assert.deepEqual(crd.errors, [], `${file}: rejected by the CRD`);
      const parsed = MCPRegistrySpec.safeParse(object.spec);
      assert.ok(parsed.success, `${file}: ${parsed.error?.message}`);
      assert.ok(parsed.data.filter?.include || parsed.data.filter?.exclude, `${file} has a filter`);
      types.push(parsed.data.source.type);
    }
    assert.deepEqual(types.sort(), ['aggregate', 'configmap', 'git', 'registry', 'url']);
  });

  it('the ConfigMap-source registry names the example ConfigMap and its key', async () => {
    const all = await examples();
    const registry = all.find((e) => e.object.kind === 'MCPRegistry' && e.object.spec.source.type === 'configmap')!.object;
    const cm = all.find((e) => e.object.kind === 'ConfigMap' && e.object.metadata.name === registry.spec.source.configMap.name);
    assert.ok(cm, 'the ConfigMap it reads is among the examples');
    assert.ok(registry.spec.source.configMap.key in cm.object.data);
  });

  it('the sync job is valid and names an example registry', async () => {
    const validate = await specValidator('mcpregistrysyncjobs.yaml');
    const all = await examples();
    const jobs = all.filter((e) => e.object.kind === 'MCPRegistrySyncJob');
    assert.equal(jobs.length, 1);
    const job = jobs[0]!.object;
    assert.deepEqual(validate(job.spec).errors, []);
    assert.ok(MCPRegistrySyncJobSpec.safeParse(job.spec).success);
    assert.ok(all.some((e) => e.object.kind === 'MCPRegistry' && e.object.metadata.name === job.spec.registryRef.name));
  });

  it('the import job is valid and reads the example ConfigMap', async () => {
    const validate = await specValidator('mcpregistryimportjobs.yaml');
    const all = await examples();
    const jobs = all.filter((e) => e.object.kind === 'MCPRegistryImportJob');
    assert.equal(jobs.length, 1);
    const job = jobs[0]!.object;
    assert.deepEqual(validate(job.spec).errors, []);
    assert.ok(MCPRegistryImportJobSpec.safeParse(job.spec).success);
    assert.ok(all.some((e) => e.object.kind === 'ConfigMap' && e.object.metadata.name === job.spec.source.configMap.name));
  });

  it('the export job is valid and names an example registry', async () => {
    const validate = await specValidator('mcpregistryexportjobs.yaml');
    const all = await examples();
    const jobs = all.filter((e) => e.object.kind === 'MCPRegistryExportJob');
    assert.equal(jobs.length, 1);
    const job = jobs[0]!.object;
    assert.deepEqual(validate(job.spec).errors, []);
    assert.ok(MCPRegistryExportJobSpec.safeParse(job.spec).success);
    assert.ok(all.some((e) => e.object.kind === 'MCPRegistry' && e.object.metadata.name === job.spec.registryRef.name));
  });

  it('the local-mode placeholders are loopback http URLs with allowHttp, and the README documents each', async () => {
    const readme = await readFile(join(examplesDir, 'README.md'), 'utf8');
    const remote = (await examples()).filter((e) => e.object.kind === 'MCPRegistry' && !['configmap', 'aggregate'].includes(e.object.spec.source.type));
    assert.equal(remote.length, 3);
    for (const { file, object } of remote) {
      const block = object.spec.source[object.spec.source.type];
      const url: string = block.url ?? block.repository;
      assert.match(url, /^http:\/\/127\.0\.0\.1:808\d(\/|$)/, `${file}: placeholder on loopback`);
      assert.equal(block.allowHttp, true, `${file}: plain http needs allowHttp`);
      assert.ok(readme.includes(url), `crds/examples/README.md documents ${url}`);
      assert.ok(readme.includes(file), `crds/examples/README.md names ${file}`);
    }
  });
});
