import { Option, type Command, type OptionValues } from '@commander-js/extra-typings';

/**
 * Options shared by the cluster-facing commands, with kubectl's names and meanings. Add them
 * with `.addOption(kubeconfigOption())`; commander infers their types.
 */

export const kubeconfigOption = () => new Option('--kubeconfig <FILE>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else in-cluster)');
export const contextOption = () => new Option('--context <NAME>', 'kubeconfig context to use (default: its current context)');
export const namespaceOption = () => new Option('-n, --namespace <NS>', "namespace (default: the context's namespace, else default)");
export const allNamespacesOption = () => new Option('-A, --all-namespaces', 'every namespace');
export const apiOption = () => new Option('--api <URL>', "the query API's base URL (default: $MCPREG_API, else the registry's status.apiEndpoint)");

/** `-o`: what commands that print objects offer (output.ts renders them) */
export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** `-o FORMAT` limited to `formats` (default: the first). */
export function outputOption<const F extends readonly OutputFormat[] = typeof OUTPUT_FORMATS>(formats: F = OUTPUT_FORMATS as unknown as F) {
  return new Option('-o, --output <FORMAT>', `output format: ${formats.join('|')} (default ${formats[0]})`).choices(formats).default(formats[0]!);
}

export const waitOption = () => new Option('--wait', 'wait for the outcome, showing progress on stderr; exit 1 when the sync fails');
/** `--timeout DURATION` for --wait */
export const timeoutOption = (fallback = '60s') => new Option('--timeout <DURATION>', `how long --wait waits, e.g. 30s, 5m (default ${fallback})`).default(fallback);

/** A flag that may be given several times; its values in order (default none). */
export function repeatableOption<const F extends string>(flags: F, description: string) {
  return new Option(flags, `${description} (repeatable)`).argParser((value: string, previous: string[]) => [...previous, value]).default([] as string[]);
}

/** What the filter flags' help says a matching server gets: kept / dropped, imported / skipped, … */
export interface FilterVerbs {
  keep: string;
  drop: string;
}

/**
 * The repeatable --include-X / --exclude-X filter flags (MCPRegistry filter semantics) of
 * `registry add`, `registry import` and `registry export`; registry-spec.ts's filterFromFlags
 * reads them.
 */
export function filterOptions(v: FilterVerbs) {
  return [
    repeatableOption('--include-name <GLOB>', `${v.keep} servers whose name matches (* and ? match any characters, / included)`),
    repeatableOption('--exclude-name <GLOB>', `${v.drop} servers whose name matches`),
    repeatableOption('--include-tag <T>', `${v.keep} servers with this tag`),
    repeatableOption('--exclude-tag <T>', `${v.drop} servers with this tag`),
    repeatableOption('--include-tier <T>', `${v.keep} servers of this tier (Official, Community)`),
    repeatableOption('--exclude-tier <T>', `${v.drop} servers of this tier`),
    repeatableOption('--include-transport <T>', `${v.keep} servers with this transport (stdio, sse, streamable-http)`),
    repeatableOption('--exclude-transport <T>', `${v.drop} servers with this transport`),
    repeatableOption('--include-category <C>', `${v.keep} servers of this category`),
    repeatableOption('--exclude-category <C>', `${v.drop} servers of this category`),
  ] as const;
}

/** `cmd` with the filter flags added (chained, so that commander infers their types). */
export function addFilterOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>, v: FilterVerbs) {
  const f = filterOptions(v);
  return cmd.addOption(f[0]).addOption(f[1]).addOption(f[2]).addOption(f[3]).addOption(f[4]).addOption(f[5]).addOption(f[6]).addOption(f[7]).addOption(f[8]).addOption(f[9]);
}

/** A registry source as flags (registry add, and registry import in cluster mode); registry-spec.ts reads them. */
export function addSourceOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>) {
  return cmd
    .option('--configmap <CM[:KEY]>', 'source: a ConfigMap in the namespace, and its key (default registry.json)')
    .option('--url <URL>', 'source: a registry document over https (http with --allow-http)')
    .option('--git <REPO>', 'source: a file in a git repository (https, or ssh:// and user@host:path with a deploy key)')
    .option('--branch <B>', 'with --git: the branch to follow (default main)')
    .option('--tag <T>', 'with --git: a tag')
    .option('--commit <C>', 'with --git: a commit (7 to 40 hex digits)')
    .option('--path <P>', "with --git: the document's path in the repository (default registry.json)")
    .option('--from-registry <URL>', 'source: an MCP registry API (the base URL serving /v0.1/servers)');
}

/** The source's credentials (a Secret's keys) and --allow-http. */
export function addCredentialOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>) {
  return cmd
    .option('--auth-secret <NAME>', "a Secret in the namespace holding the source's credentials")
    .option('--token-key <K>', 'with --auth-secret: the key holding a bearer token')
    .option('--username-key <U>', 'with --auth-secret and --password-key: basic auth')
    .option('--password-key <P>', 'with --auth-secret and --username-key')
    .addOption(repeatableOption('--header <NAME=VALUE|NAME>', 'NAME=VALUE: a request header; NAME: with --header-key, the header whose value comes from the Secret'))
    .option('--header-key <K>', "with --auth-secret and --header NAME: the key holding the header's value")
    .option('--ssh-private-key-key <K>', 'with --auth-secret and an ssh --git repository: the key holding the deploy key (an unencrypted SSH private key)')
    .option('--known-hosts-key <K>', 'with --ssh-private-key-key: the key holding known_hosts lines for the server')
    .option('--ssh-host-key-fingerprint <SHA256:…>', 'with an ssh --git repository, instead of --known-hosts-key: the server host key fingerprint (ssh-keygen -l)')
    .option('--allow-http', 'allow a plain http:// source URL');
}

/** A job's git target (registry import and export in cluster mode). */
export function addGitTargetOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>) {
  return cmd
    .option('--to-git <REPO>', 'target: a file in a git repository (commit and push over smart HTTP)')
    .option('--to-branch <B>', 'with --to-git: the branch committed to (default main)')
    .option('--to-path <P>', 'with --to-git: the file written (default registry.json)')
    .option('--to-auth-secret <NAME>', 'with --to-git: a Secret holding the push credentials')
    .option('--to-token-key <K>', 'with --to-auth-secret: the key holding a token')
    .option('--to-username-key <U>', 'with --to-auth-secret and --to-password-key: basic auth')
    .option('--to-password-key <P>', 'with --to-auth-secret and --to-username-key')
    .option('--to-allow-http', 'with --to-git: allow a plain http:// repository URL')
    .option('--message <TEXT>', 'with --to-git: the commit message (default: a summary of the job)');
}

/** What every job command shares in cluster mode: retries, TTL, --dry-run, -o, --wait, the cluster. */
export function addJobOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>) {
  return cmd
    .option('--backoff-limit <N>', 'retries after transient failures (spec.backoffLimit, default 3)')
    .option('--ttl <DURATION>', 'delete the job this long after it finished (spec.ttlSecondsAfterFinished)')
    .option('--dry-run', 'print the job instead of creating it (YAML, or -o json; needs no cluster)')
    .addOption(new Option('-o, --output <FORMAT>', 'yaml|json|name: print the object (default: a line saying what was created; yaml with --dry-run)').choices(['yaml', 'json', 'name'] as const))
    .addOption(new Option('--wait', 'wait for the job to finish, showing progress on stderr; exit 1 when it fails'))
    .addOption(timeoutOption('5m'))
    .addOption(namespaceOption())
    .addOption(kubeconfigOption())
    .addOption(contextOption());
}
