import { CloudEvent, HTTP } from 'cloudevents';
import { request } from 'undici';
import type { SnapshotPointer } from '../snapshots/pointer.ts';
import { EVENT_TYPES } from './decode.ts';

/**
 * `io.toolhive.registry.snapshot.published` to K_SINK (set by a SinkBinding or the
 * ApiServerSource-style `sink` of the Service), so the query function drops its cache at once
 * and users' automation can react. Binary mode; subject = `namespace/name`; data = the pointer.
 * Best effort: the snapshot is published whether or not anyone hears about it.
 */

export const PUBLISHED_SOURCE = 'knative-mcp-registry/sync';

export function publishedEvent(pointer: SnapshotPointer): CloudEvent<SnapshotPointer> {
  return new CloudEvent({
    type: EVENT_TYPES.published,
    source: PUBLISHED_SOURCE,
    subject: `${pointer.namespace}/${pointer.name}`,
    datacontenttype: 'application/json',
    data: pointer,
  });
}

export async function sendEvent(sink: string, event: CloudEvent<unknown>, options: { timeoutMs?: number; token?: string } = {}): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const message = HTTP.binary(event);
  const res = await request(sink, {
    method: 'POST',
    // the query function's shared token (MCPREG_EVENTS_TOKEN), for direct delivery
    headers: { ...(message.headers as Record<string, string>), ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
    body: typeof message.body === 'string' ? message.body : JSON.stringify(message.body),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  await res.body.dump();
  return res.statusCode;
}
