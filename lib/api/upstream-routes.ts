import type { IncomingHttpHeaders } from 'node:http';
import type { RegistryRef } from '../snapshots/layout.ts';
import { answer, authenticate, authorize, dataReply, isReply, plainReply, problemReply, registryKey, registryNotFound, type Ctx, type Reply } from './context.ts';
import { listParamsKey, parseIncludeDeleted, parseListParams } from './params.ts';
import { PreparedResponse, tagOfKey } from './prepared.ts';
import { problem } from './problem.ts';
import type { Route } from './router.ts';
import { entryBody, listBody } from './serialize.ts';
import { listPage, versionOf, versionsOf } from './upstream-query.ts';

/**
 * The upstream-compatible endpoints of one registry (`/registries/{ns}/{name}/v0.1/…`, and the
 * default registry at `/v0.1/…`; `/v0/…` behaves identically). Responses are prepared once
 * per (snapshot, request) and served from the response cache afterwards.
 */

type UpstreamRoute = Extract<Route, { kind: 'up-list' | 'up-versions' | 'up-version' | 'up-ping' | 'up-health' | 'up-publish' }>;

function resolve(ctx: Ctx, route: UpstreamRoute): RegistryRef | Reply {
  if (route.registry !== 'default') return route.registry;
  return ctx.settings.defaultRegistry ?? problemReply(problem(404, 'No default registry is configured (MCPREG_DEFAULT_REGISTRY); use /registries/{namespace}/{name}/v0.1/…'));
}

const SERVER_NOT_FOUND = () => problemReply(problem(404, 'Server not found'));

export async function upstreamRoute(ctx: Ctx, route: UpstreamRoute, rawQuery: string, headers: IncomingHttpHeaders, url: string): Promise<Reply> {
  const reply = await answerRoute(ctx, route, rawQuery, headers);
  if (reply.hash && reply.key && ctx.anonymous) ctx.remember(url, { ref: reply.ref!, hash: reply.hash, reply: reply.reply, key: reply.key });
  return reply.reply;
}

interface Answered {
  reply: Reply;
  /** the registry and snapshot a data reply was computed from */
  ref?: RegistryRef;
  hash?: string;
  /** its response cache key */
  key?: string;
}

async function answerRoute(ctx: Ctx, route: UpstreamRoute, rawQuery: string, headers: IncomingHttpHeaders): Promise<Answered> {
  const done = (reply: Reply): Answered => ({ reply });
  const ref = resolve(ctx, route);
  if (isReply(ref)) return done(ref);
  const caller = await authenticate(ctx, headers);
  if (isReply(caller)) return done(caller);
  const denied = await authorize(ctx, caller, ref);
  if (denied) return done(denied);
  const rk = registryKey(ref);

  switch (route.kind) {
    case 'up-ping':
      return done((await ctx.cache.current(ref)) ? plainReply({ pong: true }) : registryNotFound());
    case 'up-health':
      return done((await ctx.cache.current(ref)) ? plainReply({ status: 'ok' }) : registryNotFound());
    case 'up-publish':
      return done(problemReply(problem(501, 'Publishing is not supported: this registry is synced from its source')));

    case 'up-list': {
      const parsed = parseListParams(new URLSearchParams(rawQuery));
      if (!parsed.ok) return done(problemReply(parsed.problem));
      const loaded = await ctx.cache.upstream(ref);
      if (!loaded) return done(registryNotFound());
      const params = parsed.value;
      const suffix = `|L|${listParamsKey(params)}`;
      const hitKey = `${rk}|${loaded.hash}${suffix}`;
      const hit = ctx.responses.get(hitKey);
      if (hit) return { reply: dataReply(ctx, hit), ref, hash: loaded.hash, key: hitKey };
      const { hash, value: page } = await answer(ctx, ref, loaded, (v) => listPage(v, params));
      const key = `${rk}|${hash}${suffix}`;
      // a search is mostly asked once: tagged by its key, kept from its second time on
      const search = params.search !== undefined;
      const response = new PreparedResponse(200, 'application/json', listBody(page.items, page.nextCursor), search ? tagOfKey(key) : undefined);
      if (search) ctx.responses.offer(key, response);
      else ctx.responses.set(key, response);
      return { reply: dataReply(ctx, response), ref, hash, key };
    }

    case 'up-versions':
    case 'up-version': {
      const parsed = parseIncludeDeleted(new URLSearchParams(rawQuery));
      if (!parsed.ok) return done(problemReply(parsed.problem));
      const includeDeleted = parsed.value;
      const loaded = await ctx.cache.upstream(ref);
      if (!loaded) return done(registryNotFound());
      const suffix =
        route.kind === 'up-versions'
          ? `|V|${includeDeleted ? 1 : 0}|${route.server}`
          : `|E|${includeDeleted ? 1 : 0}|${route.server}\u0000${route.version}`;
      const hitKey = `${rk}|${loaded.hash}${suffix}`;
      const hit = ctx.responses.get(hitKey);
      if (hit) return { reply: dataReply(ctx, hit), ref, hash: loaded.hash, key: hitKey };
      let body: Buffer | null;
      let hash: string;
      if (route.kind === 'up-versions') {
        const r = await answer(ctx, ref, loaded, (v) => versionsOf(v, route.server, includeDeleted));
        hash = r.hash;
        body = r.value ? listBody(r.value) : null;
      } else {
        const r = await answer(ctx, ref, loaded, (v) => versionOf(v, route.server, route.version, includeDeleted));
        hash = r.hash;
        body = r.value ? entryBody(r.value) : null;
      }
      if (!body) return done(SERVER_NOT_FOUND());
      const response = new PreparedResponse(200, 'application/json', body);
      const key = `${rk}|${hash}${suffix}`;
      ctx.responses.set(key, response);
      return { reply: dataReply(ctx, response), ref, hash, key };
    }
  }
}
