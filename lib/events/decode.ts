import { CloudEvent, HTTP, ValidationError } from 'cloudevents';
import { KubeObject } from '../kube/objects.ts';
import { decodeGitPush, isGitPushType, type GitPush } from './git-push.ts';

/**
 * CloudEvents in, typed events out. Knative's ApiServerSource (Resource mode) and PingSource
 * send these types; anything else is poison and is answered with a 4xx so that a Broker
 * does not retry it (see reference/knative.md §2.6).
 */

export const EVENT_TYPES = {
  add: 'dev.knative.apiserver.resource.add',
  update: 'dev.knative.apiserver.resource.update',
  delete: 'dev.knative.apiserver.resource.delete',
  ping: 'dev.knative.sources.ping',
  published: 'io.toolhive.registry.snapshot.published',
} as const;

export const WATCHED_KINDS = ['MCPRegistry', 'ConfigMap', 'MCPRegistrySyncJob', 'MCPRegistryImportJob', 'MCPRegistryExportJob', 'MCPServer', 'MCPRemoteProxy'] as const;
export type WatchedKind = (typeof WATCHED_KINDS)[number];

export type ResourceAction = 'add' | 'update' | 'delete';

export type DecodedEvent =
  | { type: 'resource'; action: ResourceAction; kind: WatchedKind; object: KubeObject; id: string; source: string }
  | { type: 'ping'; id: string; source: string; data: unknown }
  | { type: 'published'; id: string; source: string; subject: string | undefined; data: unknown }
  | { type: 'git-push'; id: string; source: string; push: GitPush; cloudEventType: string };

/** Why an incoming request is not an event we act on; `status` is the HTTP answer. */
export class PoisonEvent extends Error {
  readonly status: 400 | 415 | 422;
  constructor(status: 400 | 415 | 422, message: string) {
    super(message);
    this.name = 'PoisonEvent';
    this.status = status;
  }
}

export interface HttpMessage {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function flatHeaders(headers: HttpMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** Parses and validates one CloudEvent (binary or structured mode). Throws PoisonEvent. */
export function parseCloudEvent(message: HttpMessage): CloudEvent<unknown> {
  const headers = flatHeaders(message.headers);
  // The SDK only parses JSON data for exact media types; normalise the charset spelling.
  const contentType = headers['content-type'];
  if (contentType) headers['content-type'] = contentType.replace(/charset=utf-8/i, 'charset=utf-8');
  let parsed: CloudEvent<unknown> | CloudEvent<unknown>[];
  try {
    parsed = HTTP.toEvent({ headers, body: message.body }) as CloudEvent<unknown> | CloudEvent<unknown>[];
  } catch (e) {
    throw new PoisonEvent(400, `not a CloudEvent: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (Array.isArray(parsed)) throw new PoisonEvent(415, 'batched CloudEvents are not accepted');
  try {
    parsed.validate();
  } catch (e) {
    const detail = e instanceof ValidationError ? JSON.stringify(e.errors ?? e.message) : String(e);
    throw new PoisonEvent(400, `invalid CloudEvent: ${detail}`);
  }
  return parsed;
}

function eventData(event: CloudEvent<unknown>): unknown {
  const data = event.data;
  if (typeof data === 'string' && data.length > 0) {
    try {
      return JSON.parse(data);
    } catch {
      return data;
    }
  }
  if (data instanceof Uint8Array) {
    try {
      return JSON.parse(Buffer.from(data).toString('utf8'));
    } catch {
      return data;
    }
  }
  return data;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** a value from the request, quoted and cut short enough to put in an answer or a log line */
export function quoted(value: unknown, max = 64): string {
  const text = String(value);
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** Why a name or namespace could not be the API server's (DNS-1123), or undefined. */
function badName(metadata: { name: string; namespace?: string | undefined }): string | undefined {
  const { name, namespace } = metadata;
  if (name.length === 0 || name.length > 253 || !DNS_SUBDOMAIN.test(name)) return `name ${quoted(name)} is not a valid Kubernetes name (DNS-1123 subdomain, at most 253 characters)`;
  if (namespace !== undefined && (namespace.length > 63 || !DNS_LABEL.test(namespace))) return `namespace ${quoted(namespace)} is not a valid Kubernetes namespace (DNS-1123 label, at most 63 characters)`;
  return undefined;
}

/** Classifies a parsed CloudEvent. Throws PoisonEvent for types and kinds we do not handle. */
export function classifyEvent(event: CloudEvent<unknown>): DecodedEvent {
  const base = { id: event.id, source: event.source };
  const id = quoted(event.id);
  switch (event.type) {
    case EVENT_TYPES.ping:
      return { type: 'ping', ...base, data: eventData(event) };
    case EVENT_TYPES.published:
      return { type: 'published', ...base, subject: event.subject, data: eventData(event) };
    case EVENT_TYPES.add:
    case EVENT_TYPES.update:
    case EVENT_TYPES.delete: {
      const action = event.type.slice(event.type.lastIndexOf('.') + 1) as ResourceAction;
      const parsed = KubeObject.safeParse(eventData(event));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new PoisonEvent(422, `event ${id}: data is not a Kubernetes object (${issue?.path.join('.') || 'data'}: ${issue?.message})`);
      }
      const object = parsed.data as KubeObject;
      if (!(WATCHED_KINDS as readonly string[]).includes(object.kind)) {
        throw new PoisonEvent(422, `event ${id}: kind ${quoted(object.kind)} is not handled (handled: ${WATCHED_KINDS.join(', ')})`);
      }
      const invalid = badName(object.metadata);
      if (invalid) throw new PoisonEvent(422, `event ${id}: ${invalid}`);
      return { type: 'resource', action, kind: object.kind as WatchedKind, object, ...base };
    }
    default: {
      if (isGitPushType(event.type)) {
        const push = decodeGitPush(event.type, event.source, eventData(event));
        if (!push) throw new PoisonEvent(422, `event ${id}: data is not a git push payload (ref and repository URLs)`);
        return { type: 'git-push', ...base, push, cloudEventType: event.type };
      }
      throw new PoisonEvent(400, `event ${id}: unknown type ${quoted(event.type)}`);
    }
  }
}

/** the CloudEvent type an event came as */
export function cloudEventTypeOf(event: DecodedEvent): string {
  if (event.type === 'resource') return EVENT_TYPES[event.action];
  if (event.type === 'git-push') return event.cloudEventType;
  return EVENT_TYPES[event.type];
}

export function decodeEvent(message: HttpMessage): DecodedEvent {
  return classifyEvent(parseCloudEvent(message));
}
