/**
 * `mcpreg deploy` against local mode: the embedded control plane with the generated
 * MCPServer/MCPRemoteProxy CRDs, the real query API, the example registries.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startLocalMode, until, type LocalMode } from '../cli/local-mode.ts';

const GROUP = 'toolhive.stacklok.dev';
const VERSION = 'v1beta1';
const L = 'toolhive.stacklok.io';

describe('mcpreg deploy', () => {
  let local: LocalMode;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;

  before(async () => {
    local = await startLocalMode();
    custom = local.kubeConfig.makeApiClient(CustomObjectsApi);
    core = local.kubeConfig.makeApiClient(CoreV1Api);
    // the registries must have published before their entries can be deployed
    const registries = local.kubeConfig.makeApiClient(CustomObjectsApi);
    await until('the example registries to be ready', async () => {
      const list = (await registries.listNamespacedCustomObject({ group: 'toolhive.stacklok.io', version: 'v1alpha1', plural: 'mcpregistries', namespace: 'default' })) as { items: { status?: { phase?: string } }[] };
      return list.items.length >= 4 && list.items.every((r) => r.status?.phase === 'Ready') ? true : undefined;
    }, 60_000);
  });
  after(async () => local?.stop());

  const get = (plural: string, name: string, namespace = 'default') => custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural, namespace, name }) as Promise<any>;

  it('deploys a ToolHive image entry: spec, labels, annotations and the permission-profile ConfigMap', async () => {
    const r = await local.mcpreg(['deploy', 'github', '--registry', 'default/toolhive', '--secret', 'GITHUB_PERSONAL_ACCESS_TOKEN=github-token/token', '--env', 'GITHUB_READ_ONLY=1']);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'configmap/github-permissions serverside-applied\nmcpserver.toolhive.stacklok.dev/github serverside-applied\n');
    const w = await get('mcpservers', 'github');
    assert.equal(w.spec.image, 'ghcr.io/github/github-mcp-server:v0.31.0');
    assert.equal(w.spec.transport, 'stdio');
    assert.deepEqual(w.spec.env, [{ name: 'GITHUB_READ_ONLY', value: '1' }]);
    assert.deepEqual(w.spec.secrets, [{ name: 'github-token', key: 'token', targetEnvName: 'GITHUB_PERSONAL_ACCESS_TOKEN' }]);
    assert.deepEqual(w.spec.permissionProfile, { type: 'configmap', name: 'github-permissions', key: 'permissions.json' });
    assert.deepEqual(
      Object.fromEntries(Object.entries(w.metadata.labels as Record<string, string>).filter(([k]) => k.startsWith(L))),
      { [`${L}/registry-name`]: 'toolhive', [`${L}/registry-namespace`]: 'default', [`${L}/server-name`]: 'github', [`${L}/tier`]: 'Official', [`${L}/category`]: 'api' },
    );
    const annotations = w.metadata.annotations as Record<string, string>;
    assert.equal(annotations[`${L}/registry-upstream-name`], 'io.github.stacklok/github');
    assert.equal(annotations[`${L}/registry-entry-version`], '1.0.0');
    assert.match(annotations[`${L}/registry-snapshot`] ?? '', /^[0-9a-f]{64}$/);
    assert.match(annotations[`${L}/registry-managed-fields`] ?? '', /spec\.image/);
    assert.ok((w.metadata.managedFields as { manager: string; operation: string }[]).some((m) => m.manager === 'mcp-registry' && m.operation === 'Apply'), 'applied by our field manager');
    const cm = await core.readNamespacedConfigMap({ name: 'github-permissions', namespace: 'default' });
    assert.deepEqual(JSON.parse(cm.data!['permissions.json']!), { read: [], write: [], network: { outbound: { insecureAllowAll: false, allowHost: ['.github.com', '.githubusercontent.com'], allowPort: [443] } } });
  });

  it('deploys an upstream OCI package, named by its upstream name, into another namespace under another name', async () => {
    await core.createNamespace({ body: { metadata: { name: 'apps' } } });
    const r = await local.mcpreg(['deploy', 'io.github.stacklok/fetch', '--registry', 'default/upstream-mirror', '-n', 'apps', '--name', 'web-fetch']);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const w = await get('mcpservers', 'web-fetch', 'apps');
    assert.equal(w.spec.image, 'ghcr.io/stackloklabs/gofetch/server:1.0.3');
    assert.equal(w.metadata.labels[`${L}/server-name`], 'fetch');
    assert.equal(w.metadata.labels[`${L}/registry-name`], 'upstream-mirror');
    assert.equal(w.metadata.labels[`${L}/tier`], 'Community');
    const cm = await core.readNamespacedConfigMap({ name: 'web-fetch-permissions', namespace: 'apps' });
    assert.deepEqual(JSON.parse(cm.data!['permissions.json']!).network.outbound, { insecureAllowAll: true, allowHost: [], allowPort: [443] });
  });

  it('deploys a remote entry as an MCPRemoteProxy', async () => {
    const r = await local.mcpreg(['deploy', 'context7-remote', '--registry', 'default/remote-servers']);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'mcpremoteproxy.toolhive.stacklok.dev/context7-remote serverside-applied\n');
    const w = await get('mcpremoteproxies', 'context7-remote');
    assert.match(w.spec.remoteUrl, /^https:\/\//);
    assert.equal(w.spec.transport, 'streamable-http');
    assert.equal(w.metadata.labels[`${L}/server-name`], 'context7-remote');
  });

  it('mcpreg show lists the workloads that run a server', async () => {
    const r = await local.mcpreg(['show', 'github']);
    assert.equal(r.code, 0, r.stderr);
    const section = r.stdout.slice(r.stdout.indexOf('\nWorkloads'));
    assert.match(section, /^\nWorkloads \(1\):\n  NAMESPACE +NAME +KIND +REGISTRY +VERSION\n  default +github +MCPServer +default\/toolhive +1\.0\.0\n$/);
    const fetch = await local.mcpreg(['show', 'fetch', '-o', 'json']);
    assert.deepEqual(JSON.parse(fetch.stdout).workloads, [{ namespace: 'apps', name: 'web-fetch', kind: 'MCPServer', registry: 'default/upstream-mirror', version: '1.0.0' }]);
    const none = await local.mcpreg(['show', 'postgres-mcp-pro']);
    assert.match(none.stdout, /\nWorkloads:\n  <none>\n$/);
  });

  it('values given with --env and --secret survive the updates of the registry, declared by the entry or not', async () => {
    const r = await local.mcpreg(['deploy', 'github', '--registry', 'default/toolhive', '--name', 'gh-env', '--secret', 'GITHUB_PERSONAL_ACCESS_TOKEN=github-token/token', '--env', 'UNDECLARED_FLAG=on', '--env', 'GITHUB_READ_ONLY=1']);
    assert.equal(r.code, 0, r.stderr);
    const deployed = await get('mcpservers', 'gh-env');
    assert.equal(deployed.metadata.annotations[`${L}/registry-user-values`], 'GITHUB_PERSONAL_ACCESS_TOKEN,GITHUB_READ_ONLY,UNDECLARED_FLAG');
    const hash = deployed.metadata.annotations[`${L}/registry-entry-hash`];
    // make the workload look behind its entry: the sync function (woken by this edit) updates it
    await custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, plural: 'mcpservers', namespace: 'default', name: 'gh-env', fieldManager: 'kubectl-edit', body: { metadata: { annotations: { [`${L}/registry-entry-hash`]: 'stale' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const updated = await until('the registry to update gh-env', async () => {
      const w = await get('mcpservers', 'gh-env');
      return w.metadata.annotations[`${L}/registry-entry-hash`] === hash ? w : undefined;
    }, 30_000);
    const env = [...updated.spec.env].sort((a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name));
    assert.deepEqual(env, [
      { name: 'GITHUB_READ_ONLY', value: '1' },
      { name: 'UNDECLARED_FLAG', value: 'on' },
    ]);
    assert.deepEqual(updated.spec.secrets, [{ name: 'github-token', key: 'token', targetEnvName: 'GITHUB_PERSONAL_ACCESS_TOKEN' }]);
    assert.equal(updated.metadata.annotations[`${L}/registry-user-values`], 'GITHUB_PERSONAL_ACCESS_TOKEN,GITHUB_READ_ONLY,UNDECLARED_FLAG');
  });

  it('--dry-run -o yaml prints what would be applied and creates nothing', async () => {
    const r = await local.mcpreg(['deploy', 'github', '--registry', 'default/toolhive', '--name', 'gh-dry', '--secret', 'GITHUB_PERSONAL_ACCESS_TOKEN=github-token/token', '--dry-run', '-o', 'yaml']);
    assert.equal(r.code, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJSON());
    assert.deepEqual(docs.map((d) => `${d.kind}/${d.metadata.name}`), ['ConfigMap/gh-dry-permissions', 'MCPServer/gh-dry']);
    assert.equal(docs[1].apiVersion, 'toolhive.stacklok.dev/v1beta1');
    await assert.rejects(get('mcpservers', 'gh-dry'), (e: { code?: number }) => e.code === 404);
    const json = await local.mcpreg(['deploy', 'context7-remote', '--registry', 'default/remote-servers', '--dry-run', '-o', 'json']);
    assert.equal(JSON.parse(json.stdout).kind, 'MCPRemoteProxy');
    assert.equal(parseYaml(r.stdout.split('---\n')[1]!).spec.image, 'ghcr.io/github/github-mcp-server:v0.31.0');
  });

  it('exits 1 with one line when the server is not in the registry or a required variable is missing', async () => {
    const absent = await local.mcpreg(['deploy', 'no-such-server', '--registry', 'default/toolhive']);
    assert.equal(absent.code, 1);
    assert.equal(absent.stderr, 'mcpreg: server "no-such-server" is not in registry default/toolhive\n');
    const required = await local.mcpreg(['deploy', 'github', '--registry', 'default/toolhive', '--name', 'gh2']);
    assert.equal(required.code, 1);
    assert.match(required.stderr, /^mcpreg: server "github": secret variable GITHUB_PERSONAL_ACCESS_TOKEN is required and has no default: give it from a Secret \(--secret GITHUB_PERSONAL_ACCESS_TOKEN=SECRET\/KEY\)\n$/);
    const plain = await local.mcpreg(['deploy', 'github', '--registry', 'default/toolhive', '--name', 'gh2', '--env', 'GITHUB_PERSONAL_ACCESS_TOKEN=ghp_x']);
    assert.equal(plain.code, 1);
    assert.doesNotMatch(plain.stderr, /ghp_x/, 'a secret value never appears in a message');
    const bad = await local.mcpreg(['deploy', 'github', '--registry', 'toolhive']);
    assert.equal(bad.code, 2);
  });

  it('exits 1 with one line when the workload CRD is not installed, and writes nothing', async () => {
    const ext = local.kubeConfig.makeApiClient(ApiextensionsV1Api);
    await ext.deleteCustomResourceDefinition({ name: `mcpremoteproxies.${GROUP}` });
    await until('the CRD to be gone', async () => {
      try {
        await ext.readCustomResourceDefinition({ name: `mcpremoteproxies.${GROUP}` });
        return undefined;
      } catch {
        return true;
      }
    });
    const r = await local.mcpreg(['deploy', 'context7-remote', '--registry', 'default/remote-servers', '--name', 'ctx2']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "mcpreg: the MCPRemoteProxy CRD (mcpremoteproxies.toolhive.stacklok.dev) is not installed on this cluster; ToolHive's operator installs it\n");
    // an image entry's permission-profile ConfigMap is not written either
    await ext.deleteCustomResourceDefinition({ name: `mcpservers.${GROUP}` });
    await until('the MCPServer CRD to be gone', async () => {
      const r = await local.mcpreg(['deploy', 'github', '--registry', 'default/toolhive', '--name', 'gh3', '--secret', 'GITHUB_PERSONAL_ACCESS_TOKEN=t/k']);
      return r.code === 1 && /MCPServer CRD \(mcpservers\.toolhive\.stacklok\.dev\) is not installed/.test(r.stderr) ? true : undefined;
    });
    await assert.rejects(core.readNamespacedConfigMap({ name: 'gh3-permissions', namespace: 'default' }), (e: { code?: number }) => e.code === 404);
  });
});
