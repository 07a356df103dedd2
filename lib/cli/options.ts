import { Option } from '@commander-js/extra-typings';
import { OUTPUT_FORMATS, type OutputFormat } from './output.ts';

/**
 * Options shared by the cluster-facing commands, with kubectl's names and meanings. Add them
 * with `.addOption(kubeconfigOption())`; commander infers their types.
 */

export const kubeconfigOption = () => new Option('--kubeconfig <FILE>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else in-cluster)');
export const contextOption = () => new Option('--context <NAME>', 'kubeconfig context to use (default: its current context)');
export const namespaceOption = () => new Option('-n, --namespace <NS>', "namespace (default: the context's namespace, else default)");
export const allNamespacesOption = () => new Option('-A, --all-namespaces', 'every namespace');
export const apiOption = () => new Option('--api <URL>', "the query API's base URL (default: $MCPREG_API, else the registry's status.apiEndpoint)");

/** `-o FORMAT` limited to `formats` (default: the first). */
export function outputOption<const F extends readonly OutputFormat[] = typeof OUTPUT_FORMATS>(formats: F = OUTPUT_FORMATS as unknown as F) {
  return new Option('-o, --output <FORMAT>', `output format: ${formats.join('|')} (default ${formats[0]})`).choices(formats).default(formats[0]!);
}
