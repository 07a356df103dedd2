import { API_VERSION, MCP_REGISTRY } from '../kube/resources.ts';
import { MCPRegistrySpec, OBJECT_NAME_PATTERN, SSH_REPOSITORY_PATTERN } from '../kube/mcpregistry-spec.ts';
import type { FilterSet, FilterSpec } from '../filter/spec.ts';
import { UsageError } from './io.ts';

/**
 * `mcpreg registry add`'s flags → an MCPRegistry. Pure. The object holds exactly what the
 * flags say (defaults are left to the CRD, so that `--dry-run -o yaml` is minimal for
 * GitOps); it is checked with the CRD's own zod schema, and every mistake names the flag.
 */
export interface AddFlags {
  configmap?: string;
  url?: string;
  git?: string;
  fromRegistry?: string;
  /** [NAMESPACE/]NAME of each member, in priority order (first wins) */
  aggregate: string[];
  allowPartial?: boolean;
  branch?: string;
  tag?: string;
  commit?: string;
  path?: string;
  format?: string;
  interval?: string;
  includeName: string[];
  excludeName: string[];
  includeTag: string[];
  excludeTag: string[];
  includeTier: string[];
  excludeTier: string[];
  includeTransport: string[];
  excludeTransport: string[];
  includeCategory: string[];
  excludeCategory: string[];
  authSecret?: string;
  tokenKey?: string;
  usernameKey?: string;
  passwordKey?: string;
  /** NAME=VALUE (a request header), or NAME (the header whose value --header-key reads from the Secret) */
  header: string[];
  headerKey?: string;
  sshPrivateKeyKey?: string;
  knownHostsKey?: string;
  sshHostKeyFingerprint?: string;
  allowHttp?: boolean;
}

export interface MCPRegistryObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: Record<string, unknown>;
}

/** the command whose flags are being read, for the error's prefix (registry add, registry import) */
let command = 'registry add';
const fail = (message: string): never => {
  throw new UsageError(`${command}: ${message}`);
};

/** where a zod issue path points, as the flag that set it */
const FLAG_OF_FIELD: [RegExp, string][] = [
  [/^source\.configMap/, '--configmap'],
  [/^source\.url\.url$/, '--url'],
  [/^source\.registry\.url$/, '--from-registry'],
  [/^source\.git\.repository$/, '--git'],
  [/^source\.aggregate/, '--aggregate'],
  [/^allowPartial$/, '--allow-partial'],
  [/^source\.git\.branch$/, '--branch'],
  [/^source\.git\.tag$/, '--tag'],
  [/^source\.git\.commit$/, '--commit'],
  [/^source\.git$/, '--branch/--tag/--commit'],
  [/^source\.git\.path$/, '--path'],
  [/\.authSecret\.name$/, '--auth-secret'],
  [/\.authSecret\.tokenKey$/, '--token-key'],
  [/\.authSecret\.usernameKey$/, '--username-key'],
  [/\.authSecret\.passwordKey$/, '--password-key'],
  [/\.authSecret\.headerName$/, '--header'],
  [/\.authSecret\.headerValueKey$/, '--header-key'],
  [/\.authSecret\.sshPrivateKeyKey$/, '--ssh-private-key-key'],
  [/\.authSecret\.knownHostsKey$/, '--known-hosts-key'],
  [/^source\.git\.sshHostKeyFingerprint$/, '--ssh-host-key-fingerprint'],
  [/\.authSecret$/, '--auth-secret'],
  [/\.headers/, '--header'],
  [/^syncPolicy\.interval$/, '--interval'],
  [/^format$/, '--format'],
];

const DIMENSIONS = [
  ['names', 'Name'],
  ['tags', 'Tag'],
  ['tiers', 'Tier'],
  ['transports', 'Transport'],
  ['categories', 'Category'],
] as const;

function flagOf(path: string): string {
  const filter = /^filter\.(include|exclude)\.(\w+)/.exec(path);
  if (filter) {
    const flag = DIMENSIONS.find(([d]) => d === filter[2])?.[1].toLowerCase();
    return `--${filter[1]}-${flag}`;
  }
  return FLAG_OF_FIELD.find(([re]) => re.test(path))?.[1] ?? path;
}

/** The repeatable --include-X and --exclude-X flags (registry add, registry import, registry export). */
export type FilterFlags = Pick<AddFlags, 'includeName' | 'excludeName' | 'includeTag' | 'excludeTag' | 'includeTier' | 'excludeTier' | 'includeTransport' | 'excludeTransport' | 'includeCategory' | 'excludeCategory'>;

export function filterFromFlags(flags: FilterFlags): FilterSpec | undefined {
  const side = (which: 'include' | 'exclude'): FilterSet | undefined => {
    const set: FilterSet = {};
    for (const [dimension, suffix] of DIMENSIONS) {
      const values = flags[`${which}${suffix}` as keyof FilterFlags] as string[];
      if (values.length > 0) set[dimension] = values;
    }
    return Object.keys(set).length > 0 ? set : undefined;
  };
  const include = side('include');
  const exclude = side('exclude');
  return include || exclude ? { ...(include ? { include } : {}), ...(exclude ? { exclude } : {}) } : undefined;
}

export function registryFromFlags(name: string, namespace: string | undefined, flags: AddFlags, forCommand = 'registry add'): MCPRegistryObject {
  command = forCommand;
  if (!new RegExp(OBJECT_NAME_PATTERN).test(name) || name.length > 253) fail(`NAME must be a Kubernetes object name (lower-case letters, digits, "-" and "."), not ${JSON.stringify(name)}`);
  const given = (s: 'configmap' | 'url' | 'git' | 'fromRegistry' | 'aggregate') => (s === 'aggregate' ? flags.aggregate.length > 0 : flags[s] !== undefined);
  const sources = (['configmap', 'url', 'git', 'fromRegistry', 'aggregate'] as const).filter(given);
  const flagName = (s: string) => (s === 'fromRegistry' ? '--from-registry' : `--${s}`);
  if (sources.length !== 1) fail(`give exactly one source: --configmap CM[:KEY], --url URL, --git REPO, --from-registry URL or --aggregate [NS/]NAME (repeated)${sources.length > 1 ? ` (got ${sources.map(flagName).join(' and ')})` : ''}`);
  const source = sources[0]!;
  if (flags.allowPartial && source !== 'aggregate') fail('--allow-partial applies only to --aggregate');
  for (const [flag, value] of [
    ['--branch', flags.branch],
    ['--tag', flags.tag],
    ['--commit', flags.commit],
    ['--path', flags.path],
  ] as const) {
    if (value !== undefined && source !== 'git') fail(`${flag} applies only to --git`);
  }

  // --header NAME=VALUE is a request header; a bare --header NAME names the Secret-backed one
  const headers: Record<string, string> = {};
  const headerNames: string[] = [];
  for (const h of flags.header) {
    const eq = h.indexOf('=');
    if (eq < 0) headerNames.push(h);
    else if (eq === 0) fail(`--header ${JSON.stringify(h)}: NAME=VALUE needs a name`);
    else headers[h.slice(0, eq)] = h.slice(eq + 1);
  }
  if (Object.keys(headers).length > 0 && source !== 'url' && source !== 'fromRegistry') fail('--header NAME=VALUE applies only to --url and --from-registry');
  if (headerNames.length > 1) fail(`at most one --header NAME without a value (the header --header-key fills in), got ${headerNames.join(', ')}`);
  const credentialFlags = [
    ['--token-key', flags.tokenKey],
    ['--username-key', flags.usernameKey],
    ['--password-key', flags.passwordKey],
    ['--header-key', flags.headerKey],
    ['--ssh-private-key-key', flags.sshPrivateKeyKey],
    ['--known-hosts-key', flags.knownHostsKey],
  ] as const;
  if (flags.authSecret === undefined) {
    for (const [flag, value] of credentialFlags) if (value !== undefined) fail(`${flag} needs --auth-secret NAME`);
    if (headerNames.length > 0) fail(`--header ${headerNames[0]} without a value needs --auth-secret NAME and --header-key KEY (or write --header NAME=VALUE)`);
  }
  if ((headerNames.length > 0) !== (flags.headerKey !== undefined)) fail(headerNames.length > 0 ? `--header ${headerNames[0]} needs --header-key KEY` : '--header-key needs --header NAME (the header to send)');
  if (flags.authSecret !== undefined) {
    const sets = [flags.tokenKey !== undefined, flags.usernameKey !== undefined || flags.passwordKey !== undefined, flags.headerKey !== undefined, flags.sshPrivateKeyKey !== undefined].filter(Boolean).length;
    if (sets !== 1) fail(`--auth-secret needs exactly one of --token-key K, --username-key U with --password-key P, --header NAME with --header-key K, or --ssh-private-key-key K${sets > 1 ? ' (several were given)' : ''}`);
    if ((flags.usernameKey === undefined) !== (flags.passwordKey === undefined)) fail(flags.usernameKey === undefined ? '--password-key needs --username-key' : '--username-key needs --password-key');
  }
  if (flags.authSecret !== undefined && source === 'configmap') fail('--auth-secret applies to --url, --git and --from-registry (a ConfigMap is read with the sync function\'s own access)');
  if (flags.authSecret !== undefined && source === 'aggregate') fail('--auth-secret applies to --url, --git and --from-registry (an aggregate reads its members\' snapshots from the store)');
  if (flags.allowHttp && (source === 'configmap' || source === 'aggregate')) fail('--allow-http applies to --url, --git and --from-registry');
  // git over SSH: a deploy key, and a host key to check the server by (never accepted unchecked)
  const ssh = source === 'git' && new RegExp(SSH_REPOSITORY_PATTERN).test(flags.git!.trim());
  const sshFlags = (
    [
      ['--ssh-private-key-key', flags.sshPrivateKeyKey],
      ['--known-hosts-key', flags.knownHostsKey],
      ['--ssh-host-key-fingerprint', flags.sshHostKeyFingerprint],
    ] as const
  ).filter(([, v]) => v !== undefined);
  if (!ssh && sshFlags.length > 0) fail(`${sshFlags[0]![0]} applies only to an ssh --git repository (ssh://… or user@host:path)`);
  if (ssh) {
    if (flags.sshPrivateKeyKey === undefined) fail('--git over SSH needs --auth-secret NAME with --ssh-private-key-key K (a deploy key)');
    if (flags.knownHostsKey === undefined && flags.sshHostKeyFingerprint === undefined) {
      fail('--git over SSH needs --known-hosts-key K or --ssh-host-key-fingerprint SHA256:…: a host key is never accepted unchecked');
    }
    if (flags.allowHttp) fail('--allow-http applies to http:// repositories, not SSH');
  }

  const authSecret =
    flags.authSecret === undefined
      ? undefined
      : {
          name: flags.authSecret,
          ...(flags.tokenKey !== undefined ? { tokenKey: flags.tokenKey } : {}),
          ...(flags.usernameKey !== undefined ? { usernameKey: flags.usernameKey } : {}),
          ...(flags.passwordKey !== undefined ? { passwordKey: flags.passwordKey } : {}),
          ...(headerNames[0] !== undefined ? { headerName: headerNames[0] } : {}),
          ...(flags.headerKey !== undefined ? { headerValueKey: flags.headerKey } : {}),
          ...(flags.sshPrivateKeyKey !== undefined ? { sshPrivateKeyKey: flags.sshPrivateKeyKey } : {}),
          ...(flags.knownHostsKey !== undefined ? { knownHostsKey: flags.knownHostsKey } : {}),
        };
  const remote = {
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(authSecret ? { authSecret } : {}),
    ...(flags.allowHttp ? { allowHttp: true } : {}),
  };

  let sourceSpec: Record<string, unknown>;
  if (source === 'configmap') {
    const value = flags.configmap!;
    const colon = value.indexOf(':');
    const cm = colon < 0 ? { name: value } : { name: value.slice(0, colon), key: value.slice(colon + 1) };
    sourceSpec = { type: 'configmap', configMap: cm };
  } else if (source === 'url') {
    sourceSpec = { type: 'url', url: { url: flags.url, ...remote } };
  } else if (source === 'aggregate') {
    const registries = flags.aggregate.map((m) => {
      const parts = m.split('/');
      if (parts.length > 2 || parts.some((p) => p === '')) fail(`--aggregate ${JSON.stringify(m)}: expected NAME or NAMESPACE/NAME`);
      return parts.length === 2 ? { name: parts[1]!, namespace: parts[0]! } : { name: parts[0]! };
    });
    sourceSpec = { type: 'aggregate', aggregate: { registries } };
  } else if (source === 'fromRegistry') {
    sourceSpec = { type: 'registry', registry: { url: flags.fromRegistry, ...remote } };
  } else {
    const { headers: _h, ...gitRemote } = remote;
    sourceSpec = {
      type: 'git',
      git: {
        repository: flags.git,
        ...(flags.branch !== undefined ? { branch: flags.branch } : {}),
        ...(flags.tag !== undefined ? { tag: flags.tag } : {}),
        ...(flags.commit !== undefined ? { commit: flags.commit } : {}),
        ...(flags.path !== undefined ? { path: flags.path } : {}),
        ...gitRemote,
        ...(flags.sshHostKeyFingerprint !== undefined ? { sshHostKeyFingerprint: flags.sshHostKeyFingerprint } : {}),
      },
    };
  }
  const filter = filterFromFlags(flags);
  const spec: Record<string, unknown> = {
    ...(flags.format !== undefined ? { format: flags.format } : {}),
    source: sourceSpec,
    ...(flags.interval !== undefined ? { syncPolicy: { interval: flags.interval } } : {}),
    ...(filter ? { filter } : {}),
    ...(flags.allowPartial ? { allowPartial: true } : {}),
  };

  const checked = MCPRegistrySpec.safeParse(spec);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const path = issue.path.join('.');
    let value: unknown = spec;
    for (const key of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
    if (value === '') fail(`${flagOf(path)}: must not be empty`);
    const got = issue.code !== 'custom' && (typeof value === 'string' || typeof value === 'number') ? `, got ${JSON.stringify(value)}` : '';
    // the schema's own messages describe what is expected ("a duration such as 30s"); zod's are sentences
    const ours = /^[a-z]/.test(issue.message) && issue.code !== 'custom';
    fail(`${flagOf(path)}: ${ours ? 'expected ' : ''}${issue.message}${got}`);
  }
  return { apiVersion: API_VERSION, kind: MCP_REGISTRY.kind, metadata: { name, ...(namespace !== undefined ? { namespace } : {}) }, spec };
}
