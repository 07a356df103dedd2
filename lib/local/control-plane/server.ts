/**
 * The control plane's HTTP server: authentication, authorization, routing of discovery,
 * OpenAPI and resource requests to the object API, watches, reviews, persistence and the
 * kubeconfig it writes. Start it with `startControlPlane` (index.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { RegistryError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../log.ts';
import { grOf, ObjectApi, targetOf, type PatchType, type RequestScope } from './api.ts';
import { Authenticator, newToken, readTokenFile, type TokenEntry, type UserInfo } from './auth.ts';
import { builtinTypes } from './builtins.ts';
import { crdToType, skippedRules } from './crd.ts';
import {
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiVersions,
  openApiGroupVersion,
  openApiIndex,
  resourceList,
  versionInfoDoc,
} from './discovery.ts';
import {
  bodyFormat,
  MAX_BODY_BYTES,
  negotiate,
  parseJsonBody,
  parseYamlBody,
  readBody,
  requestInfo,
  sendError,
  sendJson,
  utf8,
  type BodyFormat,
  type Representation,
  type RequestInfo,
} from './http.ts';
import { decodeProtobuf } from './protobuf.ts';
import { kubeConfigObject, writeKubeconfig } from './kubeconfig.ts';
import { apiVersionOf, type KubeObject } from './objects.ts';
import { loadState, StateWriter, type SavedToken } from './persistence.ts';
import { bootstrapPolicy, RbacAuthorizer, type Attributes, type Decision } from './rbac.ts';
import { grKey, ResourceRegistry, versionInfo, type ResourceType } from './resources.ts';
import * as reviews from './reviews.ts';
import { apiError } from './status.ts';
import { Store, type StoreEvent } from './store.ts';
import { toTable, type IncludeObject } from './table.ts';
import { serveWatch, type ActiveWatch } from './watch.ts';
import { closeNow } from '../listen.ts';

export interface ControlPlaneOptions {
  /** 0 (default) picks a free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** keep state in `<dataDir>/state.json` and write `<dataDir>/kubeconfig` */
  dataDir?: string;
  /** where to write the kubeconfig (default `<dataDir>/kubeconfig`; none without a data directory) */
  kubeconfigPath?: string;
  /** a kube-apiserver static token file: `token,user,uid,"group1,group2"` per line */
  tokensFile?: string;
  /** tokens given in code (tests) */
  tokens?: { token: string; user: string; uid?: string; groups?: string[] }[];
  /**
   * Accept requests without a token (as system:anonymous). Default: true when neither tokens
   * nor RBAC are asked for. With RBAC on, anonymous requests are authorized like any user.
   */
  anonymous?: boolean;
  /** Default: RBAC when tokensFile or tokens are given, AlwaysAllow otherwise */
  authorization?: 'RBAC' | 'AlwaysAllow';
  log?: Logger;
  /** request body limit, default 3 MiB */
  maxBodyBytes?: number;
  /** events kept per resource for watches to resume from, default 1000 */
  historyLimit?: number;
}

export interface ControlPlane {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** `<dataDir>/kubeconfig` when a data directory is used */
  readonly kubeconfigPath?: string;
  readonly authorization: 'RBAC' | 'AlwaysAllow';
  /** a client-node config for `user` (default: the cluster admin, group system:masters) */
  kubeConfig(user?: string): KubeConfig;
  /** the bearer token of `user`, issuing one (with `groups`) if the user has none */
  tokenFor(user?: string, groups?: string[]): string;
  addToken(token: string, user: string, groups?: string[]): void;
  stop(): Promise<void>;
}

const ADMIN_USER = 'admin';
const SYSTEM_USER: UserInfo = { username: 'system:apiserver', groups: ['system:masters'] };
const CRD_GR = grKey('apiextensions.k8s.io', 'customresourcedefinitions');
const NS_GR = grKey('', 'namespaces');
const SEED_NAMESPACES = ['default', 'kube-system', 'kube-public'];

const PATCH_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

class ControlPlaneServer implements ControlPlane {
  readonly store: Store;
  readonly registry = new ResourceRegistry();
  readonly api: ObjectApi;
  readonly authn: Authenticator;
  readonly rbac: RbacAuthorizer | undefined;
  readonly authorization: 'RBAC' | 'AlwaysAllow';
  readonly log: Logger;
  readonly maxBody: number;
  readonly watches = new Set<ActiveWatch>();
  readonly server: Server;
  readonly dataDir: string | undefined;
  writer: StateWriter | undefined;
  url = '';
  port = 0;
  kubeconfigPath: string | undefined;
  readonly kubeconfigTarget: string | undefined;
  closed = false;

  constructor(options: ControlPlaneOptions, authorization: 'RBAC' | 'AlwaysAllow', anonymous: boolean) {
    this.log = options.log ?? silentLogger;
    this.maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
    this.store = new Store({ ...(options.historyLimit ? { historyLimit: options.historyLimit } : {}) });
    for (const t of builtinTypes()) this.registry.add(t);
    this.api = new ObjectApi(this.store, this.registry, this.log);
    this.authn = new Authenticator({ anonymous });
    this.authorization = authorization;
    this.rbac = authorization === 'RBAC' ? new RbacAuthorizer(this.store) : undefined;
    this.dataDir = options.dataDir;
    this.kubeconfigTarget = options.kubeconfigPath ?? (options.dataDir ? join(options.dataDir, 'kubeconfig') : undefined);
    this.server = createServer({ keepAliveTimeout: 30_000, requestTimeout: 60_000, headersTimeout: 30_000 }, (req, res) => {
      this.#handle(req, res).catch((e: unknown) => {
        this.log.error('control plane request failed', { method: req.method, url: req.url, error: e instanceof Error ? e.message : String(e) });
        if (!res.headersSent) sendError(res, e);
        else res.destroy();
      });
    });
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  // ---------------------------------------------------------------- lifecycle

  async init(options: ControlPlaneOptions): Promise<void> {
    const saved = this.dataDir ? await loadState(this.dataDir) : undefined;
    if (saved) {
      this.store.restore({ resourceVersion: saved.resourceVersion, collections: saved.collections as Record<string, KubeObject[]> });
      for (const t of saved.tokens) this.authn.add(t);
    }
    for (const crd of this.store.list(CRD_GR)) this.#serveCrd(crd);
    this.store.watch(CRD_GR, this.store.resourceVersion, (e) => this.#onCrdEvent(e));
    this.store.watch(NS_GR, this.store.resourceVersion, (e) => this.#onNamespaceEvent(e));

    if (options.tokensFile) for (const t of await readTokenFile(options.tokensFile)) this.authn.add(t);
    for (const t of options.tokens ?? []) this.authn.add({ ...t, origin: 'added' });
    if (!this.authn.tokenFor(ADMIN_USER)) this.authn.add({ token: newToken('mcpreg-admin'), user: ADMIN_USER, groups: ['system:masters'], origin: 'admin' });

    this.#seed();
    if (this.dataDir) {
      this.writer = new StateWriter(this.dataDir, { snapshot: () => this.store.snapshot(), tokens: () => this.#savedTokens() }, this.log);
      this.store.onChange = () => this.writer?.schedule();
      this.writer.schedule();
    }
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        reject(
          new RegistryError('invalid_argument', e.code === 'EADDRINUSE' ? `port ${port} is already in use` : `cannot listen on ${host}:${port}: ${e.message}`, {
            where: { url: `http://${host}:${port}` },
            cause: e,
          }),
        );
      };
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    this.port = address.port;
    const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
    this.url = `http://${shownHost}:${this.port}`;
    if (this.kubeconfigTarget) {
      this.kubeconfigPath = this.kubeconfigTarget;
      await writeKubeconfig(this.kubeconfigPath, this.url, ADMIN_USER, this.authn.tokenFor(ADMIN_USER));
    }
    this.log.info('control plane listening', { url: this.url, authz: this.authorization, anonymous: this.authn.anonymous, dataDir: this.dataDir });
  }

  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watches]) w.close();
    await closeNow(this.server);
    await this.writer?.flush();
  }

  // ---------------------------------------------------------------- tokens and kubeconfigs

  addToken(token: string, user: string, groups: string[] = []): void {
    this.authn.add({ token, user, groups, origin: 'added' });
  }

  tokenFor(user = ADMIN_USER, groups: string[] = []): string {
    const existing = this.authn.tokenFor(user);
    if (existing) return existing;
    const token = newToken('mcpreg-user');
    this.authn.add({ token, user, groups, origin: 'added' });
    return token;
  }

  kubeConfig(user = ADMIN_USER): KubeConfig {
    return kubeConfigObject(this.url, user, this.tokenFor(user));
  }

  #savedTokens(): SavedToken[] {
    const now = Date.now();
    return this.authn
      .entries()
      .filter((t): t is TokenEntry & { origin: 'admin' | 'issued' } => (t.origin === 'admin' || t.origin === 'issued') && (t.expires === undefined || t.expires > now))
      .map((t) => ({
        token: t.token,
        user: t.user,
        ...(t.uid ? { uid: t.uid } : {}),
        ...(t.groups ? { groups: t.groups } : {}),
        ...(t.expires ? { expires: t.expires } : {}),
        origin: t.origin,
      }));
  }

  // ---------------------------------------------------------------- store reactions

  #systemScope(type: ResourceType, namespace?: string): RequestScope {
    return {
      type,
      version: type.versions.find((v) => v.storage)!.name,
      ...(namespace ? { namespace } : {}),
      user: SYSTEM_USER,
      query: new URLSearchParams(),
      warnings: [],
      userAgent: 'mcpreg-control-plane',
    };
  }

  /** The namespaces and default RBAC policy every cluster has; missing ones are recreated on start. */
  #seed(): void {
    const ns = this.registry.get('', 'namespaces')!;
    for (const name of SEED_NAMESPACES) {
      if (!this.store.get(NS_GR, undefined, name)) this.api.create(this.#systemScope(ns), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
    const policy = bootstrapPolicy();
    const cr = this.registry.get('rbac.authorization.k8s.io', 'clusterroles')!;
    const crb = this.registry.get('rbac.authorization.k8s.io', 'clusterrolebindings')!;
    for (const [type, objects] of [
      [cr, policy.clusterRoles],
      [crb, policy.clusterRoleBindings],
    ] as const) {
      for (const o of objects) {
        const name = (o.metadata as { name: string }).name;
        if (!this.store.get(grOf(type), undefined, name)) this.api.create(this.#systemScope(type), o);
      }
    }
  }

  #serveCrd(crd: KubeObject): void {
    const type = crdToType(crd);
    this.registry.add(type);
    for (const s of skippedRules(crd)) this.log.warn('CRD validation rule skipped', { crd: crd.metadata.name, detail: s });
  }

  #onCrdEvent(e: StoreEvent): void {
    if (e.type !== 'DELETED') {
      // status and metadata writes do not change what is served
      if (e.previous && e.previous.metadata.generation === e.object.metadata.generation) return;
      this.#serveCrd(e.object);
      return;
    }
    const type = crdToType(e.object);
    for (const o of this.store.list(grOf(type))) this.store.remove(grOf(type), o);
    this.registry.remove(type.group, type.resource);
  }

  /** Each new namespace gets its `default` ServiceAccount, as the controller in a cluster does. */
  #onNamespaceEvent(e: StoreEvent): void {
    if (e.type !== 'ADDED') return;
    const ns = e.object.metadata.name!;
    queueMicrotask(() => {
      const sa = this.registry.get('', 'serviceaccounts')!;
      const live = this.store.get(NS_GR, undefined, ns);
      if (this.closed || !live || live.metadata.deletionTimestamp || this.store.get(grOf(sa), ns, 'default')) return;
      try {
        this.api.create(this.#systemScope(sa, ns), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns } });
      } catch (err) {
        this.log.debug('default service account not created', { namespace: ns, error: (err as Error).message });
      }
    });
  }

  // ---------------------------------------------------------------- requests

  #authorize(a: Attributes): Decision {
    if (!this.rbac) return { allowed: true, reason: 'AlwaysAllow' };
    return this.rbac.authorize(a);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const method = req.method ?? 'GET';
    let url: URL;
    try {
      const raw = req.url ?? '/';
      url = raw.startsWith('/') ? new URL(`http://localhost${raw}`) : new URL(raw);
    } catch {
      sendError(res, apiError.badRequest('the request URL cannot be parsed'));
      return;
    }
    let code = 200;
    try {
      const authenticated = this.authn.authenticate(req.headers.authorization);
      if (!authenticated) throw apiError.unauthorized();
      const user = this.#impersonate(req, authenticated);
      const info = requestInfo(method, url);
      const attrs: Attributes = info.resourceRequest
        ? {
            user,
            verb: info.verb,
            resourceRequest: true,
            apiGroup: info.group,
            resource: info.resource,
            ...(info.subresource ? { subresource: info.subresource } : {}),
            ...(info.name ? { name: info.name } : {}),
            ...(info.namespace ? { namespace: info.namespace } : {}),
          }
        : { user, verb: info.verb === 'head' ? 'get' : info.verb, resourceRequest: false, path: info.path };
      const decision = this.#authorize(attrs);
      if (!decision.allowed) throw apiError.forbidden(forbiddenMessage(user, info), info.resourceRequest ? { group: info.group, resource: info.resource, ...(info.name ? { name: info.name } : {}) } : undefined);
      if (info.resourceRequest) code = await this.#resource(req, res, url, info, user);
      else code = this.#nonResource(req, res, url, method);
    } catch (e) {
      // after a rejected upload the connection is not reused (the rest of the body is drained)
      if (e instanceof Error && (e as { code?: number }).code === 413 && !res.headersSent) res.setHeader('Connection', 'close');
      code = sendError(res, e).code;
      if (code >= 500) this.log.error('control plane request failed', { method, path: url.pathname, error: e instanceof Error ? e.message : String(e) });
    }
    this.log.debug('request', { method, path: url.pathname, code, ms: Date.now() - started });
  }

  /**
   * Impersonation headers (`kubectl --as`, `--as-group`), allowed when the real user may
   * `impersonate` the users, groups, uids and extras asked for, as in Kubernetes.
   */
  #impersonate(req: IncomingMessage, user: UserInfo): UserInfo {
    const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
    const asUser = list(req.headers['impersonate-user'])[0];
    const asGroups = list(req.headers['impersonate-group']);
    const asUid = list(req.headers['impersonate-uid'])[0];
    const extras = Object.entries(req.headers).filter(([k]) => k.startsWith('impersonate-extra-'));
    if (asUser === undefined && asGroups.length === 0 && asUid === undefined && extras.length === 0) return user;
    if (!asUser) throw apiError.badRequest('impersonating groups, uids or extras requires impersonating a user (Impersonate-User)');
    const check = (a: Omit<Attributes, 'user' | 'verb' | 'resourceRequest'>, what: string) => {
      if (!this.#authorize({ user, verb: 'impersonate', resourceRequest: true, ...a }).allowed)
        throw apiError.forbidden(
          `${what} is forbidden: User "${user.username}" cannot impersonate resource "${a.resource}${a.subresource ? `/${a.subresource}` : ''}" in API group "${a.apiGroup}"${a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope'}`,
        );
    };
    const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(asUser);
    const groups = [...asGroups];
    if (sa) {
      check({ apiGroup: '', resource: 'serviceaccounts', namespace: sa[1]!, name: sa[2]! }, `serviceaccounts "${sa[2]}"`);
      groups.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
    } else check({ apiGroup: '', resource: 'users', name: asUser }, `users "${asUser}"`);
    for (const g of asGroups) check({ apiGroup: '', resource: 'groups', name: g }, `groups "${g}"`);
    if (asUid !== undefined) check({ apiGroup: 'authentication.k8s.io', resource: 'uids', name: asUid }, `uids "${asUid}"`);
    const extra: Record<string, string[]> = {};
    for (const [header, value] of extras) {
      const key = decodeURIComponent(header.slice('impersonate-extra-'.length));
      for (const v of list(value)) check({ apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: v }, `userextras.authentication.k8s.io "${v}"`);
      extra[key] = list(value);
    }
    if (asUser !== 'system:anonymous' && !groups.includes('system:authenticated')) groups.push('system:authenticated');
    return { username: asUser, groups: [...new Set(groups)], ...(asUid !== undefined ? { uid: asUid } : {}), ...(extras.length ? { extra } : {}) };
  }

  #nonResource(req: IncomingMessage, res: ServerResponse, url: URL, method: string): number {
    if (method !== 'GET' && method !== 'HEAD') throw apiError.methodNotAllowed(method);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const parts = path.split('/').filter(Boolean);
    const accept = req.headers.accept;
    const ok = (body: unknown, contentType = 'application/json') => {
      sendJson(res, 200, body, contentType);
      return 200;
    };
    if (path === '/') return ok({ paths: ['/api', '/api/v1', '/apis', '/healthz', '/livez', '/openapi/v3', '/readyz', '/version'] });
    if (path === '/version') return ok(versionInfoDoc());
    if (['healthz', 'livez', 'readyz'].includes(parts[0]!)) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return 200;
    }
    if (path === '/api' || path === '/apis') {
      const rep = negotiate(accept, { discovery: true });
      if (rep.kind === 'discovery') {
        return ok(aggregatedDiscovery(this.registry, path === '/api', rep.version), `application/json;g=apidiscovery.k8s.io;v=${rep.version};as=APIGroupDiscoveryList`);
      }
      return ok(path === '/api' ? apiVersions(this.url.replace(/^https?:\/\//, '')) : apiGroupList(this.registry));
    }
    if (parts[0] === 'api' && parts.length === 2) {
      const list = resourceList(this.registry, '', parts[1]!);
      if (list) return ok(list);
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const group = apiGroup(this.registry, parts[1]!);
      if (group) return ok(group);
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      const list = resourceList(this.registry, parts[1]!, parts[2]!);
      if (list) return ok(list);
    }
    if (parts[0] === 'openapi' && parts[1] === 'v3') {
      if (parts.length === 2) return ok(openApiIndex(this.registry, String(this.store.resourceVersion)));
      const doc =
        parts[2] === 'api' && parts.length === 4
          ? openApiGroupVersion(this.registry, '', parts[3]!)
          : parts[2] === 'apis' && parts.length === 5
            ? openApiGroupVersion(this.registry, parts[3]!, parts[4]!)
            : undefined;
      if (doc) return ok(doc);
    }
    throw apiError.pathNotFound();
  }

  async #resource(req: IncomingMessage, res: ServerResponse, url: URL, info: RequestInfo, user: UserInfo): Promise<number> {
    const type = info.resource ? this.registry.resolve(info.group, info.version, info.resource) : undefined;
    if (!type || info.verb === 'unknown') throw apiError.pathNotFound();
    if (!type.namespaced && info.namespace !== undefined && type.resource !== 'namespaces') throw apiError.pathNotFound();
    if (type.namespaced && info.namespace === undefined && !['list', 'watch'].includes(info.verb) && !(type.review && !type.namespaced)) throw apiError.pathNotFound();
    const scope: RequestScope = {
      type,
      version: info.version,
      ...(type.namespaced && info.namespace !== undefined ? { namespace: info.namespace } : {}),
      ...(info.name !== undefined ? { name: info.name } : {}),
      ...(info.subresource !== undefined ? { subresource: info.subresource } : {}),
      user,
      query: url.searchParams,
      warnings: [],
      ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
    };
    const vinfo = versionInfo(type, info.version)!;
    if (vinfo.deprecated) scope.warnings.push(vinfo.deprecationWarning ?? `${apiVersionOf(type.group, info.version)} ${type.kind} is deprecated`);

    if (type.review) return this.#review(req, res, type, scope, info, user);
    const itemVerbs = ['get', 'update', 'patch', 'delete', 'watch'];
    const collectionVerbs = ['list', 'watch', 'create', 'deletecollection'];
    if (info.subresource === undefined && !(info.name === undefined ? collectionVerbs : itemVerbs).includes(info.verb)) throw apiError.methodNotAllowed(req.method ?? '');
    if (!type.verbs.includes(info.verb === 'watch' && info.name !== undefined ? 'watch' : info.verb) && info.subresource === undefined) throw apiError.methodNotAllowed(req.method ?? '');

    if (info.subresource !== undefined) {
      if (info.subresource === 'token' && type.resource === 'serviceaccounts') {
        if (info.verb !== 'create') throw apiError.methodNotAllowed(req.method ?? '');
        const body = await this.#readObject(req);
        if (!this.store.get(grOf(type), scope.namespace, scope.name!)) throw apiError.notFound(targetOf(type, scope.name));
        sendJson(res, 201, reviews.tokenRequest(body, scope.namespace!, scope.name!, this.authn));
        this.writer?.schedule();
        return 201;
      }
      if (info.subresource !== 'status' || !vinfo.status) throw apiError.pathNotFound();
      if (!['get', 'update', 'patch'].includes(info.verb)) throw apiError.methodNotAllowed(req.method ?? '');
    }

    switch (info.verb) {
      case 'get': {
        const rep = negotiate(req.headers.accept, { table: true, metadata: true });
        const obj = this.api.get(scope);
        return this.#reply(res, 200, this.#render(rep, type, scope, [obj], obj, url), rep, scope);
      }
      case 'list': {
        const rep = negotiate(req.headers.accept, { table: true, metadata: true });
        const list = this.api.list(scope);
        const body =
          rep.kind === 'json' || rep.kind === 'yaml'
            ? { kind: type.listKind, apiVersion: apiVersionOf(type.group, info.version), metadata: list.metadata, items: list.items }
            : this.#render(rep, type, scope, list.items, undefined, url, list.metadata);
        return this.#reply(res, 200, body, rep, scope);
      }
      case 'watch': {
        const rep = negotiate(req.headers.accept, { table: true, metadata: true });
        serveWatch(req, res, this.api, scope, rep, this.watches);
        return 200;
      }
      case 'create': {
        const body = await this.#readObject(req);
        const created = this.api.create(scope, body);
        return this.#reply(res, 201, created, negotiate(req.headers.accept, {}), scope);
      }
      case 'update': {
        const body = await this.#readObject(req);
        return this.#reply(res, 200, this.api.update(scope, body), negotiate(req.headers.accept, {}), scope);
      }
      case 'patch': {
        const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        const patchType = PATCH_TYPES[contentType];
        if (!patchType)
          throw apiError.unsupportedMediaType(
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml${type.mergeKeys ? ', application/strategic-merge-patch+json' : ''}`,
          );
        const text = utf8(await readBody(req, this.maxBody));
        const body = patchType === 'apply' ? parseYamlBody(text) : parseJsonBody(text);
        const existed = this.store.get(grOf(type), scope.namespace, scope.name!) !== undefined;
        const result = this.api.patch(scope, patchType, body);
        return this.#reply(res, existed ? 200 : 201, result, negotiate(req.headers.accept, {}), scope);
      }
      case 'delete': {
        const body = await this.#readOptionalObject(req);
        return this.#reply(res, 200, this.api.delete(scope, body), negotiate(req.headers.accept, {}), scope);
      }
      case 'deletecollection': {
        const body = await this.#readOptionalObject(req);
        const list = this.api.deleteCollection(scope, body);
        return this.#reply(res, 200, { kind: type.listKind, apiVersion: apiVersionOf(type.group, info.version), ...list }, negotiate(req.headers.accept, {}), scope);
      }
      default:
        throw apiError.methodNotAllowed(req.method ?? '');
    }
  }

  async #review(req: IncomingMessage, res: ServerResponse, type: ResourceType, scope: RequestScope, info: RequestInfo, user: UserInfo): Promise<number> {
    if (info.verb !== 'create' || info.name !== undefined) throw apiError.methodNotAllowed(req.method ?? '');
    const body = await this.#readObject(req);
    const authorize = (a: Attributes) => this.#authorize(a);
    let out: Record<string, unknown>;
    switch (type.resource) {
      case 'tokenreviews':
        out = reviews.tokenReview(body, this.authn);
        break;
      case 'selfsubjectreviews':
        out = reviews.selfSubjectReview(body, user);
        break;
      case 'subjectaccessreviews':
        out = reviews.subjectAccessReview(body, authorize);
        break;
      case 'localsubjectaccessreviews':
        out = reviews.localSubjectAccessReview(body, scope.namespace!, authorize);
        break;
      case 'selfsubjectaccessreviews':
        out = reviews.selfSubjectAccessReview(body, user, authorize);
        break;
      case 'selfsubjectrulesreviews':
        out = reviews.selfSubjectRulesReview(body, user, this.rbac);
        break;
      default:
        throw apiError.pathNotFound();
    }
    sendJson(res, 201, out);
    return 201;
  }

  async #readObject(req: IncomingMessage): Promise<unknown> {
    const format = bodyFormat(req.headers['content-type']);
    return decodeBody(format, await readBody(req, this.maxBody));
  }

  /** DELETE bodies (DeleteOptions) are optional. */
  async #readOptionalObject(req: IncomingMessage): Promise<unknown> {
    const body = await readBody(req, this.maxBody);
    if (body.length === 0 || (body.length < 64 && body.toString('latin1').trim() === '')) return undefined;
    return decodeBody(bodyFormat(req.headers['content-type']), body);
  }

  #render(rep: Representation, type: ResourceType, scope: RequestScope, items: KubeObject[], single: KubeObject | undefined, url: URL, listMeta?: Record<string, unknown>): unknown {
    if (rep.kind === 'table') {
      const includeObject = (url.searchParams.get('includeObject') as IncludeObject | null) ?? 'Metadata';
      if (!['None', 'Metadata', 'Object'].includes(includeObject)) throw apiError.badRequest(`includeObject: Unsupported value: ${JSON.stringify(includeObject)}`);
      return toTable(type, scope.version, items, { includeObject, tableVersion: rep.version, listMeta: listMeta ?? { resourceVersion: single?.metadata.resourceVersion } });
    }
    if (rep.kind === 'metadata') {
      const partial = (o: KubeObject) => ({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${rep.version}`, metadata: o.metadata });
      if (single && !rep.list) return partial(single);
      return { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${rep.version}`, metadata: listMeta ?? {}, items: items.map(partial) };
    }
    return single ?? items;
  }

  #reply(res: ServerResponse, code: number, body: unknown, rep: Representation, scope: RequestScope): number {
    const contentType =
      rep.kind === 'yaml'
        ? 'application/yaml'
        : rep.kind === 'table'
          ? `application/json;as=Table;v=${rep.version};g=meta.k8s.io`
          : rep.kind === 'metadata'
            ? `application/json;as=PartialObjectMetadata${Array.isArray((body as { items?: unknown }).items) ? 'List' : ''};v=${rep.version};g=meta.k8s.io`
            : 'application/json';
    sendJson(res, code, body, contentType, scope.warnings);
    return code;
  }
}

function decodeBody(format: BodyFormat, body: Buffer): unknown {
  if (format === 'protobuf') return decodeProtobuf(body);
  const text = utf8(body);
  return format === 'yaml' ? parseYamlBody(text) : parseJsonBody(text);
}

function forbiddenMessage(user: UserInfo, info: RequestInfo): string {
  if (!info.resourceRequest) return `forbidden: User "${user.username}" cannot ${info.verb} path "${info.path}"`;
  const resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  const qualified = info.group ? `${info.resource}.${info.group}` : info.resource;
  const subject = info.name ? `${qualified} "${info.name}"` : qualified;
  const where = info.namespace ? `in the namespace "${info.namespace}"` : 'at the cluster scope';
  return `${subject} is forbidden: User "${user.username}" cannot ${info.verb} resource "${resource}" in API group "${info.group}" ${where}`;
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const hasTokens = options.tokensFile !== undefined || (options.tokens?.length ?? 0) > 0;
  const authorization = options.authorization ?? (hasTokens ? 'RBAC' : 'AlwaysAllow');
  const anonymous = options.anonymous ?? authorization === 'AlwaysAllow';
  const cp = new ControlPlaneServer(options, authorization, anonymous);
  await cp.init(options);
  try {
    await cp.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  } catch (e) {
    await cp.stop().catch(() => {});
    throw e;
  }
  return cp;
}

