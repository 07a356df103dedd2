/**
 * `mcpreg registry list|get|add|sync|remove` against local mode's pieces: the embedded
 * control plane (with kubectl where the machine has it), the sync function, the event bridge
 * and the example sources.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { MCPRegistrySpec } from '../../lib/kube/mcpregistry-spec.ts';
import { startLocalMode, until, type LocalMode } from './local-mode.ts';

const EXAMPLES = ['database-servers', 'platform', 'remote-servers', 'toolhive', 'upstream-mirror'];
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
const noStack = (s: string) => assert.ok(!/\n\s+at /.test(s), `no stack trace in ${JSON.stringify(s)}`);

let local: LocalMode;
let custom: CustomObjectsApi;
const base = { group: 'toolhive.stacklok.io', version: 'v1alpha1', plural: 'mcpregistries' };
const getObject = (namespace: string, name: string) => custom.getNamespacedCustomObject({ ...base, namespace, name }) as Promise<{ metadata: { generation: number; finalizers?: string[] }; spec: unknown; status?: Record<string, unknown> }>;

function kubectl(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('kubectl', ['--kubeconfig', local.dev.kubeconfigPath, ...args], { timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    child.stdin?.end(stdin ?? '');
  });
}

before(async () => {
  local = await startLocalMode();
  custom = local.kubeConfig.makeApiClient(CustomObjectsApi);
  await local.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'team-b' } } });
  await until('the examples to be Ready', async () => {
    const r = await local.mcpreg(['registry', 'list', '-o', 'json']);
    const items = (JSON.parse(r.stdout) as { items: { status?: { phase?: string } }[] }).items;
    return items.length === EXAMPLES.length && items.every((i) => i.status?.phase === 'Ready') ? true : undefined;
  });
});
after(async () => {
  await local?.stop();
});

describe('registry list and get', () => {
  test('the namespace of the kubeconfig context, -n, and -A with a NAMESPACE column', async () => {
    const added = await local.mcpreg(['registry', 'add', 'other', '-n', 'team-b', '--url', 'https://registry.example.com/registry.json']);
    assert.equal(added.code, 0, added.stderr);

    const list = await local.mcpreg(['registry', 'list']);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME {15}READY {3}SERVERS {3}LAST SYNC {3}SOURCE {6}DEPLOYED {3}AGE$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[0]), EXAMPLES);
    assert.match(lines.find((l) => l.startsWith('toolhive '))!, /^toolhive\s+True\s+76\s+\S+\s+configmap\s+0\s+\S+$/);

    const teamB = await local.mcpreg(['registry', 'list', '-n', 'team-b', '-o', 'name']);
    assert.ok(teamB.stdout.split('\n').includes('mcpregistry.toolhive.stacklok.io/other'), teamB.stdout);
    assert.ok(!teamB.stdout.includes('/toolhive\n'), 'only team-b');

    const all = await local.mcpreg(['registry', 'list', '-A']);
    const rows = all.stdout.trimEnd().split('\n');
    assert.match(rows[0]!, /^NAMESPACE\s+NAME\s+READY\s+SERVERS/);
    const listed = rows.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join('/'));
    for (const n of [...EXAMPLES.map((n) => `default/${n}`), 'team-b/other']) assert.ok(listed.includes(n), `${n} in ${listed}`);
    assert.deepEqual(listed, [...listed].sort(), 'by namespace, then name');

    const wide = await local.mcpreg(['registry', 'list', '-o', 'wide']);
    assert.match(wide.stdout.split('\n')[0]!, /AGE\s+PHASE\s+INVALID\s+NEXT SYNC\s+SNAPSHOT\s+REASON\s+BEHIND$/);
    const json = JSON.parse((await local.mcpreg(['registry', 'list', '-A', '-o', 'json'])).stdout) as { kind: string; items: unknown[] };
    assert.equal(json.kind, 'List');
    assert.equal(json.items.length, listed.length);
    assert.ok((parse((await local.mcpreg(['registry', 'list', '-n', 'team-b', '-o', 'yaml'])).stdout) as { items: { metadata: { name: string } }[] }).items.some((i) => i.metadata.name === 'other'));

    const empty = await local.mcpreg(['registry', 'list', '-n', 'nobody-here']);
    assert.equal(empty.code, 0);
    assert.equal(empty.stdout, '');
    assert.equal(empty.stderr, 'No resources found in nobody-here namespace.\n');
    const both = await local.mcpreg(['registry', 'list', '-n', 'x', '-A']);
    assert.equal(both.code, 2);
    assert.equal(both.stderr, 'mcpreg: registry list: -n and -A exclude each other\n');
  });

  test('the same table as kubectl get mcpregistries', { skip: hasKubectl ? false : 'kubectl is not installed' }, async () => {
    const rows = (text: string) => text.trimEnd().split('\n').filter((l, i) => i === 0 || EXAMPLES.includes(l.split(' ')[0]!));
    // ages may tick between the two calls: compare the layout with ages blanked out
    const blank = (text: string) => rows(text).map((l) => l.replace(/\b\d+(s|m|h|d)(\d+(s|m|h))?\b/g, (m) => '~'.repeat(m.length)));
    const read = async () => blank((await local.mcpreg(['registry', 'list', '-o', 'wide'])).stdout);
    // a sync may run between the two calls (the aggregate platform re-syncs when one of its
    // members publishes): compare a pair of kubectl's rows taken between two equal readings of ours
    const [ours, theirs] = await until('two equal readings of the examples around kubectl get', async () => {
      const before = await read();
      const theirs = blank((await kubectl(['get', 'mcpregistries', '-o', 'wide'])).stdout);
      const after = await read();
      return JSON.stringify(before) === JSON.stringify(after) ? [after, theirs] : undefined;
    });
    assert.equal(ours.length, EXAMPLES.length + 1);
    assert.deepEqual(ours, theirs);
  });

  test('get: conditions, counts, snapshot, API, last error and next sync; -o json is the object', async () => {
    const r = await local.mcpreg(['registry', 'get', 'toolhive']);
    assert.equal(r.code, 0, r.stderr);
    const object = await getObject('default', 'toolhive');
    const status = object.status as { snapshot: { hash: string }; nextSyncTime: string; apiEndpoint: string };
    for (const line of [
      /^Name: +toolhive$/m,
      /^Namespace: +default$/m,
      /^Source: +configmap toolhive-registry, key registry\.json$/m,
      /^Filter: +exclude tiers Community$/m,
      /^Phase: +Ready$/m,
      /^Servers: +76$/m,
      new RegExp(`^Snapshot: +${status.snapshot.hash} \\(revision \\S+\\)$`, 'm'),
      new RegExp(`^API: +${status.apiEndpoint}$`, 'm'),
      new RegExp(`^Next sync: +${status.nextSyncTime} \\(in \\S+\\)$`, 'm'),
      /^Last error: +<none>$/m,
      // Unchanged when a later pass found the source as it was (the ConfigMap's registry-source label, an aggregate's member)
      /^Conditions:\n {2}TYPE +STATUS +REASON +AGE +MESSAGE\n {2}Ready +True +(Synced +\S+ +published snapshot|Unchanged +\S+ +source unchanged; serving snapshot)/m,
      /^ {2}Valid +True +Valid /m,
    ]) {
      assert.match(r.stdout, line);
    }
    const json = JSON.parse((await local.mcpreg(['registry', 'get', 'toolhive', '-o', 'json'])).stdout) as { kind: string; metadata: { name: string } };
    assert.equal(json.kind, 'MCPRegistry');
    assert.equal(json.metadata.name, 'toolhive');
    assert.equal((await local.mcpreg(['registry', 'add', 'get-me', '-n', 'team-b', '--url', 'https://registry.example.com/get-me.json'])).code, 0);
    const row = await local.mcpreg(['registry', 'get', 'get-me', '-n', 'team-b', '-o', 'table']);
    // a registry that has not synced: empty cells, as kubectl prints them
    assert.match(row.stdout, /^NAME +READY +SERVERS +LAST SYNC +SOURCE +DEPLOYED +AGE\nget-me +(True|False)? +url +\S+\n$/);
    const missing = await local.mcpreg(['registry', 'get', 'nope']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'mcpreg: mcpregistry "nope" not found in namespace "default"\n');
  });
});

describe('registry add', () => {
  const created = async (namespace: string, name: string) => (await getObject(namespace, name)).spec;

  test('from each source type, with filters and auth flags: the object holds exactly what the flags say', async () => {
    const cases: [string, string[], Record<string, unknown>][] = [
      [
        'from-configmap',
        ['--configmap', 'toolhive-registry:registry.json', '--format', 'toolhive', '--include-tag', 'database', '--include-tag', 'storage', '--exclude-tier', 'Community', '--interval', '30m'],
        { format: 'toolhive', source: { type: 'configmap', configMap: { name: 'toolhive-registry', key: 'registry.json' } }, syncPolicy: { interval: '30m' }, filter: { include: { tags: ['database', 'storage'] }, exclude: { tiers: ['Community'] } } },
      ],
      [
        'from-url',
        ['--url', 'https://registry.example.com/r.json', '--auth-secret', 'creds', '--token-key', 'token', '--header', 'Accept=application/json', '--include-name', 'io.github.*', '--exclude-transport', 'stdio'],
        { source: { type: 'url', url: { url: 'https://registry.example.com/r.json', headers: { Accept: 'application/json' }, authSecret: { name: 'creds', tokenKey: 'token' } } }, filter: { include: { names: ['io.github.*'] }, exclude: { transports: ['stdio'] } } },
      ],
      [
        'from-git',
        ['--git', 'http://git.example.com/r.git', '--branch', 'release', '--path', 'data/registry.json', '--allow-http', '--auth-secret', 'git-creds', '--username-key', 'user', '--password-key', 'pass', '--include-category', 'Data', '--exclude-name', '*-beta'],
        { source: { type: 'git', git: { repository: 'http://git.example.com/r.git', branch: 'release', path: 'data/registry.json', allowHttp: true, authSecret: { name: 'git-creds', usernameKey: 'user', passwordKey: 'pass' } } }, filter: { include: { categories: ['Data'] }, exclude: { names: ['*-beta'] } } },
      ],
      [
        'from-registry',
        ['--from-registry', 'https://registry.modelcontextprotocol.io', '--format', 'upstream', '--auth-secret', 'api', '--header', 'X-API-Key', '--header-key', 'key', '--include-transport', 'streamable-http', '--exclude-tag', 'deprecated'],
        { format: 'upstream', source: { type: 'registry', registry: { url: 'https://registry.modelcontextprotocol.io', authSecret: { name: 'api', headerName: 'X-API-Key', headerValueKey: 'key' } } }, filter: { include: { transports: ['streamable-http'] }, exclude: { tags: ['deprecated'] } } },
      ],
      ['from-git-commit', ['--git', 'https://git.example.com/r.git', '--commit', '0123abcd'], { source: { type: 'git', git: { repository: 'https://git.example.com/r.git', commit: '0123abcd' } } }],
      [
        'from-git-ssh',
        ['--git', 'git@github.com:acme/registry.git', '--auth-secret', 'deploy', '--ssh-private-key-key', 'ssh-privatekey', '--known-hosts-key', 'known_hosts'],
        { source: { type: 'git', git: { repository: 'git@github.com:acme/registry.git', authSecret: { name: 'deploy', sshPrivateKeyKey: 'ssh-privatekey', knownHostsKey: 'known_hosts' } } } },
      ],
      [
        'from-git-ssh-fingerprint',
        ['--git', 'ssh://git@github.com/acme/registry.git', '--auth-secret', 'deploy', '--ssh-private-key-key', 'ssh-privatekey', '--ssh-host-key-fingerprint', 'SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU'],
        { source: { type: 'git', git: { repository: 'ssh://git@github.com/acme/registry.git', authSecret: { name: 'deploy', sshPrivateKeyKey: 'ssh-privatekey' }, sshHostKeyFingerprint: 'SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU' } } },
      ],
      [
        'from-aggregate',
        ['--aggregate', 'from-url', '--aggregate', 'default/toolhive', '--allow-partial', '--exclude-tier', 'Community'],
        { source: { type: 'aggregate', aggregate: { registries: [{ name: 'from-url' }, { name: 'toolhive', namespace: 'default' }] } }, allowPartial: true, filter: { exclude: { tiers: ['Community'] } } },
      ],
    ];
    for (const [name, flags, spec] of cases) {
      const r = await local.mcpreg(['registry', 'add', name, '-n', 'team-b', ...flags]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stdout, `mcpregistry.toolhive.stacklok.io/${name} created\n`);
      // the API server filled in the CRD's defaults, the same as the zod schema's
      assert.deepEqual(await created('team-b', name), MCPRegistrySpec.parse(spec), name);
    }
  });

  test('--dry-run -o yaml prints the object for GitOps, needs no cluster, and applies cleanly with kubectl', { skip: hasKubectl ? false : 'kubectl is not installed' }, async () => {
    const flags = ['registry', 'add', 'gitops', '-n', 'team-b', '--git', 'https://git.example.com/r.git', '--tag', 'v1.2.0', '--include-tier', 'Official', '--dry-run', '-o', 'yaml'];
    const printed = await local.mcpreg(flags, { KUBECONFIG: '/nonexistent/kubeconfig' });
    assert.equal(printed.code, 0, printed.stderr);
    const doc = parse(printed.stdout) as { apiVersion: string; kind: string; metadata: { name: string; namespace: string }; spec: unknown };
    assert.deepEqual(doc, {
      apiVersion: 'toolhive.stacklok.io/v1alpha1',
      kind: 'MCPRegistry',
      metadata: { name: 'gitops', namespace: 'team-b' },
      spec: { source: { type: 'git', git: { repository: 'https://git.example.com/r.git', tag: 'v1.2.0' } }, filter: { include: { tiers: ['Official'] } } },
    });
    assert.equal((await local.mcpreg(['registry', 'get', 'gitops', '-n', 'team-b'])).code, 1, 'nothing was created');
    const applied = await kubectl(['apply', '-f', '-'], printed.stdout);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(applied.stdout.trim(), 'mcpregistry.toolhive.stacklok.io/gitops created');
    assert.deepEqual(await created('team-b', 'gitops'), MCPRegistrySpec.parse(doc.spec));
    const json = await local.mcpreg([...flags.slice(0, -1), 'json']);
    assert.deepEqual(JSON.parse(json.stdout), doc);
  });

  test('mistakes name the flag, exit 2, and create nothing', async () => {
    for (const [flags, message] of [
      [['--url', 'https://a', '--git', 'https://b'], 'give exactly one source: --configmap CM[:KEY], --url URL, --git REPO, --from-registry URL or --aggregate [NS/]NAME (repeated) (got --url and --git)'],
      [[], 'give exactly one source: --configmap CM[:KEY], --url URL, --git REPO, --from-registry URL or --aggregate [NS/]NAME (repeated)'],
      [['--aggregate', 'a', '--url', 'https://a'], 'give exactly one source: --configmap CM[:KEY], --url URL, --git REPO, --from-registry URL or --aggregate [NS/]NAME (repeated) (got --url and --aggregate)'],
      [['--aggregate', 'a/b/c'], '--aggregate "a/b/c": expected NAME or NAMESPACE/NAME'],
      [['--aggregate', 'Not_A_Name'], '--aggregate: expected a Kubernetes object name (lower-case letters, digits, "-" and "."), got "Not_A_Name"'],
      [['--url', 'https://a', '--allow-partial'], '--allow-partial applies only to --aggregate'],
      [['--aggregate', 'a', '--allow-http'], '--allow-http applies to --url, --git and --from-registry'],
      [['--url', 'ftp://a'], '--url: expected an http:// or https:// URL, got "ftp://a"'],
      [['--url', 'https://a', '--interval', 'hourly'], '--interval: expected a duration such as 30s, 5m, 1h30m, got "hourly"'],
      [['--git', 'https://a', '--branch', 'x', '--tag', 'y'], '--branch/--tag/--commit: set at most one of branch, tag and commit'],
      [['--git', 'https://a', '--commit', 'HEAD'], '--commit: expected a commit hash (7 to 40 lower-case hex digits), got "HEAD"'],
      [['--url', 'https://a', '--branch', 'x'], '--branch applies only to --git'],
      [['--url', 'https://a', '--token-key', 't'], '--token-key needs --auth-secret NAME'],
      [['--url', 'https://a', '--auth-secret', 's'], '--auth-secret needs exactly one of --token-key K, --username-key U with --password-key P, --header NAME with --header-key K, or --ssh-private-key-key K'],
      [['--git', 'git@h:r.git', '--ssh-host-key-fingerprint', `SHA256:${'A'.repeat(43)}`], '--git over SSH needs --auth-secret NAME with --ssh-private-key-key K (a deploy key)'],
      [['--git', 'ssh://git@h/r.git', '--auth-secret', 's', '--ssh-private-key-key', 'k'], '--git over SSH needs --known-hosts-key K or --ssh-host-key-fingerprint SHA256:…: a host key is never accepted unchecked'],
      [['--git', 'https://h/r.git', '--auth-secret', 's', '--ssh-private-key-key', 'k', '--known-hosts-key', 'kh'], '--ssh-private-key-key applies only to an ssh --git repository (ssh://… or user@host:path)'],
      [['--git', 'ssh://git@h/r.git', '--auth-secret', 's', '--ssh-private-key-key', 'k', '--ssh-host-key-fingerprint', 'MD5:aa'], '--ssh-host-key-fingerprint: expected a host key fingerprint as ssh-keygen -l prints it: SHA256: and 43 base64 characters, got "MD5:aa"'],
      [['--url', 'https://a', '--auth-secret', 's', '--header', 'X-Key'], '--header X-Key needs --header-key KEY'],
      [['--configmap', 'cm', '--header', 'A=b'], '--header NAME=VALUE applies only to --url and --from-registry'],
      [['--configmap', 'cm:no/slash'], '--configmap: expected a ConfigMap/Secret key (letters, digits, "-", "_" and "."), got "no/slash"'],
      [['--url', 'https://a', '--include-tag', ''], '--include-tag: must not be empty'],
    ] as const) {
      const r = await local.mcpreg(['registry', 'add', 'broken', ...flags]);
      assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, `mcpreg: registry add: ${message}\n`, flags.join(' '));
      noStack(r.stderr);
    }
    const badName = await local.mcpreg(['registry', 'add', 'Not_A_Name', '--url', 'https://a']);
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /NAME must be a Kubernetes object name/);
    const format = await local.mcpreg(['registry', 'add', 'x', '--url', 'https://a', '--format', 'xml']);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /^mcpreg: registry add: Option '--format <FORMAT>' argument 'xml' is invalid\. Allowed choices are toolhive, upstream\.\n$/);
    assert.equal((await local.mcpreg(['registry', 'get', 'broken'])).code, 1, 'nothing was created');
    const again = await local.mcpreg(['registry', 'add', 'toolhive', '--configmap', 'toolhive-registry']);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'mcpreg: mcpregistry "toolhive" already exists in namespace "default"\n');
  });

  test('--wait: the first sync\'s outcome; exit 0 when Ready', async () => {
    const r = await local.mcpreg(['registry', 'add', 'db-from-url', '--url', `${local.dev.examples!.url}/registry.json`, '--allow-http', '--include-tag', 'database', '--wait']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^mcpregistry\.toolhive\.stacklok\.io\/db-from-url created\nmcpregistry default\/db-from-url is Ready: 18 servers, snapshot [0-9a-f]{12}\n$/);
    assert.match(r.stderr, /^waiting for default\/db-from-url to be Ready: phase /);
  });
});

describe('registry add --aggregate, list and get', () => {
  test('an aggregate of two registries: its members with the servers each contributed and lost, in get; aggregate in list', async () => {
    // db-from-url (the --wait test above) first, then the toolhive example
    const r = await local.mcpreg(['registry', 'add', 'both', '--aggregate', 'db-from-url', '--aggregate', 'toolhive', '--wait']);
    assert.equal(r.code, 0, r.stderr);
    const object = await getObject('default', 'both');
    const status = object.status as { serverCount: number; snapshot: { hash: string }; members: { namespace: string; name: string; snapshotHash: string; servers: number; shadowed: number }[] };
    const toolhive = (await getObject('default', 'toolhive')).status as { serverCount: number; snapshot: { hash: string } };
    const db = (await getObject('default', 'db-from-url')).status as { serverCount: number; snapshot: { hash: string } };
    const [first, second] = status.members;
    assert.deepEqual([first!.name, first!.snapshotHash, first!.servers, first!.shadowed], ['db-from-url', db.snapshot.hash, db.serverCount, 0]);
    assert.equal(second!.name, 'toolhive');
    assert.equal(second!.snapshotHash, toolhive.snapshot.hash);
    assert.ok(second!.shadowed > 0, 'the database servers the example ConfigMap also has come from db-from-url');
    assert.equal(second!.servers + second!.shadowed, toolhive.serverCount, 'every toolhive name is served from it or from db-from-url');
    assert.equal(status.serverCount, first!.servers + second!.servers);

    const get = await local.mcpreg(['registry', 'get', 'both']);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^Source: +aggregate of default\/db-from-url, default\/toolhive \(first wins by server name\)$/m);
    assert.match(get.stdout, new RegExp(`^Servers: +${status.serverCount}$`, 'm'));
    assert.match(
      get.stdout,
      new RegExp(`^Members:\n {2}MEMBER +SNAPSHOT +SERVERS +SHADOWED +PROBLEM\n {2}default/db-from-url +${db.snapshot.hash.slice(0, 12)} +${first!.servers} +0 *\n {2}default/toolhive +${toolhive.snapshot.hash.slice(0, 12)} +${second!.servers} +${second!.shadowed} *\n`, 'm'),
    );
    assert.match(get.stdout, /^ {2}MembersAvailable +True /m);
    const list = await local.mcpreg(['registry', 'list']);
    assert.match(list.stdout, new RegExp(`^both +True +${status.serverCount} +\\S+ +aggregate +0 +\\S+$`, 'm'));
  });

  test('a member in another namespace without the annotation: --wait exits 1 naming it, get shows why', async () => {
    const r = await local.mcpreg(['registry', 'add', 'peek', '-n', 'team-b', '--aggregate', 'default/toolhive', '--wait']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /member default\/toolhive: not allowed: it is in another namespace and has no toolhive\.stacklok\.io\/aggregation-allowed-namespaces annotation allowing team-b/);
    const get = await local.mcpreg(['registry', 'get', 'peek', '-n', 'team-b']);
    assert.match(get.stdout, /^Members:\n {2}MEMBER +SNAPSHOT +SERVERS +SHADOWED +PROBLEM\n {2}default\/toolhive +<none> +0 +0 +Forbidden: not allowed: it is in another namespace/m);
    assert.match(get.stdout, /^ {2}MembersAvailable +False +MemberForbidden /m);
  });
});

describe('registry sync', () => {
  test('--wait: exit 0 when the sync succeeds, the trigger recorded in the status', async () => {
    const before = (await getObject('default', 'remote-servers')).status!;
    const r = await local.mcpreg(['registry', 'sync', 'remote-servers', '--wait']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^mcpregistry default\/remote-servers is Ready: 42 servers, snapshot [0-9a-f]{12}\n$/);
    const after = (await getObject('default', 'remote-servers')).status!;
    assert.match(String(after.lastManualSyncTrigger), /^mcpreg-\d{4}-/);
    assert.notEqual(after.lastManualSyncTrigger, before.lastManualSyncTrigger);
  });

  test('--wait: exit 1 with the status message when the sync fails; without --wait it only asks', async () => {
    const add = await local.mcpreg(['registry', 'add', 'unreachable', '--url', 'http://127.0.0.1:9/registry.json', '--allow-http']);
    assert.equal(add.code, 0, add.stderr);
    await until('the first attempt', async () => ((await getObject('default', 'unreachable')).status?.phase === 'Failed' ? true : undefined));
    const asked = await local.mcpreg(['registry', 'sync', 'unreachable']);
    assert.equal(asked.code, 0, asked.stderr);
    assert.match(asked.stdout, /^mcpregistry default\/unreachable: sync requested \(toolhive\.stacklok\.io\/sync-trigger=mcpreg-\S+\)\n$/);
    const r = await local.mcpreg(['registry', 'sync', 'unreachable', '--wait', '--timeout', '30s']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.match(lines.at(-1)!, /^mcpreg: mcpregistry default\/unreachable: sync failed: SourceUnavailable: url http:\/\/127\.0\.0\.1:9\/registry\.json: .*ECONNREFUSED/);
    for (const l of lines.slice(0, -1)) assert.match(l, /^waiting for default\/unreachable to sync: phase /);
    const missing = await local.mcpreg(['registry', 'sync', 'nope', '--wait']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'mcpreg: mcpregistry "nope" not found in namespace "default"\n');
    const badTimeout = await local.mcpreg(['registry', 'sync', 'toolhive', '--wait', '--timeout', 'soon']);
    assert.equal(badTimeout.code, 2);
    assert.match(badTimeout.stderr, /--timeout must be a duration/);
  });

  test('--wait gives up after --timeout, exit 1', async () => {
    // no sync finishes within a millisecond of the request
    const r = await local.mcpreg(['registry', 'sync', 'toolhive', '--wait', '--timeout', '1ms']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^mcpreg: timed out after 1ms waiting for default\/toolhive to sync \(phase \w+/m);
  });
});

describe('registry remove', () => {
  test('--wait returns once the finalizer ran: the object and its snapshots are gone', async () => {
    const add = await local.mcpreg(['registry', 'add', 'short-lived', '--configmap', 'toolhive-registry', '--include-tag', 'search', '--wait']);
    assert.equal(add.code, 0, add.stderr);
    const object = await getObject('default', 'short-lived');
    assert.ok(object.metadata.finalizers?.length, 'the sync function put its finalizer on it');
    const snapshotDir = `${local.dev.store.location}/registries/default/short-lived`;
    assert.ok(existsSync(snapshotDir), 'a snapshot was published');
    const r = await local.mcpreg(['registry', 'remove', 'short-lived', '--wait']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'mcpregistry default/short-lived deleted (its snapshots are removed)\n');
    assert.equal((await local.mcpreg(['registry', 'get', 'short-lived'])).code, 1);
    assert.ok(!existsSync(`${snapshotDir}/current.json`), 'the snapshots were removed before the object went');
    const again = await local.mcpreg(['registry', 'remove', 'short-lived']);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'mcpreg: mcpregistry "short-lived" not found in namespace "default"\n');
  });
});

describe('no cluster', () => {
  test('an unreachable API server or no kubeconfig: one line, exit 1', async () => {
    const gone = await local.mcpreg(['registry', 'list', '--kubeconfig', '/nonexistent/kubeconfig']);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, 'mcpreg: kubeconfig /nonexistent/kubeconfig: no such file\n');
    const none = await local.mcpreg(['registry', 'list'], { KUBECONFIG: '' });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^mcpreg: no kubeconfig: pass --kubeconfig FILE or set KUBECONFIG/);
  });
});
