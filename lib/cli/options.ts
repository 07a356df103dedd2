import { Option } from '@commander-js/extra-typings';

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
