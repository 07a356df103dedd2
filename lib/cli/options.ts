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
