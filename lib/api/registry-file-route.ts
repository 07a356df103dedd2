import type { IncomingHttpHeaders } from 'node:http';
import { DEFAULT_REGISTRY_VERSION } from '../formats/registry-conversion.ts';
import { TOOLHIVE_UPSTREAM_FILE_SCHEMA_URL } from '../formats/upstream-schema.ts';
import type { RegistryRef } from '../snapshots/layout.ts';
import { authenticate, authorize, dataReply, isReply, problemReply, registryKey, registryNotFound, type Ctx, type Reply } from './context.ts';
import { type Encoding, chooseEncoding, compressedAnswer, mapSliced, prepareResponse, rememberLargeAnswer, type PreparedResponse } from './prepared.ts';
import { problem } from './problem.ts';
import { latestUpstream } from './toolhive-routes.ts';

/**
 * `GET /registries/{ns}/{name}/registry.json`: the registry as a file, for clients that read
 * registries by URL (ToolHive's `thv` with a registry URL, anything that reads registry files).
 *
 * - default (`?format=upstream`): ToolHive's upstream file envelope
 *   `{$schema, version, meta:{last_updated}, data:{servers:[server.json…]}}` holding the latest
 *   visible (not deleted) version of each server, as `/api/v1/servers?format=upstream` lists them;
 * - `?format=toolhive`: the snapshot's ToolHive `registry.json`, byte for byte.
 *
 * Both carry the strong ETag of their bytes (304 on `If-None-Match`) and are cached per snapshot.
 */

type FileFormat = 'upstream' | 'toolhive';

function fileFormat(query: URLSearchParams): FileFormat | Reply {
  if (!query.has('format')) return 'upstream';
  const f = query.get('format')!;
  if (f === 'upstream' || f === 'toolhive') return f;
  return problemReply(problem(400, `format must be upstream or toolhive, got ${JSON.stringify(f)}`, { errors: [{ message: 'expected upstream or toolhive', location: 'query.format', value: f }] }));
}

export async function registryFileRoute(ctx: Ctx, ref: RegistryRef, rawQuery: string, headers: IncomingHttpHeaders): Promise<Reply> {
  const caller = await authenticate(ctx, headers);
  if (isReply(caller)) return caller;
  const denied = await authorize(ctx, caller, ref);
  if (denied) return denied;
  const format = fileFormat(new URLSearchParams(rawQuery));
  if (isReply(format)) return format;
  const encoding = chooseEncoding(headers['accept-encoding']);
  const response = format === 'toolhive' ? await toolhiveFile(ctx, ref, encoding) : await upstreamFile(ctx, ref, encoding);
  return response ? dataReply(ctx, response) : registryNotFound();
}

async function toolhiveFile(ctx: Ctx, ref: RegistryRef, encoding: Encoding): Promise<PreparedResponse | null> {
  const cur = await ctx.cache.current(ref);
  if (!cur) return null;
  const key = `${registryKey(ref)}|F|toolhive|${cur.pointer.hash}`;
  const hit = ctx.responses.get(key) ?? compressedAnswer(key, encoding);
  if (hit) return hit;
  const got = await ctx.cache.store.get(cur.pointer.objects.toolhive);
  if (got === null || got === 'not-modified') return null;
  const response = await prepareResponse(200, 'application/json', Buffer.from(got.body));
  if (!ctx.responses.set(key, response)) rememberLargeAnswer(key, response);
  return response;
}

async function upstreamFile(ctx: Ctx, ref: RegistryRef, encoding: Encoding): Promise<PreparedResponse | null> {
  const data = await latestUpstream(ctx, ref);
  if (!data) return null;
  const key = `${registryKey(ref)}|F|upstream|${data.pointer.hash}`;
  const hit = ctx.responses.get(key) ?? compressedAnswer(key, encoding);
  if (hit) return hit;
  const head = JSON.stringify({ $schema: TOOLHIVE_UPSTREAM_FILE_SCHEMA_URL, version: DEFAULT_REGISTRY_VERSION, meta: { last_updated: data.pointer.syncedAt } });
  const parts: Buffer[] = [Buffer.from(`${head.slice(0, -1)},"data":{"servers":[`)];
  // a slice of servers per event-loop turn: a large registry must not stall other requests
  const servers = await mapSliced(data.latest.servers, (s) => {
    const { server } = JSON.parse(Buffer.from(s.entry.bytes).toString('utf8')) as { server: unknown };
    return Buffer.from(JSON.stringify(server));
  });
  servers.forEach((b, i) => {
    if (i > 0) parts.push(Buffer.from(','));
    parts.push(b);
  });
  parts.push(Buffer.from(']}}'));
  const response = await prepareResponse(200, 'application/json', Buffer.concat(parts));
  if (!ctx.responses.set(key, response)) rememberLargeAnswer(key, response);
  return response;
}
