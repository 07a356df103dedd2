/**
 * `createSource(spec)`: the Source for an MCPRegistry's `spec.source`. The block matching
 * `type` must be present (the CRD's CEL rules say so too; this is the second line of defence).
 */
import { RegistryError } from '../errors.ts';
import type { SourceSpec } from '../kube/mcpregistry-spec.ts';
import { createAggregateSource } from './aggregate.ts';
import { createConfigMapSource } from './configmap.ts';
import { createGitSource, type GitSourceOptions } from './git.ts';
import { createRegistrySource } from './registry.ts';
import type { Source } from './types.ts';
import { createUrlSource } from './url.ts';

export interface CreateSourceOptions {
  git?: GitSourceOptions;
}

const BLOCK = { configmap: 'configMap', url: 'url', git: 'git', registry: 'registry', aggregate: 'aggregate' } as const;

export function createSource(spec: SourceSpec, options: CreateSourceOptions = {}): Source {
  const missing = () =>
    new RegistryError('invalid_argument', `source.type is ${spec.type} but source.${BLOCK[spec.type]} is missing`, { where: { path: `spec.source.${BLOCK[spec.type]}` } });
  switch (spec.type) {
    case 'configmap':
      if (!spec.configMap) throw missing();
      return createConfigMapSource(spec.configMap);
    case 'url':
      if (!spec.url) throw missing();
      return createUrlSource(spec.url);
    case 'git':
      if (!spec.git) throw missing();
      return createGitSource(spec.git, options.git);
    case 'registry':
      if (!spec.registry) throw missing();
      return createRegistrySource(spec.registry);
    case 'aggregate':
      if (!spec.aggregate) throw missing();
      return createAggregateSource(spec.aggregate);
    default: {
      const never: never = spec.type;
      throw new RegistryError('invalid_argument', `unknown source type ${String(never)}`, { where: { path: 'spec.source.type' } });
    }
  }
}

export type { Source, SourceContext, FetchResult, FetchPolicy, SecretReader } from './types.ts';
export { policyFromEnv, resolvePolicy, DEFAULT_POLICY } from './policy.ts';
export { mergeIncremental } from './merge.ts';
