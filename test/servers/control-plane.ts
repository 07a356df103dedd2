/**
 * Test helpers around the embedded control plane: raw HTTP requests (for what client
 * libraries cannot send: garbage bodies, odd content types, watches) and a small CRD.
 */
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json(): any;
}

export async function raw(
  cp: ControlPlane,
  method: string,
  path: string,
  options: { body?: string | Uint8Array; contentType?: string; accept?: string; token?: string | null; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.contentType) headers['content-type'] = options.contentType;
  if (options.accept) headers.accept = options.accept;
  const token = options.token === undefined ? cp.tokenFor() : options.token;
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(cp.url + path, { method, headers, ...(options.body !== undefined ? { body: options.body } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** A compact CRD exercising the features the control plane validates and prints. */
export function widgetCrd(overrides: { scope?: 'Namespaced' | 'Cluster' } = {}): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'], categories: ['all'] },
      scope: overrides.scope ?? 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Color', type: 'string', jsonPath: '.spec.color', priority: 1 },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['size'],
                  'x-kubernetes-validations': [
                    { rule: "self.color != 'black' || self.size > 5", message: 'black widgets must be bigger than 5' },
                    { rule: 'self.size >= oldSelf.size', message: 'size may not shrink' },
                  ],
                  properties: {
                    size: { type: 'integer', minimum: 1, maximum: 100 },
                    color: { type: 'string', enum: ['red', 'green', 'blue', 'black'], default: 'red' },
                    name: { type: 'string', pattern: '^[a-z]+$', maxLength: 10 },
                    tags: { type: 'array', maxItems: 3, items: { type: 'string' } },
                    port: { 'x-kubernetes-int-or-string': true },
                    extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  },
                },
                status: {
                  type: 'object',
                  properties: {
                    observedGeneration: { type: 'integer' },
                    conditions: {
                      type: 'array',
                      items: { type: 'object', properties: { type: { type: 'string' }, status: { type: 'string' } } },
                    },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}

/**
 * Creates the widget CRD over plain HTTP: client-node's typed API would drop the
 * `x-kubernetes-*` keys of a schema written in JSON spelling (it expects camelCase names).
 */
export async function createWidgetCrd(cp: ControlPlane, overrides: { scope?: 'Namespaced' | 'Cluster' } = {}): Promise<void> {
  const res = await raw(cp, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { contentType: 'application/json', body: JSON.stringify(widgetCrd(overrides)) });
  if (res.status !== 201) throw new Error(`creating the widget CRD failed: ${res.status} ${res.text}`);
}

export function widget(name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, ...extra }, spec };
}

/** The parsed Status of a client-node ApiException (its body may be a string or an object). */
export function statusOf(e: unknown): { code?: number; reason?: string; message?: string; details?: any } {
  const body = (e as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body);
    } catch {
      return {};
    }
  }
  return (body as object) ?? {};
}

/** Resolves when `check` returns true, polling every 10 ms, or rejects after `ms`. */
export async function eventually(check: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * kubectl sends no credentials over plain HTTP: on a control plane with RBAC and anonymous
 * requests allowed, this binds system:anonymous to cluster-admin.
 */
export async function grantAnonymousAdmin(cp: ControlPlane): Promise<void> {
  const res = await raw(cp, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    contentType: 'application/json',
    body: JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'anonymous-admin' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:anonymous' }],
    }),
  });
  if (res.status !== 201) throw new Error(`binding system:anonymous to cluster-admin: ${res.status} ${res.text}`);
}
