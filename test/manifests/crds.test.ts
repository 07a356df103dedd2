/**
 * The CRDs in crds/: generated from the zod schemas and committed; valid apiextensions.k8s.io/v1
 * objects; and zod and the CRD schema (OpenAPI + CEL, evaluated like the API server does)
 * agree on which documents are valid, where they are wrong, and which defaults apply.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { CRD_DEFINITIONS, renderCrdYaml } from '../../lib/kube/crds.ts';
import { MCPRegistrySpec } from '../../lib/kube/mcpregistry-spec.ts';
import { MCPRegistryStatus } from '../../lib/kube/mcpregistry-status.ts';
import { JobStatus, MCPRegistryExportJobSpec, MCPRegistryImportJobSpec, MCPRegistrySyncJobSpec } from '../../lib/kube/job-specs.ts';
import { guessPlural } from '../../lib/kube/resources.ts';
import { crdValidator, structuralProblems } from './crd-validation.ts';

const root = join(import.meta.dirname, '..', '..');
const crdDir = join(root, 'crds');
type Obj = Record<string, any>;

async function loadCrd(file: string): Promise<Obj> {
  return parse(await readFile(join(crdDir, file), 'utf8')) as Obj;
}
function schemaOf(crd: Obj): Obj {
  return crd.spec.versions.find((v: Obj) => v.storage).schema.openAPIV3Schema;
}

describe('crds/ files', () => {
  it('are exactly what scripts/gen-crds.ts generates from the zod schemas', async () => {
    for (const def of CRD_DEFINITIONS) {
      const committed = await readFile(join(crdDir, def.file), 'utf8').catch(() => '<missing>');
      assert.equal(committed, renderCrdYaml(def), `crds/${def.file} is stale: run npx node scripts/gen-crds.ts`);
    }
  });

  it('crds/kustomization.yaml lists every CRD file, and nothing else is a CRD', async () => {
    const kustomization = parse(await readFile(join(crdDir, 'kustomization.yaml'), 'utf8')) as Obj;
    const yamlFiles = (await readdir(crdDir)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    assert.deepEqual([...kustomization.resources].sort(), [...yamlFiles].sort());
    assert.deepEqual([...yamlFiles].sort(), CRD_DEFINITIONS.map((d) => d.file).sort());
  });

  for (const def of CRD_DEFINITIONS) {
    it(`${def.file} is a valid structural apiextensions.k8s.io/v1 CRD`, async () => {
      const docs = parseAllDocuments(await readFile(join(crdDir, def.file), 'utf8'));
      assert.equal(docs.length, 1, 'one object per file');
      const crd = docs[0]!.toJSON() as Obj;
      assert.deepEqual(structuralProblems(crd), []);
      assert.equal(crd.spec.names.plural, guessPlural(crd.spec.names.kind));
      assert.equal(crd.spec.group, 'toolhive.stacklok.io');
      assert.deepEqual(crd.spec.names.categories, ['toolhive', 'mcp']);
      assert.deepEqual(crd.spec.versions[0].subresources, { status: {} });
    });
  }

  it('the structural check itself catches broken CRDs', async () => {
    const crd = await loadCrd('mcpregistries.yaml');
    const broken = structuredClone(crd);
    broken.spec.names.plural = 'mcpregistrys';
    const schema = schemaOf(broken);
    delete schema.properties.spec.properties.displayName.type;
    schema.properties.spec.properties.validation.default = 'sloppy';
    schema.properties.spec.properties.syncPolicy.properties.retry.default = { maxRetries: 'three' };
    schema.properties.spec.properties.source.additionalProperties = { type: 'string' };
    schema.properties.spec.properties.git = { type: 'string', pattern: '^(?!-).*$' };
    broken.spec.versions[0].additionalPrinterColumns.push({ name: 'X', type: 'string', jsonPath: '.status.nope' });
    const found = structuralProblems(broken).map((p) => `${p.path}: ${p.message}`).join('\n');
    for (const expected of [
      /spec\.names\.plural: must be mcpregistries/,
      /properties\.displayName: needs a type/,
      /properties\.validation: default "sloppy" does not validate/,
      /properties\.retry: default .* does not validate/,
      /properties\.source: properties and additionalProperties are mutually exclusive/,
      /properties\.git: pattern uses look-around/,
      /jsonPath \.status\.nope does not name a field/,
    ]) {
      assert.match(found, expected);
    }
  });

  it('MCPRegistry has the printer columns kubectl users rely on', async () => {
    const crd = await loadCrd('mcpregistries.yaml');
    const columns = crd.spec.versions[0].additionalPrinterColumns as Obj[];
    const byName = Object.fromEntries(columns.map((c) => [c.name, c]));
    assert.deepEqual(
      columns.filter((c) => !c.priority).map((c) => c.name),
      ['Ready', 'Servers', 'Last Sync', 'Source', 'Deployed', 'Age'],
    );
    assert.equal(byName.Deployed.jsonPath, '.status.workloads.associated');
    assert.equal(byName.Behind.jsonPath, '.status.workloads.behind');
    assert.equal(byName.Ready.jsonPath, '.status.conditions[?(@.type=="Ready")].status');
    assert.equal(byName.Servers.jsonPath, '.status.serverCount');
    assert.equal(byName['Last Sync'].type, 'date');
    assert.equal(byName.Source.jsonPath, '.spec.source.type');
    for (const wide of ['Phase', 'Snapshot', 'Reason', 'Behind']) assert.equal(byName[wide]?.priority, 1, `${wide} is an -o wide column`);
    assert.deepEqual(crd.spec.names.shortNames, ['mcpreg']);
  });

  it('no job says in its schema that it is declared only: all are executed', async () => {
    for (const file of ['mcpregistrysyncjobs.yaml', 'mcpregistryimportjobs.yaml', 'mcpregistryexportjobs.yaml']) {
      const executed = schemaOf(await loadCrd(file));
      assert.doesNotMatch(executed.description, /Declared only/);
      assert.doesNotMatch(executed.properties.spec.description, /Declared only/);
    }
  });
});

/** One case of the parity corpus: zod and the CRD must both accept or both reject. */
interface Case {
  name: string;
  value: unknown;
  /** for invalid cases: the field path (from the resource root) both must report */
  invalidAt?: string;
}

function checkParity(zodSchema: z.ZodType, crdSchema: Obj, base: string, cases: Case[]): void {
  const validate = crdValidator(crdSchema, base);
  for (const c of cases) {
    const crd = validate(c.value);
    const parsed = zodSchema.safeParse(c.value);
    const zodPaths = parsed.success ? [] : parsed.error.issues.map((i) => [base, ...i.path.map(String)].join('.'));
    const crdPaths = crd.errors.map((e) => e.path);
    const detail = `${c.name}\n  zod: ${parsed.success ? 'ok' : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}\n  crd: ${crd.ok ? 'ok' : crd.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`;
    if (c.invalidAt === undefined) {
      assert.ok(parsed.success && crd.ok, `expected valid in both: ${detail}`);
      // defaults and pruning: what the API server stores is what zod hands the code
      assert.deepEqual(crd.value, JSON.parse(JSON.stringify(parsed.data)), `defaults differ: ${c.name}`);
    } else {
      assert.ok(!parsed.success && !crd.ok, `expected invalid in both: ${detail}`);
      assert.ok(zodPaths.includes(c.invalidAt), `zod does not report ${c.invalidAt}: ${detail}`);
      assert.ok(crdPaths.includes(c.invalidAt), `the CRD does not report ${c.invalidAt}: ${detail}`);
    }
  }
}

const cm = { type: 'configmap', configMap: { name: 'toolhive-registry' } };
const withSource = (source: unknown, extra: Obj = {}) => ({ source, ...extra });

const specCases: Case[] = [
  { name: 'minimal configmap source', value: withSource(cm) },
  {
    name: 'everything set',
    value: {
      displayName: 'Team registry',
      description: 'servers for team A',
      format: 'toolhive',
      source: { type: 'url', url: { url: 'https://example.com/registry.json', headers: { 'X-Trace': '1' }, authSecret: { name: 'reg-auth', tokenKey: 'token' }, allowHttp: false } },
      syncPolicy: { enabled: false, interval: '1h30m', onUpdate: 'recreate', retry: { maxRetries: 0, backoffInterval: '250ms' } },
      filter: { include: { names: ['io.github.*'], tags: ['search'] }, exclude: { tiers: ['Community'] } },
      validation: 'strict',
      allowEmpty: true,
    },
  },
  { name: 'git with branch and basic auth', value: withSource({ type: 'git', git: { repository: 'https://git.example.com/r.git', branch: 'main', authSecret: { name: 'git', usernameKey: 'user', passwordKey: 'pass' } } }) },
  { name: 'git with a commit', value: withSource({ type: 'git', git: { repository: 'https://git.example.com/r.git', commit: 'abc1234' } }) },
  { name: 'git over ssh with known_hosts', value: withSource({ type: 'git', git: { repository: 'ssh://git@github.com/acme/registry.git', authSecret: { name: 'deploy', sshPrivateKeyKey: 'ssh-privatekey', knownHostsKey: 'known_hosts' } } }) },
  { name: 'git over scp-like ssh with a fingerprint', value: withSource({ type: 'git', git: { repository: 'git@github.com:acme/registry.git', authSecret: { name: 'deploy', sshPrivateKeyKey: 'ssh-privatekey' }, sshHostKeyFingerprint: 'SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU' } }) },
  { name: 'registry API with header auth', value: withSource({ type: 'registry', registry: { url: 'https://registry.example.com', authSecret: { name: 'api', headerName: 'X-API-Key', headerValueKey: 'key' }, fullSyncEvery: 5 } }) },
  { name: 'plain http allowed explicitly', value: withSource({ type: 'url', url: { url: 'http://127.0.0.1:8081/registry.json', allowHttp: true } }) },
  { name: 'unknown fields are pruned, not rejected', value: withSource(cm, { colour: 'blue', syncPolicy: { jitter: true } }) },
  { name: 'partial retry keeps the other default', value: withSource(cm, { syncPolicy: { retry: { maxRetries: 7 } } }) },
  { name: 'missing source', value: {}, invalidAt: 'spec.source' },
  { name: 'unknown source type', value: withSource({ type: 's3', configMap: { name: 'x' } }), invalidAt: 'spec.source.type' },
  { name: 'type without its block', value: withSource({ type: 'url' }), invalidAt: 'spec.source.url' },
  { name: 'block of another type', value: withSource({ type: 'configmap', configMap: { name: 'x' }, git: { repository: 'https://g/r.git' } }), invalidAt: 'spec.source.git' },
  { name: 'configmap name not a DNS name', value: withSource({ type: 'configmap', configMap: { name: 'Not_Valid' } }), invalidAt: 'spec.source.configMap.name' },
  { name: 'configmap key with a slash', value: withSource({ type: 'configmap', configMap: { name: 'x', key: 'a/b' } }), invalidAt: 'spec.source.configMap.key' },
  { name: 'url with another scheme', value: withSource({ type: 'url', url: { url: 'file:///etc/passwd' } }), invalidAt: 'spec.source.url.url' },
  { name: 'url with whitespace', value: withSource({ type: 'url', url: { url: 'https://exa mple.com/' } }), invalidAt: 'spec.source.url.url' },
  { name: 'header value not a string', value: withSource({ type: 'url', url: { url: 'https://e.com/r.json', headers: { 'X-N': 1 } } }), invalidAt: 'spec.source.url.headers.X-N' },
  { name: 'branch and tag together', value: withSource({ type: 'git', git: { repository: 'https://g/r.git', branch: 'main', tag: 'v1' } }), invalidAt: 'spec.source.git' },
  { name: 'commit not hex', value: withSource({ type: 'git', git: { repository: 'https://g/r.git', commit: 'HEAD~1' } }), invalidAt: 'spec.source.git.commit' },
  { name: 'branch with a space', value: withSource({ type: 'git', git: { repository: 'https://g/r.git', branch: 'my branch' } }), invalidAt: 'spec.source.git.branch' },
  { name: 'ssh repository without a deploy key', value: withSource({ type: 'git', git: { repository: 'ssh://git@github.com/acme/r.git', sshHostKeyFingerprint: 'SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU' } }), invalidAt: 'spec.source.git.authSecret' },
  { name: 'ssh repository with no host key trust', value: withSource({ type: 'git', git: { repository: 'git@github.com:acme/r.git', authSecret: { name: 'deploy', sshPrivateKeyKey: 'k' } } }), invalidAt: 'spec.source.git' },
  { name: 'ssh key on an https repository', value: withSource({ type: 'git', git: { repository: 'https://g/r.git', authSecret: { name: 'deploy', sshPrivateKeyKey: 'k', knownHostsKey: 'kh' } } }), invalidAt: 'spec.source.git' },
  { name: 'ssh key and a token together', value: withSource({ type: 'git', git: { repository: 'ssh://git@g/r.git', authSecret: { name: 'deploy', sshPrivateKeyKey: 'k', knownHostsKey: 'kh', tokenKey: 't' } } }), invalidAt: 'spec.source.git.authSecret' },
  { name: 'known_hosts without a key', value: withSource({ type: 'git', git: { repository: 'https://g/r.git', authSecret: { name: 'deploy', tokenKey: 't', knownHostsKey: 'kh' } } }), invalidAt: 'spec.source.git.authSecret' },
  { name: 'fingerprint not SHA256', value: withSource({ type: 'git', git: { repository: 'ssh://git@g/r.git', authSecret: { name: 'deploy', sshPrivateKeyKey: 'k' }, sshHostKeyFingerprint: 'MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48' } }), invalidAt: 'spec.source.git.sshHostKeyFingerprint' },
  { name: 'authSecret without keys', value: withSource({ type: 'url', url: { url: 'https://e.com/r.json', authSecret: { name: 's' } } }), invalidAt: 'spec.source.url.authSecret' },
  { name: 'username without password', value: withSource({ type: 'url', url: { url: 'https://e.com/r.json', authSecret: { name: 's', usernameKey: 'u' } } }), invalidAt: 'spec.source.url.authSecret' },
  { name: 'token and basic auth together', value: withSource({ type: 'registry', registry: { url: 'https://e.com', authSecret: { name: 's', tokenKey: 't', usernameKey: 'u', passwordKey: 'p' } } }), invalidAt: 'spec.source.registry.authSecret' },
  { name: 'header name without value key', value: withSource({ type: 'git', git: { repository: 'https://g/r.git', authSecret: { name: 's', headerName: 'X-Key' } } }), invalidAt: 'spec.source.git.authSecret' },
  { name: 'header name with a colon', value: withSource({ type: 'registry', registry: { url: 'https://e.com', authSecret: { name: 's', headerName: 'X:Key', headerValueKey: 'k' } } }), invalidAt: 'spec.source.registry.authSecret.headerName' },
  { name: 'fullSyncEvery zero', value: withSource({ type: 'registry', registry: { url: 'https://e.com', fullSyncEvery: 0 } }), invalidAt: 'spec.source.registry.fullSyncEvery' },
  { name: 'fullSyncEvery fractional', value: withSource({ type: 'registry', registry: { url: 'https://e.com', fullSyncEvery: 1.5 } }), invalidAt: 'spec.source.registry.fullSyncEvery' },
  { name: 'interval without a unit', value: withSource(cm, { syncPolicy: { interval: '10' } }), invalidAt: 'spec.syncPolicy.interval' },
  { name: 'interval in days', value: withSource(cm, { syncPolicy: { interval: '1d' } }), invalidAt: 'spec.syncPolicy.interval' },
  { name: 'backoff not a duration', value: withSource(cm, { syncPolicy: { retry: { backoffInterval: 'soon' } } }), invalidAt: 'spec.syncPolicy.retry.backoffInterval' },
  { name: 'maxRetries over 100', value: withSource(cm, { syncPolicy: { retry: { maxRetries: 101 } } }), invalidAt: 'spec.syncPolicy.retry.maxRetries' },
  { name: 'negative maxRetries', value: withSource(cm, { syncPolicy: { retry: { maxRetries: -1 } } }), invalidAt: 'spec.syncPolicy.retry.maxRetries' },
  { name: 'enabled as a string', value: withSource(cm, { syncPolicy: { enabled: 'yes' } }), invalidAt: 'spec.syncPolicy.enabled' },
  { name: 'unknown onUpdate', value: withSource(cm, { syncPolicy: { onUpdate: 'replace' } }), invalidAt: 'spec.syncPolicy.onUpdate' },
  { name: 'unknown format', value: withSource(cm, { format: 'json' }), invalidAt: 'spec.format' },
  { name: 'unknown validation mode', value: withSource(cm, { validation: 'paranoid' }), invalidAt: 'spec.validation' },
  { name: 'filter names not a list', value: withSource(cm, { filter: { include: { names: 'github' } } }), invalidAt: 'spec.filter.include.names' },
  { name: 'empty filter glob', value: withSource(cm, { filter: { exclude: { tags: [''] } } }), invalidAt: 'spec.filter.exclude.tags.0' },
];

const now = '2026-02-20T10:00:00Z';
const condition = (type: string, status = 'True', extra: Obj = {}) => ({ type, status, reason: 'Synced', message: '', lastTransitionTime: now, ...extra });
const hash = 'a'.repeat(64);
const statusCases: Case[] = [
  { name: 'empty status', value: {} },
  {
    name: 'full status',
    value: {
      observedGeneration: 3,
      phase: 'Ready',
      conditions: [condition('Ready'), condition('Synced'), condition('SourceAvailable', 'True', { observedGeneration: 3 }), condition('Valid', 'False', { reason: 'InvalidEntries', message: 'servers.x: bad' })],
      serverCount: 79,
      invalidCount: 1,
      lastSyncTime: now,
      lastAttemptTime: '2026-02-20T09:59:58.123Z',
      nextSyncTime: now,
      syncAttempts: 0,
      lastManualSyncTrigger: '2026-02-20T09:00:00Z',
      snapshot: { hash, revision: 'W/"abc"', key: `registries/default/x/snapshots/${hash}/` },
      apiEndpoint: '/registries/default/x/v0.1',
    },
  },
  { name: 'unknown phase', value: { phase: 'Done' }, invalidAt: 'status.phase' },
  { name: 'unknown condition type', value: { conditions: [condition('Healthy')] }, invalidAt: 'status.conditions.0.type' },
  { name: 'condition status lower-case', value: { conditions: [condition('Ready', 'true')] }, invalidAt: 'status.conditions.0.status' },
  { name: 'condition reason with spaces', value: { conditions: [condition('Ready', 'False', { reason: 'no source' })] }, invalidAt: 'status.conditions.0.reason' },
  { name: 'condition without lastTransitionTime', value: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ok', message: '' }] }, invalidAt: 'status.conditions.0.lastTransitionTime' },
  { name: 'timestamp not a date', value: { lastSyncTime: 'yesterday' }, invalidAt: 'status.lastSyncTime' },
  { name: 'negative count', value: { serverCount: -1 }, invalidAt: 'status.serverCount' },
  { name: 'snapshot hash not sha256', value: { snapshot: { hash: 'abc', key: 'k' } }, invalidAt: 'status.snapshot.hash' },
  { name: 'snapshot without key', value: { snapshot: { hash } }, invalidAt: 'status.snapshot.key' },
];

describe('zod and CRD schemas agree (parity corpus)', () => {
  it('MCPRegistry spec', async () => {
    checkParity(MCPRegistrySpec, schemaOf(await loadCrd('mcpregistries.yaml')).properties.spec, 'spec', specCases);
  });

  it('MCPRegistry status', async () => {
    checkParity(MCPRegistryStatus, schemaOf(await loadCrd('mcpregistries.yaml')).properties.status, 'status', statusCases);
  });

  it('job specs and status', async () => {
    checkParity(MCPRegistrySyncJobSpec, schemaOf(await loadCrd('mcpregistrysyncjobs.yaml')).properties.spec, 'spec', [
      { name: 'sync job', value: { registryRef: { name: 'toolhive' } } },
      { name: 'sync job without registry', value: {}, invalidAt: 'spec.registryRef' },
      { name: 'sync job bad name', value: { registryRef: { name: 'Tool Hive' } }, invalidAt: 'spec.registryRef.name' },
    ]);
    checkParity(MCPRegistryImportJobSpec, schemaOf(await loadCrd('mcpregistryimportjobs.yaml')).properties.spec, 'spec', [
      { name: 'import into a configmap', value: { source: { type: 'url', url: { url: 'https://e.com/r.json' } }, convertTo: 'upstream', target: { configMap: { name: 'imported' } } } },
      { name: 'import with no target', value: { source: cm, target: {} }, invalidAt: 'spec.target' },
      { name: 'import with two targets', value: { source: cm, target: { configMap: { name: 'a' }, registryRef: { name: 'b' } } }, invalidAt: 'spec.target' },
      { name: 'import with a mismatched source', value: { source: { type: 'git', url: { url: 'https://e.com/r.json' } }, target: { configMap: { name: 'a' } } }, invalidAt: 'spec.source.git' },
    ]);
    checkParity(MCPRegistryExportJobSpec, schemaOf(await loadCrd('mcpregistryexportjobs.yaml')).properties.spec, 'spec', [
      { name: 'export to an object key', value: { registryRef: { name: 'toolhive' }, target: { objectKey: 'exports/toolhive.json' } } },
      { name: 'export as upstream to a configmap', value: { registryRef: { name: 'toolhive' }, format: 'upstream', target: { configMap: { name: 'out', key: 'servers.json' } } } },
      { name: 'export with an absolute key', value: { registryRef: { name: 'x' }, target: { objectKey: '/etc/x' } }, invalidAt: 'spec.target.objectKey' },
      { name: 'export with both targets', value: { registryRef: { name: 'x' }, target: { objectKey: 'k', configMap: { name: 'c' } } }, invalidAt: 'spec.target' },
    ]);
    checkParity(JobStatus, schemaOf(await loadCrd('mcpregistrysyncjobs.yaml')).properties.status, 'status', [
      { name: 'job done', value: { phase: 'Succeeded', startTime: now, completionTime: now, conditions: [condition('Complete')], result: { serverCount: 3, snapshotHash: hash, message: 'synced' } } },
      { name: 'job with a registry condition type', value: { conditions: [condition('Ready')] }, invalidAt: 'status.conditions.0.type' },
      { name: 'job with unknown phase', value: { phase: 'Done' }, invalidAt: 'status.phase' },
    ]);
  });

  it('sync and export job specs are immutable (a transition rule on spec)', async () => {
    for (const file of ['mcpregistrysyncjobs.yaml', 'mcpregistryexportjobs.yaml']) {
      const rules = schemaOf(await loadCrd(file)).properties.spec['x-kubernetes-validations'] as Obj[];
      assert.ok(rules.some((r) => r.rule === 'self == oldSelf'), `${file}: spec must be immutable`);
    }
  });
});

describe('the MCPRegistry reference in README.md', () => {
  it('documents every MCPRegistry spec field with its default, and every status field', async () => {
    const readme = await readFile(join(crdDir, '..', 'README.md'), 'utf8');
    const rows = new Map<string, string>();
    for (const line of readme.split('\n')) {
      const m = /^\| `([^`]+)` \|/.exec(line);
      if (m) rows.set(m[1]!, line);
    }
    const schema = schemaOf(await loadCrd('mcpregistries.yaml'));
    const documented = (path: string) =>
      path.replace(/^source\.(url|git|registry)\.authSecret\./, 'authSecret.').replace(/^filter\.(include|exclude)\.(\w+)$/, 'filter.{include,exclude}.$2');
    const missing: string[] = [];
    const walk = (node: Obj, prefix: string, withDefaults: boolean) => {
      for (const [k, sub] of Object.entries((node.properties ?? {}) as Record<string, Obj>)) {
        const path = `${prefix}${k}`;
        const key = documented(path);
        const row = rows.get(key);
        if (!row) {
          // filter.include / filter.exclude are documented through their dimensions
          if (!/^filter\.(include|exclude)$/.test(path)) missing.push(`${path} (as \`${key}\`)`);
        } else if (withDefaults && sub.default !== undefined) {
          const shown = typeof sub.default === 'object' ? JSON.stringify(sub.default) : String(sub.default);
          if (!row.includes(`\`${shown}\``)) missing.push(`${path}: default ${shown} not in its row`);
        }
        if (sub.type === 'object' && !/^conditions$/.test(path)) walk(sub, `${path}.`, withDefaults);
      }
    };
    walk(schema.properties.spec, '', true);
    walk(schema.properties.status, '', false);
    assert.deepEqual(missing, []);
  });
});

for (const [kind, file, end] of [
  ['MCPRegistryImportJob', 'mcpregistryimportjobs.yaml', '### MCPRegistryExportJob'],
  ['MCPRegistryExportJob', 'mcpregistryexportjobs.yaml', '## The REST API'],
] as const) {
  describe(`the ${kind} reference in README.md`, () => {
    it('documents every spec field (with its default) and the status fields', async () => {
      const readme = await readFile(join(crdDir, '..', 'README.md'), 'utf8');
      const start = readme.indexOf(`### ${kind}`);
      assert.ok(start >= 0, `a ### ${kind} section`);
      const section = readme.slice(start, readme.indexOf(end, start + 1));
      const rows = new Map<string, string>();
      for (const line of section.split('\n')) {
        const m = /^\| `([^`]+)`/.exec(line);
        if (m) rows.set(m[1]!, line);
      }
      const schema = schemaOf(await loadCrd(file));
      const missing: string[] = [];
      const walk = (node: Obj, prefix: string) => {
        for (const [k, sub] of Object.entries((node.properties ?? {}) as Record<string, Obj>)) {
          const path = `${prefix}${k}`;
          // the filter is documented as one row (MCPRegistry's semantics, referenced there)
          if (path.startsWith('spec.filter.')) continue;
          const row = rows.get(path);
          if (sub.type === 'object' && !rows.has(path)) {
            walk(sub, `${path}.`);
            continue;
          }
          if (!row) missing.push(path);
          else if (sub.default !== undefined && !row.includes(`\`${String(sub.default)}\``)) missing.push(`${path}: default ${String(sub.default)} not in its row`);
        }
      };
      walk(schema.properties.spec, 'spec.');
      assert.deepEqual(missing, []);
      for (const field of ['status.result']) assert.ok([...rows.keys()].some((r) => r.startsWith(field)), field);
      assert.match(section, /failedAttempts/);
    });
  });
}
