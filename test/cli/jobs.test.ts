/**
 * `mcpreg registry import|export` in cluster mode against local mode's pieces (the embedded
 * control plane, the sync function with the event bridge, the example registries): jobs
 * created from flags, --wait with its progress and exit codes, --dry-run printing the job.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { MCPRegistryExportJobSpec, MCPRegistryImportJobSpec } from '../../lib/kube/job-specs.ts';
import { startLocalMode, until, type LocalMode } from './local-mode.ts';

let local: LocalMode;
let core: CoreV1Api;
let custom: CustomObjectsApi;
const noStack = (s: string) => assert.ok(!/\n\s+at /.test(s), `no stack trace in ${JSON.stringify(s)}`);

before(async () => {
  local = await startLocalMode();
  core = local.kubeConfig.makeApiClient(CoreV1Api);
  custom = local.kubeConfig.makeApiClient(CustomObjectsApi);
  await until('the toolhive example to be Ready', async () => {
    const r = await local.mcpreg(['registry', 'get', 'toolhive', '-o', 'json']);
    return r.code === 0 && (JSON.parse(r.stdout) as { status?: { phase?: string } }).status?.phase === 'Ready' ? true : undefined;
  });
});
after(async () => {
  await local?.stop();
});

const job = (plural: string, name: string) => custom.getNamespacedCustomObject({ group: 'toolhive.stacklok.io', version: 'v1alpha1', plural, namespace: 'default', name }) as Promise<{ spec: unknown; status?: { phase?: string; result?: { serverCount?: number; location?: string; message?: string } } }>;

describe('registry export in the cluster', () => {
  test('--dry-run -o yaml prints the job for GitOps (no cluster needed), with exactly what the flags say', async () => {
    const flags = ['registry', 'export', 'nightly', '-n', 'team-b', '--registry', 'toolhive', '--format', 'upstream', '--include-tag', 'database', '--to-s3', 's3://backups/toolhive.json', '--s3-endpoint', 'https://minio.example.com', '--s3-path-style', '--s3-credentials-secret', 'backup-keys', '--ttl', '24h', '--dry-run', '-o', 'yaml'];
    const printed = await local.mcpreg(flags, { KUBECONFIG: '/nonexistent/kubeconfig' });
    assert.equal(printed.code, 0, printed.stderr);
    const doc = parse(printed.stdout) as { spec: unknown };
    assert.deepEqual(doc, {
      apiVersion: 'toolhive.stacklok.io/v1alpha1',
      kind: 'MCPRegistryExportJob',
      metadata: { name: 'nightly', namespace: 'team-b' },
      spec: {
        registryRef: { name: 'toolhive' },
        format: 'upstream',
        filter: { include: { tags: ['database'] } },
        target: { s3: { bucket: 'backups', key: 'toolhive.json', endpoint: 'https://minio.example.com', forcePathStyle: true, credentialsSecret: { name: 'backup-keys' } } },
        ttlSecondsAfterFinished: 86400,
      },
    });
    assert.ok(MCPRegistryExportJobSpec.safeParse(doc.spec).success);
  });

  test('--wait: the job is created, runs, and its outcome is printed; the ConfigMap holds the export; exit 0', async () => {
    const r = await local.mcpreg(['registry', 'export', 'cli-export', '--registry', 'toolhive', '--format', 'upstream-list', '--include-tag', 'database', '--to-configmap', 'cli-export:servers.json', '--wait']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'mcpregistryexportjob.toolhive.stacklok.io/cli-export created');
    assert.match(lines[1]!, /^mcpregistryexportjob default\/cli-export succeeded: exported snapshot [0-9a-f]{12} of default\/toolhive: \d+ servers/);
    const done = await job('mcpregistryexportjobs', 'cli-export');
    assert.equal(done.status?.phase, 'Succeeded');
    const text = (await core.readNamespacedConfigMap({ namespace: 'default', name: 'cli-export' })).data?.['servers.json'];
    const doc = JSON.parse(text!) as { servers: Array<{ server: { name: string } }>; metadata: { count: number } };
    assert.equal(doc.metadata.count, doc.servers.length);
    assert.equal(new Set(doc.servers.map((s) => s.server.name)).size, done.status?.result?.serverCount);
  });

  test('--wait: a job that fails exits 1 with its message; progress went to stderr', async () => {
    const r = await local.mcpreg(['registry', 'export', 'cli-export-missing', '--registry', 'no-such-registry', '--backoff-limit', '0', '--to-configmap', 'nowhere', '--wait']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /^mcpreg: mcpregistryexportjob default\/cli-export-missing failed: .*no published snapshot/m);
    noStack(r.stderr);
  });

  test('mistakes name the flag and exit 2, creating nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--registry', 'toolhive'], /give exactly one target: --to-configmap, --to-object-key, --to-s3, --to-git/],
      [['--registry', 'toolhive', '--to-configmap', 'a', '--to-object-key', 'b'], /\(got --to-configmap and --to-object-key\)/],
      [['--to-configmap', 'a'], /give --registry NAME/],
      [['--registry', 'toolhive', '--to-s3', 's3://b/k'], /--to-s3 needs --s3-credentials-secret/],
      [['--registry', 'toolhive', '--to-configmap', 'a', '--s3-endpoint', 'https://x'], /--s3-endpoint applies only to --to-s3/],
      [['--registry', 'toolhive', '--to-object-key', '/abs'], /--to-object-key: a relative object key/],
      [['--from', 'a.json'], /--from and --to go together/],
      [['--from', 'a.json', '--to', 'b.json', '--registry', 'toolhive'], /--registry applies to the job in the cluster, not between files/],
    ];
    for (const [args, message] of cases) {
      // between files there is no JOB
      const r = await local.mcpreg(['registry', 'export', ...(args[0] === '--from' ? [] : ['bad-export']), ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    await assert.rejects(job('mcpregistryexportjobs', 'bad-export'), (e: { code?: number }) => e.code === 404);
  });
});

describe('registry import in the cluster', () => {
  test('--dry-run -o yaml prints the job: the source flags of registry add, the target, --registry, --plan', async () => {
    const printed = await local.mcpreg(['registry', 'import', 'curate', '--git', 'https://git.example.com/catalog.git', '--branch', 'stable', '--auth-secret', 'git-creds', '--token-key', 'token', '--exclude-tier', 'Community', '--convert-to', 'upstream', '--mode', 'replace', '--to-git', 'https://git.example.com/curated.git', '--to-path', 'curated.json', '--to-auth-secret', 'git-creds', '--to-token-key', 'token', '--registry', 'curated', '--plan', '--dry-run'], { KUBECONFIG: '/nonexistent/kubeconfig' });
    assert.equal(printed.code, 0, printed.stderr);
    const doc = parse(printed.stdout) as { spec: unknown };
    assert.deepEqual(doc, {
      apiVersion: 'toolhive.stacklok.io/v1alpha1',
      kind: 'MCPRegistryImportJob',
      metadata: { name: 'curate' },
      spec: {
        source: { type: 'git', git: { repository: 'https://git.example.com/catalog.git', branch: 'stable', authSecret: { name: 'git-creds', tokenKey: 'token' } } },
        convertTo: 'upstream',
        filter: { exclude: { tiers: ['Community'] } },
        target: { git: { repository: 'https://git.example.com/curated.git', path: 'curated.json', authSecret: { name: 'git-creds', tokenKey: 'token' } } },
        mode: 'replace',
        dryRun: true,
        registry: { name: 'curated' },
      },
    });
    assert.ok(MCPRegistryImportJobSpec.safeParse(doc.spec).success);
  });

  test('--wait: imports into a ConfigMap and creates the registry reading it; --plan reports and writes nothing', async () => {
    const r = await local.mcpreg(['registry', 'import', 'cli-import', '--configmap', 'toolhive-registry', '--include-tag', 'database', '--to-configmap', 'cli-curated', '--registry', 'cli-curated', '--wait']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^mcpregistryimportjob\.toolhive\.stacklok\.io\/cli-import created\nmcpregistryimportjob default\/cli-import succeeded: configmap\/default\/cli-curated#registry\.json: .*MCPRegistry default\/cli-curated created/);
    const before = (await core.readNamespacedConfigMap({ namespace: 'default', name: 'cli-curated' })).data;
    const ready = await until('cli-curated to be Ready', async () => {
      const g = await local.mcpreg(['registry', 'get', 'cli-curated', '-o', 'json']);
      const o = g.code === 0 ? (JSON.parse(g.stdout) as { status?: { phase?: string; serverCount?: number } }) : undefined;
      return o?.status?.phase === 'Ready' ? o : undefined;
    });
    assert.equal(ready.status?.serverCount, (await job('mcpregistryimportjobs', 'cli-import')).status?.result?.serverCount);

    const plan = await local.mcpreg(['registry', 'import', 'cli-import-plan', '--url', 'http://127.0.0.1:1/none.json', '--allow-http', '--to-configmap', 'cli-curated', '--plan', '--backoff-limit', '0', '--wait']);
    assert.equal(plan.code, 1, 'an unreachable source: the job fails (no retries with --backoff-limit 0)');
    assert.match(plan.stderr, /mcpregistryimportjob default\/cli-import-plan failed: /);
    const planned = await local.mcpreg(['registry', 'import', 'cli-import-plan2', '--configmap', 'toolhive-registry', '--mode', 'replace', '--to-configmap', 'cli-curated', '--plan', '--wait']);
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, /dry run: nothing written/);
    assert.deepEqual((await core.readNamespacedConfigMap({ namespace: 'default', name: 'cli-curated' })).data, before, '--plan wrote nothing');
  });

  test('mistakes name the flag and exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--configmap', 'toolhive-registry'], /give exactly one target: --to-configmap, --to-registry, --to-git/],
      [['--to-configmap', 'x'], /registry import: give exactly one source/],
      [['--configmap', 'toolhive-registry', '--to-configmap', 'x', '--to-branch', 'b'], /--to-branch applies only to --to-git/],
      [['--configmap', 'toolhive-registry', '--to-configmap', 'x', '--report', 'r.json'], /--report applies between files/],
      [['--configmap', 'toolhive-registry', '--to-configmap', 'x', '--backoff-limit', 'many'], /--backoff-limit must be a number/],
      [['--configmap', 'toolhive-registry', '--to-registry', 'toolhive', '--registry', 'x'], /registry: .*with target\.registryRef the registry exists already/],
    ];
    for (const [args, message] of cases) {
      const r = await local.mcpreg(['registry', 'import', 'bad-import', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
  });
});
