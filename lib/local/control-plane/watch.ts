/**
 * Watch streams: newline-delimited `{"type","object"}` events from a resourceVersion (backlog
 * from the store's history, then live), synthetic ADDED events for a watch without a version,
 * label/field selector transitions (an object that stops matching is DELETED for that
 * watcher), Table and PartialObjectMetadata objects when asked, and an ERROR event with a 410
 * Expired Status when the version is older than the history.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { grOf, present, type ObjectApi, type RequestScope } from './api.ts';
import type { Representation } from './http.ts';
import type { KubeObject } from './objects.ts';
import { apiError, isApiError } from './status.ts';
import type { StoreEvent } from './store.ts';
import { toTable, type IncludeObject } from './table.ts';

const MAX_BUFFERED = 16 * 1024 * 1024;

export interface ActiveWatch {
  close(): void;
}

export function serveWatch(req: IncomingMessage, res: ServerResponse, api: ObjectApi, scope: RequestScope, rep: Representation, active: Set<ActiveWatch>): void {
  const { type, version } = scope;
  const gr = grOf(type);
  const { match } = api.selectors(scope);
  const rvParam = scope.query.get('resourceVersion') ?? '';
  const sendInitial = scope.query.get('sendInitialEvents') === 'true';
  const bookmarks = scope.query.get('allowWatchBookmarks') === 'true';
  const timeoutText = scope.query.get('timeoutSeconds');
  const timeout = timeoutText ? Number(timeoutText) : 0;
  if (!Number.isFinite(timeout) || timeout < 0) throw apiError.badRequest(`timeoutSeconds: Invalid value: ${JSON.stringify(timeoutText)}`);
  const includeObject = (scope.query.get('includeObject') as IncludeObject | null) ?? 'Metadata';

  const fresh = rvParam === '' || rvParam === '0' || sendInitial;
  let from: number;
  if (fresh) from = api.store.resourceVersion;
  else {
    from = Number(rvParam);
    if (!/^\d+$/.test(rvParam)) throw apiError.badRequest(`resourceVersion: Invalid value: ${JSON.stringify(rvParam)}: must be an unsigned integer`);
  }

  const inScope = (o: KubeObject) =>
    (scope.namespace === undefined || o.metadata.namespace === scope.namespace) && (scope.name === undefined || o.metadata.name === scope.name) && match(o);

  const encode = (eventType: string, obj: unknown): string => {
    let out = obj;
    if (eventType !== 'ERROR' && eventType !== 'BOOKMARK') {
      const o = present(obj as KubeObject, type, version);
      if (rep.kind === 'table') out = toTable(type, version, [o], { includeObject, tableVersion: rep.version, listMeta: { resourceVersion: o.metadata.resourceVersion } });
      else if (rep.kind === 'metadata') out = { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${rep.version}`, metadata: o.metadata };
      else out = o;
    }
    return `${JSON.stringify({ type: eventType, object: out })}\n`;
  };

  res.writeHead(200, {
    'Content-Type': rep.kind === 'table' ? `application/json;as=Table;v=${rep.version};g=meta.k8s.io` : 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();

  let closed = false;
  let stop = () => {};
  let timer: NodeJS.Timeout | undefined;
  const watch: ActiveWatch = {
    close() {
      if (closed) return;
      closed = true;
      stop();
      if (timer) clearTimeout(timer);
      active.delete(watch);
      res.end();
    },
  };
  active.add(watch);
  req.on('close', () => watch.close());
  res.on('close', () => watch.close());
  res.on('error', () => watch.close());

  const write = (line: string) => {
    if (closed) return;
    res.write(line);
    // a client that stops reading is dropped (it re-watches), rather than buffering without end
    if (res.writableLength > MAX_BUFFERED) watch.close();
  };

  const onEvent = (e: StoreEvent) => {
    const now = inScope(e.object);
    const before = e.previous ? inScope(e.previous) : false;
    if (e.type === 'ADDED' && now) write(encode('ADDED', e.object));
    else if (e.type === 'MODIFIED') {
      if (now && before) write(encode('MODIFIED', e.object));
      else if (now) write(encode('ADDED', e.object));
      else if (before) write(encode('DELETED', e.object));
    } else if (e.type === 'DELETED' && (before || now)) write(encode('DELETED', e.object));
  };

  try {
    const sub = api.store.watch(gr, from, onEvent);
    stop = sub.stop;
    if (fresh) for (const o of api.store.list(gr, scope.namespace)) if (inScope(o)) write(encode('ADDED', o));
    if (sendInitial && bookmarks)
      write(
        encode('BOOKMARK', {
          kind: type.kind,
          apiVersion: present({ apiVersion: '', kind: type.kind, metadata: {} }, type, version).apiVersion,
          metadata: { resourceVersion: String(from), annotations: { 'k8s.io/initial-events-end': 'true' } },
        }),
      );
    for (const e of sub.backlog) onEvent(e);
  } catch (e) {
    if (isApiError(e)) {
      write(encode('ERROR', e.toStatus()));
      watch.close();
      return;
    }
    throw e;
  }
  if (timeout > 0) timer = setTimeout(() => watch.close(), timeout * 1000);
}
