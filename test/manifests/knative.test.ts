/**
 * knative/: renders with `kubectl kustomize`, every Knative object validates against the
 * published Knative CRD schemas with unknown fields rejected, the rules only Knative's
 * webhooks check hold, events are routed where they should go, RBAC grants exactly what
 * each function needs, and every container runs locked down.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { guessPlural } from '../../lib/kube/resources.ts';
import { parseDuration } from '../../lib/sync/duration.ts';
import { formatAjvErrors, newAjv } from './crd-validation.ts';
import {
  apiServerSourceProblems,
  autoscalingProblems,
  brokerProblems,
  cronProblem,
  pingSourceProblems,
  serviceProblems,
  triggerMatches,
  triggerProblems,
} from './knative-rules.ts';

type Obj = Record<string, any>;
const root = join(import.meta.dirname, '..', '..');
const knativeSchemas = join(root, '..', 'shared', 'schemas', 'knative');
const kubectl = spawnSync('kubectl', ['version', '--client=true'], { encoding: 'utf8' });
const noKubectl = kubectl.error || kubectl.status !== 0 ? 'kubectl is not installed: cannot render knative/ (install kubectl to run these tests)' : false;
const noSchemas = existsSync(knativeSchemas) ? false : `Knative CRD schemas not found at ${knativeSchemas}`;

let rendered: Obj[] = [];
const ofKind = (kind: string) => rendered.filter((o) => o.kind === kind);
const named = (kind: string, name: string) => {
  const found = rendered.find((o) => o.kind === kind && o.metadata?.name === name);
  assert.ok(found, `${kind} ${name} is rendered`);
  return found;
};

function render(dir: string): Obj[] {
  const out = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(out.status, 0, `kubectl kustomize ${dir} failed: ${out.stderr}`);
  return parseAllDocuments(out.stdout).map((d) => d.toJSON() as Obj);
}

/** Closes every object that lists properties (and is not preserve-unknown), except `skip`. */
function closeSchema(node: Obj, skip: Obj | undefined): Obj {
  if (typeof node !== 'object' || node === null) return node;
  if (Array.isArray(node)) return node.map((n) => closeSchema(n, skip));
  const out: Obj = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as Obj).map(([p, s]) => [p, closeSchema(s, skip)]));
    else if (['items', 'additionalProperties'].includes(k) && typeof v === 'object') out[k] = closeSchema(v, skip);
    else if (['anyOf', 'allOf', 'oneOf'].includes(k)) out[k] = (v as Obj[]).map((s) => closeSchema(s, skip));
    else out[k] = v;
  }
  if (node !== skip && node.properties && node['x-kubernetes-preserve-unknown-fields'] !== true && node.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

const validators = new Map<string, (o: Obj) => string[]>();
async function loadKnativeValidators(): Promise<void> {
  const ajv = newAjv();
  for (const file of ['serving-service.yaml', 'eventing-apiserversource.yaml', 'eventing-pingsource.yaml', 'eventing-broker.yaml', 'eventing-trigger.yaml']) {
    const crd = parse(await readFile(join(knativeSchemas, file), 'utf8')) as Obj;
    const version = (crd.spec.versions as Obj[]).find((v) => v.storage);
    const schema = version!.schema.openAPIV3Schema as Obj;
    // The Eventing roots list only spec and status, so their root stays open (apiVersion, kind, metadata).
    const rootIsPartial = !('metadata' in (schema.properties ?? {}));
    const validate = ajv.compile(closeSchema(schema, rootIsPartial ? schema : undefined));
    validators.set(`${crd.spec.group}/${version!.name}/${crd.spec.names.kind}`, (o) => (validate(o) ? [] : [formatAjvErrors(validate.errors ?? [])]));
  }
}
function knativeSchemaProblems(o: Obj): string[] {
  const validate = validators.get(`${o.apiVersion}/${o.kind}`);
  if (!validate) return [`no published schema for ${o.apiVersion} ${o.kind}`];
  return validate(o);
}

const isKnative = (o: Obj) => /(^|\.)knative\.dev\//.test(o.apiVersion);

describe('knative/ manifests', { skip: noKubectl || noSchemas }, () => {
  before(async () => {
    rendered = render(join(root, 'knative'));
    await loadKnativeValidators();
  });

  it('render the namespace, the CRDs, RBAC, config, two Services, a Broker, the sources and the Triggers', () => {
    const kinds = rendered.map((o) => o.kind).sort();
    for (const kind of ['Namespace', 'CustomResourceDefinition', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ConfigMap', 'Service', 'Broker', 'ApiServerSource', 'PingSource', 'Trigger']) {
      assert.ok(kinds.includes(kind), `${kind} is rendered`);
    }
    assert.equal(ofKind('Secret').length, 0, 'no Secret with values is installed (s3-credentials.example.yaml is a template)');
    for (const o of rendered) {
      if (o.kind === 'Namespace' || o.kind.startsWith('Cluster') || o.kind === 'CustomResourceDefinition') continue;
      assert.equal(o.metadata.namespace, 'mcp-registry', `${o.kind} ${o.metadata.name} is in mcp-registry`);
    }
    assert.equal(named('Namespace', 'mcp-registry').metadata.labels['pod-security.kubernetes.io/warn'], 'restricted');
  });

  it('include the CRDs from crds/ unchanged', async () => {
    const fromCrds = render(join(root, 'crds'));
    assert.equal(fromCrds.length, 4);
    for (const crd of fromCrds) assert.deepEqual(named('CustomResourceDefinition', crd.metadata.name), crd);
  });

  it('every Knative object validates against the published Knative CRD schema, unknown fields rejected', () => {
    const knative = rendered.filter(isKnative);
    assert.equal(knative.length, 14);
    for (const o of knative) assert.deepEqual(knativeSchemaProblems(o), [], `${o.kind} ${o.metadata.name}`);
  });

  it('the schema check rejects misspelt fields and unquoted annotation values', () => {
    const svc = structuredClone(named('Service', 'mcp-registry-query'));
    svc.spec.template.spec.containerConcurency = 4;
    assert.match(knativeSchemaProblems(svc).join(), /must NOT have additional properties/);
    const svc2 = structuredClone(named('Service', 'mcp-registry-query'));
    svc2.spec.template.metadata.annotations['autoscaling.knative.dev/min-scale'] = 0;
    assert.match(knativeSchemaProblems(svc2).join(), /must be string/);
    const ping = structuredClone(named('PingSource', 'mcp-registry-resync'));
    ping.spec.shedule = '* * * * *';
    assert.match(knativeSchemaProblems(ping).join(), /must NOT have additional properties/);
  });

  it('pass the rules only the Knative webhooks check', () => {
    const problems = [
      ...ofKind('Service').flatMap((s) => serviceProblems(s).map((p) => `Service ${s.metadata.name} ${p}`)),
      ...ofKind('PingSource').flatMap((s) => pingSourceProblems(s).map((p) => `PingSource ${p}`)),
      ...ofKind('Trigger').flatMap((t) => triggerProblems(t).map((p) => `Trigger ${t.metadata.name} ${p}`)),
      ...ofKind('ApiServerSource').flatMap((s) => apiServerSourceProblems(s).map((p) => `ApiServerSource ${p}`)),
      ...ofKind('Broker').flatMap((b) => brokerProblems(b).map((p) => `Broker ${p}`)),
    ];
    assert.deepEqual(problems, []);
  });

  it('the webhook rules catch what the webhooks would refuse', () => {
    const svc = structuredClone(named('Service', 'mcp-registry-query'));
    svc.metadata.annotations = { 'autoscaling.knative.dev/max-scale': '3' };
    svc.spec.template.metadata.annotations['autoscaling.knative.dev/min-scale'] = '20';
    svc.spec.template.metadata.annotations['autoscaling.knative.dev/window'] = '2s';
    svc.spec.template.spec.containers[0].readinessProbe.httpGet.port = 9000;
    svc.spec.template.spec.containers[0].ports[0].containerPort = 9090;
    const found = serviceProblems(svc).join('\n');
    assert.match(found, /metadata\.annotations\.autoscaling\.knative\.dev\/max-scale: autoscaling annotations belong on spec\.template/);
    assert.match(found, /min-scale 20 is above max-scale 10/);
    assert.match(found, /window: invalid value "2s"/);
    assert.match(found, /port 9090 is reserved/);
    assert.match(found, /probe port 9000 must be the container port 9090/);
    assert.deepEqual(autoscalingProblems({ 'autoscaling.knative.dev/initial-scale': '0' }, 'a').length, 1);
    assert.match(cronProblem('@every 1m') ?? '', /@every is rejected/);
    assert.match(cronProblem('61 * * * *') ?? '', /outside 0-59/);
    assert.match(cronProblem('* * *') ?? '', /expected 5 fields/);
    assert.equal(cronProblem('*/5 9-17 * JAN-MAR MON,FRI'), undefined);
    const ping = structuredClone(named('PingSource', 'mcp-registry-resync'));
    ping.spec.data = '["not", "an object"]';
    assert.match(pingSourceProblems(ping).join(), /must be a JSON object/);
    const trigger = structuredClone(ofKind('Trigger')[0]!);
    delete trigger.spec.subscriber;
    assert.match(triggerProblems(trigger).join(), /spec\.subscriber: needs ref or uri/);
    const source = structuredClone(named('ApiServerSource', 'mcp-registry-watch'));
    source.spec.mode = 'Full';
    assert.match(apiServerSourceProblems(source).join(), /spec\.mode/);
  });

  it('the ApiServerSource watches in Resource mode, and every kind resolves to a CRD in crds/ or a built-in, under the plural Knative derives', () => {
    const source = named('ApiServerSource', 'mcp-registry-watch');
    assert.equal(source.spec.mode, 'Resource');
    const crds = ofKind('CustomResourceDefinition');
    const builtins: Record<string, string> = { 'v1/ConfigMap': 'configmaps', 'v1/Secret': 'secrets', 'v1/Namespace': 'namespaces' };
    const kinds: string[] = [];
    for (const r of source.spec.resources as Obj[]) {
      kinds.push(r.kind);
      const [group, version] = (r.apiVersion as string).includes('/') ? (r.apiVersion as string).split('/') : ['', r.apiVersion as string];
      if (group === '') {
        assert.equal(builtins[`${version}/${r.kind}`], guessPlural(r.kind), `built-in ${r.kind} has the plural Knative derives`);
        continue;
      }
      const crd = crds.find((c) => c.spec.group === group && c.spec.names.kind === r.kind);
      assert.ok(crd, `a CRD in crds/ defines ${r.apiVersion} ${r.kind}`);
      assert.equal(crd.spec.names.plural, guessPlural(r.kind), `${r.kind}: CRD plural equals Knative's guess`);
      assert.ok((crd.spec.versions as Obj[]).some((v) => v.name === version && v.served), `${r.apiVersion} is served`);
    }
    assert.deepEqual(kinds, ['MCPRegistry', 'MCPRegistrySyncJob', 'MCPRegistryImportJob', 'MCPRegistryExportJob', 'ConfigMap']);
    const cm = (source.spec.resources as Obj[]).find((r) => r.kind === 'ConfigMap')!;
    assert.deepEqual(cm.selector, { matchLabels: { 'toolhive.stacklok.io/registry-source': 'true' } });
    assert.deepEqual(source.spec.namespaceSelector, {}, 'registries in every namespace');
  });

  it('sources, Triggers and dead letters point at objects that are installed', () => {
    const brokers = ofKind('Broker').map((b) => b.metadata.name);
    const ksvcs = ofKind('Service').map((s) => s.metadata.name);
    const resolves = (dest: Obj) => (dest.ref.kind === 'Broker' ? brokers : ksvcs).includes(dest.ref.name);
    for (const s of [...ofKind('ApiServerSource'), ...ofKind('PingSource')]) assert.ok(resolves(s.spec.sink), `${s.kind} sink`);
    for (const t of ofKind('Trigger')) {
      assert.ok(brokers.includes(t.spec.broker), `${t.metadata.name} broker`);
      assert.ok(resolves(t.spec.subscriber), `${t.metadata.name} subscriber`);
    }
    const delivery = named('Broker', 'mcp-registry').spec.delivery;
    assert.ok(delivery.retry >= 3);
    assert.equal(delivery.backoffPolicy, 'exponential');
    assert.ok(resolves(delivery.deadLetterSink));
    assert.equal(delivery.deadLetterSink.uri, '/dead-letter');
    assert.equal(named('PingSource', 'mcp-registry-resync').spec.schedule, '* * * * *');
  });

  it('route each event to exactly the right function', () => {
    const triggers = ofKind('Trigger');
    const route = (event: Record<string, string>) =>
      triggers.filter((t) => triggerMatches(t, event)).map((t) => `${t.spec.subscriber.ref.name}${t.spec.subscriber.uri ?? ''}`);
    const apiserver = (action: string, kind: string) => ({
      type: `dev.knative.apiserver.resource.${action}`,
      source: 'https://10.96.0.1:443',
      kind,
      name: 'x',
      namespace: 'team-a',
      apiversion: kind === 'ConfigMap' ? 'v1' : 'toolhive.stacklok.io/v1alpha1',
    });
    for (const action of ['add', 'update', 'delete']) {
      for (const kind of ['MCPRegistry', 'ConfigMap', 'MCPRegistrySyncJob']) assert.deepEqual(route(apiserver(action, kind)), ['mcp-registry-sync'], `${action} ${kind}`);
    }
    assert.deepEqual(route({ type: 'dev.knative.sources.ping', source: '/apis/v1/namespaces/mcp-registry/pingsources/mcp-registry-resync' }), ['mcp-registry-sync']);
    assert.deepEqual(route({ type: 'dev.knative.sources.ping', source: '/apis/v1/namespaces/other/pingsources/someone-elses' }), []);
    // the query function drops its cache; the sync function re-syncs the aggregates of team-a/x
    assert.deepEqual(route({ type: 'io.toolhive.registry.snapshot.published', source: '/mcp-registry-sync', subject: 'team-a/x' }).sort(), ['mcp-registry-query/events', 'mcp-registry-sync']);
    for (const kind of ['MCPServer', 'MCPRemoteProxy']) assert.deepEqual(route({ ...apiserver('update', kind), apiversion: 'toolhive.stacklok.dev/v1beta1' }), ['mcp-registry-sync'], `update ${kind}`);
    assert.deepEqual(route(apiserver('update', 'MCPServerEntry')), [], 'other kinds are not delivered');
    assert.deepEqual(route({ type: 'dev.knative.apiserver.ref.add', kind: 'MCPRegistry' }), [], 'Reference-mode events are not ours');
  });

  it('RBAC grants each function exactly what it needs', () => {
    const grants = (sa: string) => {
      const out = new Set<string>();
      for (const b of [...ofKind('ClusterRoleBinding'), ...ofKind('RoleBinding')]) {
        if (!(b.subjects as Obj[]).some((s) => s.kind === 'ServiceAccount' && s.name === sa && s.namespace === 'mcp-registry')) continue;
        const role = named(b.roleRef.kind, b.roleRef.name);
        const scope = b.kind === 'ClusterRoleBinding' ? 'cluster' : `ns:${b.metadata.namespace}`;
        for (const r of role.rules as Obj[]) {
          for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) {
            assert.ok(![g, res, v].includes('*'), `no wildcards (${sa})`);
            assert.equal(r.resourceNames, undefined);
            out.add(`${scope} ${g || 'core'} ${res} ${v}`);
          }
        }
      }
      return [...out].sort();
    };
    const each = (scope: string, group: string, resources: string[], verbs: string[]) => resources.flatMap((r) => verbs.map((v) => `${scope} ${group} ${r} ${v}`));
    assert.deepEqual(grants('mcp-registry-source'), [
      ...each('cluster', 'core', ['configmaps'], ['get', 'list', 'watch']),
      ...each('cluster', 'toolhive.stacklok.io', ['mcpregistries', 'mcpregistrysyncjobs', 'mcpregistryimportjobs', 'mcpregistryexportjobs'], ['get', 'list', 'watch']),
      ...each('cluster', 'toolhive.stacklok.dev', ['mcpservers', 'mcpremoteproxies'], ['get', 'list', 'watch']),
    ].sort());
    assert.deepEqual(grants('mcp-registry-query'), ['cluster authentication.k8s.io tokenreviews create', 'cluster authorization.k8s.io subjectaccessreviews create']);
    assert.deepEqual(grants('mcp-registry-sync'), [
      ...each('cluster', 'toolhive.stacklok.io', ['mcpregistries', 'mcpregistrysyncjobs'], ['get', 'list', 'watch', 'update', 'patch']),
      // an import job's spec.registry: create the MCPRegistry reading its target
      'cluster toolhive.stacklok.io mcpregistries create',
      ...each('cluster', 'toolhive.stacklok.io', ['mcpregistries/status', 'mcpregistrysyncjobs/status'], ['get', 'update', 'patch']),
      // import and export jobs: run, record status, delete finished ones past their TTL
      ...each('cluster', 'toolhive.stacklok.io', ['mcpregistryimportjobs', 'mcpregistryexportjobs'], ['get', 'list', 'watch', 'delete']),
      ...each('cluster', 'toolhive.stacklok.io', ['mcpregistryimportjobs/status', 'mcpregistryexportjobs/status'], ['get', 'update', 'patch']),
      // ConfigMap sources; create/update for the ConfigMap targets of import and export jobs;
      // patch to label (and unlabel) the ConfigMaps registries read
      ...each('cluster', 'core', ['configmaps'], ['get', 'list', 'watch', 'create', 'update', 'patch']),
      // ToolHive's workloads: discovery and association (list), labels and updates (server-side apply), onUpdate recreate (create, delete)
      ...each('cluster', 'toolhive.stacklok.dev', ['mcpservers', 'mcpremoteproxies'], ['get', 'list', 'watch', 'patch', 'create', 'delete']),
      ...each('cluster', 'core', ['events'], ['create', 'patch']),
      ...each('cluster', 'events.k8s.io', ['events'], ['create', 'patch']),
      // ingress authentication: the Broker's OIDC tokens (MCPREG_SYNC_OIDC_AUDIENCE)
      'cluster authentication.k8s.io tokenreviews create',
      ...each('ns:mcp-registry', 'coordination.k8s.io', ['leases'], ['get', 'create', 'update', 'delete']),
      // Secrets: only get, and only in namespaces bound one by one (never cluster-wide by default)
      'ns:mcp-registry core secrets get',
    ].sort());
    // the ApiServerSource's SA has get/list/watch on every watched resource, cluster-wide (namespaceSelector {})
    for (const source of ofKind('ApiServerSource')) {
      const sourceGrants = grants(source.spec.serviceAccountName);
      for (const r of source.spec.resources as Obj[]) {
        const group = r.apiVersion.includes('/') ? r.apiVersion.split('/')[0] : 'core';
        for (const verb of ['get', 'list', 'watch']) assert.ok(sourceGrants.includes(`cluster ${group} ${guessPlural(r.kind)} ${verb}`), `${source.metadata.name}: ${r.kind} ${verb}`);
      }
    }
    assert.equal(named('Service', 'mcp-registry-sync').spec.template.spec.serviceAccountName, 'mcp-registry-sync');
    assert.equal(named('Service', 'mcp-registry-query').spec.template.spec.serviceAccountName, 'mcp-registry-query');
  });

  it("a NetworkPolicy admits to the sync pods only the Broker's (knative-eventing) and Knative Serving's traffic", () => {
    const policy = named('NetworkPolicy', 'mcp-registry-sync-ingress');
    const svc = named('Service', 'mcp-registry-sync');
    assert.deepEqual(policy.spec.podSelector.matchLabels, { 'serving.knative.dev/service': svc.metadata.name });
    assert.deepEqual(policy.spec.policyTypes, ['Ingress']);
    assert.equal(policy.spec.ingress.length, 1);
    const from = (policy.spec.ingress[0].from as Obj[]).map((f) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']);
    assert.deepEqual(from, ['knative-eventing', 'knative-serving']);
    assert.ok((policy.spec.ingress[0].from as Obj[]).every((f) => Object.keys(f).length === 1 && f.namespaceSelector), 'no other peers');
    assert.equal(ofKind('NetworkPolicy').length, 1, 'the query function stays reachable from its ingress');
  });

  it('every container runs non-root, read-only, without capabilities, with resources', () => {
    for (const svc of ofKind('Service')) {
      for (const c of svc.spec.template.spec.containers as Obj[]) {
        const at = `${svc.metadata.name}/${c.name}`;
        const sc = c.securityContext ?? {};
        assert.equal(sc.runAsNonRoot, true, at);
        assert.ok(Number.isInteger(sc.runAsUser) && sc.runAsUser > 0, `${at} runAsUser`);
        assert.equal(sc.readOnlyRootFilesystem, true, at);
        assert.equal(sc.allowPrivilegeEscalation, false, at);
        assert.deepEqual(sc.capabilities?.drop, ['ALL'], at);
        assert.equal(sc.seccompProfile?.type, 'RuntimeDefault', at);
        for (const k of ['cpu', 'memory']) assert.ok(c.resources?.requests?.[k], `${at} requests.${k}`);
        assert.ok(c.resources?.limits?.memory, `${at} limits.memory`);
      }
    }
  });

  it('the sync Service scales to zero, bounds concurrency and outlives the sync deadline', () => {
    const svc = named('Service', 'mcp-registry-sync');
    const a = svc.spec.template.metadata.annotations;
    const config = named('ConfigMap', 'mcp-registry-config').data;
    assert.equal(a['autoscaling.knative.dev/min-scale'] ?? '0', '0');
    assert.ok(Number(a['autoscaling.knative.dev/max-scale']) >= 1 && Number(a['autoscaling.knative.dev/max-scale']) <= 5);
    const cc = svc.spec.template.spec.containerConcurrency;
    assert.ok(cc >= 1 && cc <= 10, 'containerConcurrency bounded');
    assert.ok(svc.spec.template.spec.timeoutSeconds * 1000 > parseDuration(config.MCPREG_SYNC_DEADLINE), 'timeoutSeconds > MCPREG_SYNC_DEADLINE');
    assert.equal(svc.metadata.labels['networking.knative.dev/visibility'], 'cluster-local', 'sync is never exposed outside the cluster');
    assert.equal(svc.spec.template.spec.containers[0].readinessProbe.httpGet.path, '/readyz');
    // the Leases are kept where the sync function's Role grants them
    const leaseRole = named('Role', 'mcp-registry-sync-leases');
    assert.equal(config.MCPREG_LEASE_NAMESPACE, leaseRole.metadata.namespace);
    assert.ok((leaseRole.rules as Obj[]).some((r) => r.resources.includes('leases')));
  });

  it('the query Service scales to zero with burst settings and a /readyz readiness probe', () => {
    const svc = named('Service', 'mcp-registry-query');
    const a = svc.spec.template.metadata.annotations;
    assert.equal(a['autoscaling.knative.dev/min-scale'], '0');
    for (const k of ['target', 'max-scale', 'initial-scale', 'scale-down-delay', 'scale-to-zero-pod-retention-period']) {
      assert.ok(a[`autoscaling.knative.dev/${k}`], `${k} set on the revision template`);
    }
    const c = svc.spec.template.spec.containers[0];
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(c.readinessProbe.httpGet.port ?? c.ports[0].containerPort, c.ports[0].containerPort);
  });

  it('one image for both functions, chosen by FUNCTION; configuration from the ConfigMap and an optional Secret', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    const build = await readFile(join(root, 'scripts', 'build.ts'), 'utf8');
    const built = [...(build.match(/const entries = \{([^}]*)\}/)?.[1] ?? '').matchAll(/(\w+):/g)].map((m) => m[1]);
    const images = new Set<string>();
    for (const svc of ofKind('Service')) {
      const c = svc.spec.template.spec.containers[0];
      images.add(c.image);
      const fn = (c.env as Obj[]).find((e) => e.name === 'FUNCTION')?.value;
      assert.ok(built.includes(fn), `FUNCTION=${fn} names a bundle scripts/build.ts produces (${built.join(', ')})`);
      assert.equal(svc.metadata.name, `mcp-registry-${fn}`);
      assert.equal(c.envFrom[0].configMapRef.name, 'mcp-registry-config');
      assert.deepEqual(c.envFrom[1].secretRef, { name: 'mcp-registry-s3', optional: true });
    }
    assert.deepEqual([...images], [`ghcr.io/knative-mcp-registry/knative-mcp-registry:${pkg.version}`]);
    const config = named('ConfigMap', 'mcp-registry-config').data as Record<string, string>;
    for (const key of Object.keys(config)) assert.doesNotMatch(key, /SECRET|PASSWORD|TOKEN|ACCESS_KEY/, 'no credentials in the ConfigMap');
    assert.equal(config.MCPREG_STORE, 's3');
    const example = parse(await readFile(join(root, 'knative', 's3-credentials.example.yaml'), 'utf8')) as Obj;
    assert.equal(example.metadata.name, 'mcp-registry-s3');
    for (const v of Object.values(example.stringData as Record<string, string>)) assert.equal(v, 'REPLACE_ME');
  });

  it("the optional GitHub and GitLab sources send push events to the Broker, and their Triggers route exactly those to the sync function", async () => {
    const load = async (f: string) => parseAllDocuments(await readFile(join(root, 'knative', 'optional', f), 'utf8')).map((d) => d.toJSON() as Obj);
    const cases = [
      { file: 'github-source.yaml', kind: 'GitHubSource', eventTypes: ['push'], push: ['dev.knative.source.github.push'], other: 'dev.knative.source.github.pull_request' },
      { file: 'gitlab-source.yaml', kind: 'GitLabSource', eventTypes: ['push_events'], push: ['dev.knative.sources.gitlab.push', 'dev.knative.sources.gitlabsource.Push Hook'], other: 'dev.knative.sources.gitlab.merge_request' },
    ];
    for (const c of cases) {
      const docs = await load(c.file);
      const source = docs.find((d) => d.kind === c.kind)!;
      assert.deepEqual(source.spec.eventTypes, c.eventTypes, c.file);
      assert.equal(source.metadata.namespace, 'mcp-registry');
      assert.deepEqual(source.spec.sink.ref, { apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', name: named('Broker', 'mcp-registry').metadata.name });
      const secret = docs.find((d) => d.kind === 'Secret')!;
      for (const ref of [source.spec.accessToken.secretKeyRef, source.spec.secretToken.secretKeyRef]) {
        assert.equal(ref.name, secret.metadata.name);
        assert.ok(ref.key in secret.stringData, `${c.file} ${ref.key}`);
      }
      const trigger = docs.find((d) => d.kind === 'Trigger')!;
      assert.equal(trigger.spec.broker, 'mcp-registry');
      assert.equal(trigger.spec.subscriber.ref.name, named('Service', 'mcp-registry-sync').metadata.name);
      for (const type of c.push) assert.ok(triggerMatches(trigger, { type, source: 'https://example.com/o/r' }), `${c.file} routes ${type}`);
      assert.ok(!triggerMatches(trigger, { type: c.other, source: 'https://example.com/o/r' }), `${c.file} does not route ${c.other}`);
      // the installed Triggers do not route push events (only the optional one does)
      assert.deepEqual(ofKind('Trigger').filter((t) => c.push.some((type) => triggerMatches(t, { type }))), []);
    }
  });

  it('the optional cluster-wide Secret binding refers to the installed role and account', async () => {
    const binding = parse(await readFile(join(root, 'knative', 'optional', 'secret-reader-all-namespaces.yaml'), 'utf8')) as Obj;
    assert.equal(binding.kind, 'ClusterRoleBinding');
    assert.deepEqual(named('ClusterRole', binding.roleRef.name).rules, [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
    assert.ok(named('ServiceAccount', binding.subjects[0].name));
  });
});
