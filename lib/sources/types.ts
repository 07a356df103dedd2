import type { KubeConfig } from '@kubernetes/client-node';
import type { LookupAddress, LookupOptions } from 'node:dns';
import type { SourceSpec } from '../kube/mcpregistry-spec.ts';
import type { Logger } from '../log.ts';
import type { SnapshotStore } from '../snapshots/store.ts';

/**
 * One interface for every source type (configmap, url, git, registry, aggregate). A source fetches,
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
  /** retries of transient failures after the first attempt (default 3) */
  retries?: number;
  /** first backoff delay; doubles per retry, with jitter (default 500 ms) */
  retryBaseMs?: number;
  /** cap on one backoff wait, and the longest Retry-After honoured (default 30 s) */
  retryMaxWaitMs?: number;
  /** extra trusted CA certificates (PEM), added to Node's built-in roots (private registries) */
  ca?: string;
  /** registry API source: most pages walked in one sync (default 5000) */
  maxPages?: number;
  /** registry API source: most entries accepted in one sync (default 250 000) */
  maxEntries?: number;
  /**
   * DNS lookup used for the SSRF check and for connecting (default node:dns `lookup`).
   * Only tests replace it (e.g. to simulate an answer that changes between check and connect).
   */
  lookup?: (
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => void;
}

export interface SourceContext {
  namespace: string;
  registryName: string;
  signal: AbortSignal;
  secrets: SecretReader;
  policy: FetchPolicy;
  /** needed by the configmap and aggregate sources */
  kubeConfig?: KubeConfig;
  /** the snapshot store: the aggregate source reads its members' snapshots from it */
  store?: SnapshotStore;
  /** aggregate source: leave out members that cannot be used instead of failing (spec.allowPartial) */
  allowPartial?: boolean;
  /** what the previous successful sync saw; lets a source answer "unchanged" */
  previous?: { revision?: string; state?: unknown };
  /** true forces a full fetch even when the source could answer "unchanged" */
  force?: boolean;
  /** retries, redirects and other progress (never secret values); silent when absent */
  logger?: Logger;
}

export type FetchResult =
  /**
   * nothing changed since `previous.revision` (no new content was transferred). `state`, when
   * present, replaces the persisted state (e.g. the registry source's incremental counter).
   */
  | { kind: 'unchanged'; revision: string; state?: unknown }
  /** a whole registry document (toolhive registry.json or an upstream document) */
  | { kind: 'document'; revision: string; bytes: Uint8Array; file: string; state?: unknown }
  /**
   * upstream ServerResponse objects (`{server, _meta}`) from a registry API. `full` replaces
   * the previous snapshot; `incremental` is merged into it. `state` is persisted for the next
   * sync (watermark, incremental count).
   */
  | {
      kind: 'entries';
      revision: string;
      mode: 'full' | 'incremental';
      entries: unknown[];
      state: unknown;
      /** size of the JSON the entries arrived in, when known: sizes the caller's output buffers */
      bytes?: number;
      /**
       * The entries are rows of published snapshots (an aggregate's members), validated when
       * they were published: not validated again.
       */
      validated?: true;
    };

export interface Source {
  readonly type: SourceSpec['type'];
  fetch(context: SourceContext): Promise<FetchResult>;
}
