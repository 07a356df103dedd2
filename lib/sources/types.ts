import type { KubeConfig } from '@kubernetes/client-node';
import type { SourceSpec } from '../kube/mcpregistry-spec.ts';

/**
 * One interface for every source type (configmap, url, git, registry). A source fetches,
 * reports a revision, and answers "unchanged since revision R" cheaply when it can.
 * Failures are thrown as RegistryError with a code naming the cause and `where.source`.
 */

/** Reads keys of Secrets in the registry's own namespace. Values never reach logs or status. */
export interface SecretReader {
  /** throws RegistryError('secret_not_found') naming the Secret and key (never the value) */
  read(name: string, key: string): Promise<string>;
}

/** Limits and the SSRF policy, from the function's configuration (see `policy.ts`). */
export interface FetchPolicy {
  /** largest response body accepted, after decompression (default 100 MiB) */
  maxBytes: number;
  connectTimeoutMs: number;
  /** whole fetch including body (default 60 s) */
  totalTimeoutMs: number;
  maxRedirects: number;
  /**
   * CIDRs (v4 or v6) and host names that are allowed even though they resolve to loopback,
   * private or link-local addresses. Empty by default; tests put 127.0.0.0/8 here.
   */
  allowPrivate: string[];
}

export interface SourceContext {
  namespace: string;
  registryName: string;
  signal: AbortSignal;
  secrets: SecretReader;
  policy: FetchPolicy;
  /** needed by the configmap source */
  kubeConfig?: KubeConfig;
  /** what the previous successful sync saw; lets a source answer "unchanged" */
  previous?: { revision?: string; state?: unknown };
  /** true forces a full fetch even when the source could answer "unchanged" */
  force?: boolean;
}

export type FetchResult =
  /** nothing changed since `previous.revision`; no body was transferred */
  | { kind: 'unchanged'; revision: string }
  /** a whole registry document (toolhive registry.json or an upstream document) */
  | { kind: 'document'; revision: string; bytes: Uint8Array; file: string; state?: unknown }
  /**
   * upstream ServerResponse objects (`{server, _meta}`) from a registry API. `full` replaces
   * the previous snapshot; `incremental` is merged into it. `state` is persisted for the next
   * sync (watermark, incremental count).
   */
  | { kind: 'entries'; revision: string; mode: 'full' | 'incremental'; entries: unknown[]; state: unknown };

export interface Source {
  readonly type: SourceSpec['type'];
  fetch(context: SourceContext): Promise<FetchResult>;
}
