/**
 * The object semantics of the Kubernetes API on top of the store: create, get, list, update,
 * patch (merge, JSON, strategic, server-side apply), delete and deletecollection, with
 * resourceVersion preconditions, generation and status-subresource rules, pruning, defaulting
 * and validation, finalizers and deletionTimestamp, namespace and CRD cleanup, and garbage
 * collection of dependents through ownerReferences.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '../../log.ts';
import type { UserInfo } from './auth.ts';
import { evaluateRules } from './cel.ts';
import { crdStatus, validateCrd } from './crd.ts';
import { fieldError, index, type FieldError } from './field-errors.ts';
import { recordUpdate, serverSideApply, shapesOf, validManagedFields } from './managed-fields.ts';
import { nameErrors, validateAnnotations, validateFinalizers, validateLabels } from './names.ts';
import { apiVersionOf, clone, deepEqual, isObject, nowTimestamp, type KubeObject, type ManagedFieldsEntry } from './objects.ts';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';
import { grKey, storageVersion, versionInfo, type ResourceRegistry, type ResourceType } from './resources.ts';
import { applyDefaults, prune, rulesAfter, validate, validateRules } from './schema.ts';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, type FieldRequirement, type LabelRequirement } from './selectors.ts';
import { apiError, ApiError, type Target } from './status.ts';
import type { Store } from './store.ts';

export interface RequestScope {
  type: ResourceType;
  version: string;
  /** the URL's namespace; undefined for cluster-scoped kinds and all-namespace lists */
  namespace?: string;
  name?: string;
  subresource?: string;
  user: UserInfo;
  query: URLSearchParams;
  /** `Warning` headers to send back */
  warnings: string[];
  userAgent?: string;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

type Propagation = 'Orphan' | 'Background' | 'Foreground';

interface DeleteOptions {
  propagation: Propagation;
  dryRun: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
}

const NS_GR = grKey('', 'namespaces');
const CRD_GR = grKey('apiextensions.k8s.io', 'customresourcedefinitions');
const CRD_CLEANUP = 'customresourcecleanup.apiextensions.k8s.io';
const UNDELETABLE_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

const OBJECT_META_KEYS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

export const grOf = (t: ResourceType) => grKey(t.group, t.resource);

export function targetOf(t: ResourceType, name?: string): Target {
  return { group: t.group, resource: t.resource, ...(name !== undefined ? { name } : {}) };
}

/** The stored object as the requested version shows it (conversion strategy None). */
export function present(obj: KubeObject, type: ResourceType, version: string): KubeObject {
  return { ...obj, apiVersion: apiVersionOf(type.group, version) };
}

function dryRunOf(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw apiError.badRequest(`dryRun: Unsupported value: ${JSON.stringify(v)}: supported values: "All"`);
  return values.length > 0;
}

function fieldValidationOf(query: URLSearchParams): 'Strict' | 'Warn' | 'Ignore' {
  const v = query.get('fieldValidation') ?? '';
  if (v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw apiError.badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(v)}: supported values: "Ignore", "Strict", "Warn"`);
}

function managerOf(scope: RequestScope): string {
  const explicit = scope.query.get('fieldManager');
  if (explicit !== null && explicit !== '') {
    if (explicit.length > 128) throw apiError.unprocessable(`fieldManager: Too long: may not be more than 128 bytes`);
    return explicit;
  }
  const agent = scope.userAgent?.split('/')[0]?.trim();
  return agent ? agent.slice(0, 128) : 'unknown';
}

const shortJson = (v: unknown) => {
  const s = JSON.stringify(v) ?? '';
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
};

/** Content outside metadata (and status when it is a subresource): what `generation` tracks. */
function specPart(o: KubeObject, statusIsSubresource: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'metadata' || k === 'apiVersion' || k === 'kind' || (statusIsSubresource && k === 'status')) continue;
    out[k] = v;
  }
  return out;
}

/** Equal apart from resourceVersion and managed-field timestamps (a no-op write is not stored). */
function sameObject(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => ({
    ...o,
    apiVersion: undefined,
    metadata: {
      ...o.metadata,
      resourceVersion: undefined,
      managedFields: o.metadata.managedFields?.map((e) => ({ ...e, time: undefined })),
    },
  });
  return deepEqual(strip(a), strip(b));
}

export class ObjectApi {
  readonly store: Store;
  readonly registry: ResourceRegistry;
  readonly log: Logger;

  constructor(store: Store, registry: ResourceRegistry, log: Logger) {
    this.store = store;
    this.registry = registry;
    this.log = log;
  }

  // ---------------------------------------------------------------- reads

  get(scope: RequestScope): KubeObject {
    const obj = this.store.get(grOf(scope.type), scope.namespace, scope.name!);
    if (!obj) throw apiError.notFound(targetOf(scope.type, scope.name));
    return present(obj, scope.type, scope.version);
  }

  /** Selectors of a list or watch request; unknown field selectors are 400 as in Kubernetes. */
  selectors(scope: RequestScope): { labels: LabelRequirement[]; fields: FieldRequirement[]; match: (o: KubeObject) => boolean } {
    const labels = parseLabelSelector(scope.query.get('labelSelector') ?? '');
    const fields = parseFieldSelector(scope.query.get('fieldSelector') ?? '');
    const getters = scope.type.fields ?? {};
    for (const f of fields) {
      if (f.field !== 'metadata.name' && f.field !== 'metadata.namespace' && !getters[f.field])
        throw apiError.badRequest(
          `field label not supported: ${f.field} (supported: ${['metadata.name', 'metadata.namespace', ...Object.keys(getters)].map((x) => `"${x}"`).join(', ')})`,
        );
    }
    const get = (o: KubeObject) => (field: string) =>
      field === 'metadata.name' ? o.metadata.name : field === 'metadata.namespace' ? (o.metadata.namespace ?? '') : getters[field]?.(o);
    return { labels, fields, match: (o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, get(o)) };
  }

  list(scope: RequestScope): { items: KubeObject[]; metadata: Record<string, unknown> } {
    const { match } = this.selectors(scope);
    const gr = grOf(scope.type);
    const rv = this.store.resourceVersion;
    let all = this.store.list(gr, scope.namespace).filter(match);
    const token = scope.query.get('continue');
    let listRv = String(rv);
    if (token) {
      const decoded = decodeContinue(token);
      listRv = String(decoded.rv);
      all = all.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > decoded.key);
    }
    const limitText = scope.query.get('limit');
    const limit = limitText === null || limitText === '' ? 0 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 0) throw apiError.badRequest(`limit: Invalid value: ${JSON.stringify(limitText)}: must be a non-negative integer`);
    const metadata: Record<string, unknown> = { resourceVersion: listRv };
    let items = all;
    if (limit > 0 && all.length > limit) {
      items = all.slice(0, limit);
      const last = items[items.length - 1]!;
      metadata.continue = encodeContinue(Number(listRv), `${last.metadata.namespace ?? ''}/${last.metadata.name}`);
      metadata.remainingItemCount = all.length - limit;
    }
    return { items: items.map((o) => present(o, scope.type, scope.version)), metadata };
  }

  // ---------------------------------------------------------------- writes

  create(scope: RequestScope, body: unknown, managedOverride?: ManagedFieldsEntry[]): KubeObject {
    const { type, version } = scope;
    const dryRun = dryRunOf(scope.query);
    const obj = this.#incoming(scope, body);
    const meta = obj.metadata;
    if (!meta.name) {
      if (meta.generateName) meta.name = generateName(meta.generateName, (n) => this.store.get(grOf(type), meta.namespace, n) !== undefined);
      else throw apiError.invalid(type.kind, type.group, '', [fieldError.required('metadata.name', 'name or generateName is required')]);
    }
    if (type.namespaced) this.#checkNamespaceOpen(scope, meta.name);

    for (const k of ['uid', 'resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink', 'generation', 'managedFields'] as const) delete meta[k];
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    if (type.tracksGeneration) meta.generation = 1;

    const info = versionInfo(type, version)!;
    if (type.crd && info.status) delete obj.status;
    if (grOf(type) === NS_GR) {
      const spec = isObject(obj.spec) ? obj.spec : (obj.spec = {});
      if (!Array.isArray(spec.finalizers)) spec.finalizers = ['kubernetes'];
      obj.status = { phase: 'Active' };
    }
    if (grOf(type) === CRD_GR) meta.finalizers = [...new Set([...(meta.finalizers ?? []), CRD_CLEANUP])];

    this.#admit(scope, obj, undefined);
    if (grOf(type) === CRD_GR) obj.status = crdStatus(obj);

    if (this.store.get(grOf(type), meta.namespace, meta.name)) throw apiError.alreadyExists(targetOf(type, meta.name));
    meta.managedFields = managedOverride ?? recordUpdate([], undefined, obj, managerOf(scope), apiVersionOf(type.group, version), undefined, info.status, shapesOf(info.schema, type.mergeKeys));
    if (meta.managedFields.length === 0) delete meta.managedFields;
    obj.apiVersion = apiVersionOf(type.group, storageVersion(type));
    if (dryRun) return present(obj, type, version);
    return present(this.store.create(grOf(type), obj), type, version);
  }

  update(scope: RequestScope, body: unknown): KubeObject {
    const incoming = this.#incoming(scope, body);
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== scope.name)
      throw apiError.badRequest(`the name of the object (${incoming.metadata.name}) does not match the name on the URL (${scope.name})`);
    const old = this.store.get(grOf(scope.type), scope.namespace, scope.name!);
    if (!old) throw apiError.notFound(targetOf(scope.type, scope.name));
    const rv = incoming.metadata.resourceVersion;
    if (rv === undefined || rv === '') {
      if (scope.type.tracksGeneration)
        throw apiError.invalid(scope.type.kind, scope.type.group, scope.name!, [fieldError.invalid('metadata.resourceVersion', 0, 'must be specified for an update')]);
    } else if (rv !== old.metadata.resourceVersion) {
      throw apiError.conflict(targetOf(scope.type, scope.name));
    }
    return this.#update(scope, old, incoming);
  }

  patch(scope: RequestScope, patchType: PatchType, patchBody: unknown): KubeObject {
    const { type } = scope;
    const old = this.store.get(grOf(type), scope.namespace, scope.name!);
    if (patchType === 'apply') return this.#apply(scope, old, patchBody);
    if (!old) throw apiError.notFound(targetOf(type, scope.name));
    const current = clone(present(old, type, scope.version));
    let patched: unknown;
    switch (patchType) {
      case 'json':
        patched = jsonPatch(current, patchBody);
        break;
      case 'merge':
        if (!isObject(patchBody)) throw apiError.badRequest('a merge patch must be a JSON object');
        patched = mergePatch(current, patchBody);
        break;
      case 'strategic':
        if (!type.mergeKeys)
          throw apiError.unsupportedMediaType(
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
          );
        patched = strategicMergePatch(current, patchBody, type.mergeKeys);
        break;
    }
    if (!isObject(patched) || !isObject(patched.metadata)) throw apiError.unprocessable('the patched object must be an object with metadata');
    const result = patched as KubeObject;
    if (result.metadata.name !== scope.name) throw apiError.badRequest(`the name of the object (${String(result.metadata.name)}) does not match the name on the URL (${scope.name})`);
    if (result.metadata.resourceVersion !== undefined && result.metadata.resourceVersion !== old.metadata.resourceVersion)
      throw apiError.conflict(targetOf(type, scope.name));
    return this.#update(scope, old, this.#incoming(scope, result), current.metadata.managedFields);
  }

  #apply(scope: RequestScope, old: KubeObject | undefined, body: unknown): KubeObject {
    const { type, version } = scope;
    const manager = scope.query.get('fieldManager');
    if (!manager) throw apiError.badRequest('PATCH requests with apply content type require fieldManager');
    if (manager.length > 128) throw apiError.unprocessable('fieldManager: Too long: may not be more than 128 bytes');
    const force = scope.query.get('force') === 'true';
    if (!isObject(body)) throw apiError.badRequest('an apply configuration must be a YAML or JSON object');
    const applied = this.#incoming(scope, body);
    if (applied.metadata.name !== undefined && applied.metadata.name !== scope.name)
      throw apiError.badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${scope.name})`);
    applied.metadata.name = scope.name!;
    const info = versionInfo(type, version)!;
    const apiVersion = apiVersionOf(type.group, version);
    // list types of the served version's schema decide granular ownership (x-kubernetes-list-type)
    const shapes = shapesOf(info.schema, type.mergeKeys);
    const withTarget = (e: unknown) => {
      if (e instanceof ApiError && e.reason === 'Conflict') return new ApiError(409, 'Conflict', e.message, { ...e.details, group: type.group, kind: type.resource });
      return e;
    };
    // a uid in the apply configuration is a precondition, as kube-apiserver has it: an apply
    // never creates an object it names by uid, nor changes one that has another uid
    const uid = applied.metadata.uid;
    if (uid !== undefined && uid !== '' && uid !== old?.metadata.uid)
      throw apiError.conflict(targetOf(type, scope.name), `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${old?.metadata.uid ?? ''}`);
    if (!old) {
      if (scope.subresource) throw apiError.notFound(targetOf(type, scope.name));
      let result;
      try {
        result = serverSideApply(undefined, applied, manager, force, apiVersion, undefined, info.status, shapes);
      } catch (e) {
        throw withTarget(e);
      }
      return this.create(scope, result.object, result.managedFields);
    }
    const rv = applied.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion) throw apiError.conflict(targetOf(type, scope.name));
    let result;
    try {
      result = serverSideApply(clone(present(old, type, version)), applied, manager, force, apiVersion, scope.subresource, info.status, shapes);
    } catch (e) {
      throw withTarget(e);
    }
    result.object.metadata.managedFields = result.managedFields;
    return this.#update(scope, old, result.object, undefined, result.managedFields);
  }

  /**
   * The shared update path of PUT, PATCH and apply. `sentManaged` is the managedFields the
   * client saw (a patch that leaves them alone does not replace them); `applied` is the
   * ownership an apply computed.
   */
  #update(scope: RequestScope, old: KubeObject, candidate: KubeObject, sentManaged?: ManagedFieldsEntry[], applied?: ManagedFieldsEntry[]): KubeObject {
    const { type, version } = scope;
    const dryRun = dryRunOf(scope.query);
    const info = versionInfo(type, version)!;
    const gr = grOf(type);
    let obj = clone(candidate);

    const incomingManaged = obj.metadata.managedFields;
    const explicitManaged =
      applied === undefined && incomingManaged !== undefined && !deepEqual(incomingManaged, sentManaged ?? old.metadata.managedFields)
        ? validManagedFields(incomingManaged)
        : undefined;

    if (scope.subresource === 'status') {
      const status = obj.status;
      obj = clone(old);
      if (status === undefined) delete obj.status;
      else obj.status = status;
    } else if (info.status) {
      if (old.status === undefined) delete obj.status;
      else obj.status = clone(old.status);
    }

    const meta = obj.metadata;
    const keep = ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'name', 'namespace'] as const;
    for (const k of keep) {
      if (old.metadata[k] === undefined) delete meta[k];
      else (meta as Record<string, unknown>)[k] = old.metadata[k];
    }
    delete meta.selfLink;
    if (old.metadata.deletionTimestamp) {
      const added = (meta.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
      if (added.length)
        throw apiError.invalid(type.kind, type.group, old.metadata.name!, [fieldError.forbidden('metadata.finalizers', 'no new finalizers can be added if the object is being deleted')]);
    }
    this.#admit(scope, obj, old);
    if (gr === CRD_GR) obj.status = crdStatus(obj, old);

    if (type.tracksGeneration && !deepEqual(specPart(old, info.status), specPart(obj, info.status))) meta.generation = (old.metadata.generation ?? 0) + 1;

    obj.apiVersion = apiVersionOf(type.group, storageVersion(type));
    const managed =
      applied ??
      explicitManaged ??
      recordUpdate(old.metadata.managedFields ?? [], old, obj, managerOf(scope), apiVersionOf(type.group, version), scope.subresource, info.status, shapesOf(info.schema, type.mergeKeys));
    if (managed.length) meta.managedFields = managed;
    else delete meta.managedFields;
    meta.resourceVersion = old.metadata.resourceVersion!;

    if (sameObject(old, obj)) return present(old, type, version);
    if (dryRun) return present(obj, type, version);

    if (meta.deletionTimestamp && (meta.finalizers ?? []).length === 0 && !this.#holdsSystemFinalizer(type, obj)) {
      const gone = this.store.remove(gr, obj);
      this.#afterRemoval(type, obj, 'Background');
      return present(gone, type, version);
    }
    return present(this.store.update(gr, obj, old), type, version);
  }

  delete(scope: RequestScope, body: unknown): KubeObject {
    const { type } = scope;
    const old = this.store.get(grOf(type), scope.namespace, scope.name!);
    if (!old) throw apiError.notFound(targetOf(type, scope.name));
    const options = deleteOptionsOf(scope.query, body);
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid)
      throw apiError.conflict(targetOf(type, scope.name), `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion)
      throw apiError.conflict(
        targetOf(type, scope.name),
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      );
    if (grOf(type) === NS_GR && UNDELETABLE_NAMESPACES.has(scope.name!))
      throw apiError.forbidden(`namespaces "${scope.name}" is forbidden: this namespace may not be deleted`, targetOf(type, scope.name));
    if (options.dryRun) return present(old, type, scope.version);
    return present(this.deleteObject(type, old, options.propagation), type, scope.version);
  }

  deleteCollection(scope: RequestScope, body: unknown): { items: KubeObject[]; metadata: Record<string, unknown> } {
    const { match } = this.selectors(scope);
    const options = deleteOptionsOf(scope.query, body);
    const items: KubeObject[] = [];
    for (const o of this.store.list(grOf(scope.type), scope.namespace).filter(match)) {
      if (grOf(scope.type) === NS_GR && UNDELETABLE_NAMESPACES.has(o.metadata.name!)) continue;
      items.push(present(options.dryRun ? o : this.deleteObject(scope.type, o, options.propagation), scope.type, scope.version));
    }
    return { items, metadata: { resourceVersion: String(this.store.resourceVersion) } };
  }

  /** Deletes at once, or marks for deletion while finalizers remain. Returns the latest state. */
  deleteObject(type: ResourceType, old: KubeObject, propagation: Propagation): KubeObject {
    const gr = grOf(type);
    const current = this.store.get(gr, old.metadata.namespace, old.metadata.name!) ?? old;
    if ((current.metadata.finalizers ?? []).length > 0 || this.#holdsSystemFinalizer(type, current)) {
      if (current.metadata.deletionTimestamp) return current;
      const next = clone(current);
      next.metadata.deletionTimestamp = nowTimestamp();
      next.metadata.deletionGracePeriodSeconds = 0;
      if (type.tracksGeneration) next.metadata.generation = (next.metadata.generation ?? 0) + 1;
      if (gr === NS_GR) next.status = { ...(isObject(next.status) ? next.status : {}), phase: 'Terminating' };
      const marked = this.store.update(gr, next, current);
      if (gr === NS_GR) this.#emptyNamespace(marked.metadata.name!);
      if (gr === CRD_GR) this.#emptyCrd(marked);
      return this.#finalizeSystem(type, marked);
    }
    const gone = this.store.remove(gr, current);
    this.#afterRemoval(type, current, propagation);
    return gone;
  }

  // ---------------------------------------------------------------- internals

  /** Body checks shared by every write: an object of this kind and version, in this namespace. */
  #incoming(scope: RequestScope, body: unknown): KubeObject {
    const { type, version } = scope;
    if (!isObject(body)) throw apiError.badRequest('the request body must be a JSON or YAML object');
    const obj = clone(body) as KubeObject;
    const expected = apiVersionOf(type.group, version);
    const expectedKind = type.kind;
    // built-in kinds decode into their type, which fills in a missing kind; custom resources must carry it
    if ((obj.kind === undefined || obj.kind === '') && !type.crd) obj.kind = expectedKind;
    if (obj.kind === undefined || obj.kind === '') throw apiError.badRequest(`Object 'Kind' is missing in '${shortJson(body)}'`);
    if (obj.kind !== expectedKind) throw apiError.badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${expectedKind})`);
    if (obj.apiVersion === undefined || obj.apiVersion === '') obj.apiVersion = expected;
    if (obj.apiVersion !== expected)
      throw apiError.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expected})`);
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    if (!isObject(obj.metadata)) throw apiError.badRequest('metadata must be an object');
    const meta = obj.metadata;
    if (type.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== scope.namespace)
        throw apiError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      if (scope.namespace === undefined) throw apiError.pathNotFound();
      meta.namespace = scope.namespace;
    } else {
      delete meta.namespace;
    }
    return obj;
  }

  #checkNamespaceOpen(scope: RequestScope, name: string): void {
    const ns = this.store.get(NS_GR, undefined, scope.namespace!);
    if (!ns) throw apiError.notFound({ group: '', resource: 'namespaces', name: scope.namespace! });
    if (ns.metadata.deletionTimestamp)
      throw apiError.forbidden(
        `${scope.type.resource}${scope.type.group ? `.${scope.type.group}` : ''} "${name}" is forbidden: unable to create new content in namespace ${scope.namespace} because it is being terminated`,
        targetOf(scope.type, name),
      );
  }

  /** Pruning, defaulting, normalisation and validation of an object about to be stored. */
  #admit(scope: RequestScope, obj: KubeObject, old: KubeObject | undefined): void {
    const { type, version } = scope;
    const info = versionInfo(type, version)!;
    const mode = fieldValidationOf(scope.query);
    const unknown: string[] = [];
    for (const k of Object.keys(obj.metadata)) {
      if (!OBJECT_META_KEYS.has(k)) {
        delete obj.metadata[k];
        unknown.push(`metadata.${k}`);
      }
    }
    unknown.push(...prune(obj, info.schema));
    if (unknown.length && mode === 'Strict') {
      throw apiError.badRequest(`${type.kind} in version "${version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`);
    }
    if (unknown.length && mode === 'Warn') for (const u of unknown) scope.warnings.push(`unknown field "${u}"`);
    applyDefaults(obj, info.schema);
    type.normalize?.(obj);

    const errors: FieldError[] = [...this.#metaErrors(type, obj)];
    errors.push(...validate(obj, info.schema, ''));
    errors.push(...(type.validate?.(obj, old) ?? []));
    // CEL rules run over the whole object unless a schema error blocks them, as in kube-apiserver
    const oldForRules = old ? { value: present(old, type, version) } : undefined;
    if (type.crd) errors.push(...rulesAfter(errors, () => validateRules(obj, info.schema, '', evaluateRules, oldForRules)));
    if (grOf(type) === CRD_GR && errors.length === 0) errors.push(...validateCrd(obj, this.registry.all()));
    if (errors.length) throw apiError.invalid(type.kind, type.group, obj.metadata.name ?? '', errors);
  }

  #metaErrors(type: ResourceType, obj: KubeObject): FieldError[] {
    const errs: FieldError[] = [];
    const meta = obj.metadata;
    if (typeof meta.name !== 'string' || meta.name === '') errs.push(fieldError.required('metadata.name', 'name or generateName is required'));
    else {
      const bad = nameErrors(type.nameRule, meta.name);
      if (bad.length) errs.push(fieldError.invalid('metadata.name', meta.name, bad.join('; ')));
    }
    errs.push(...validateLabels(meta.labels, 'metadata.labels'));
    errs.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
    errs.push(...validateFinalizers(meta.finalizers, 'metadata.finalizers'));
    if (meta.ownerReferences !== undefined) {
      if (!Array.isArray(meta.ownerReferences)) errs.push(fieldError.typeInvalid('metadata.ownerReferences', meta.ownerReferences, 'must be a list'));
      else {
        let controllers = 0;
        meta.ownerReferences.forEach((r, i) => {
          const at = index('metadata.ownerReferences', i);
          if (!isObject(r)) return errs.push(fieldError.typeInvalid(at, r, 'must be an object'));
          for (const f of ['apiVersion', 'kind', 'name', 'uid'] as const) if (!r[f]) errs.push(fieldError.required(`${at}.${f}`));
          if (r.controller === true) controllers++;
          return undefined;
        });
        if (controllers > 1) errs.push(fieldError.invalid('metadata.ownerReferences', controllers, 'Only one reference can have Controller set to true'));
      }
    }
    return errs;
  }

  /** Namespaces wait for their content (spec.finalizers "kubernetes"), CRDs for their custom resources. */
  #holdsSystemFinalizer(type: ResourceType, obj: KubeObject): boolean {
    if (grOf(type) === NS_GR) return ((obj.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).length > 0;
    return false;
  }

  #emptyNamespace(namespace: string): void {
    for (const t of this.registry.all()) {
      if (!t.namespaced || t.review) continue;
      for (const o of this.store.list(grOf(t), namespace)) this.deleteObject(t, o, 'Background');
    }
  }

  #emptyCrd(crd: KubeObject): void {
    const t = this.registry.all().find((x) => x.crd === crd.metadata.name);
    if (!t) return;
    for (const o of this.store.list(grOf(t))) this.deleteObject(t, o, 'Background');
  }

  /** Lifts the system finalizer of a terminating namespace or CRD once it is empty; removes it when nothing else holds it. */
  #finalizeSystem(type: ResourceType, seen: KubeObject): KubeObject {
    const gr = grOf(type);
    const obj = this.store.get(gr, undefined, seen.metadata.name!);
    if (!obj) return seen;
    if (!obj.metadata.deletionTimestamp) return obj;
    let next: KubeObject | undefined;
    if (gr === NS_GR) {
      const name = obj.metadata.name!;
      if (this.registry.all().some((t) => t.namespaced && !t.review && this.store.count(grOf(t), name) > 0)) return obj;
      if (this.#holdsSystemFinalizer(type, obj)) {
        next = clone(obj);
        next.spec = { ...(isObject(next.spec) ? next.spec : {}), finalizers: [] };
      }
    } else if (gr === CRD_GR) {
      const t = this.registry.all().find((x) => x.crd === obj.metadata.name);
      if (t && this.store.count(grOf(t)) > 0) return obj;
      if ((obj.metadata.finalizers ?? []).includes(CRD_CLEANUP)) {
        next = clone(obj);
        next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP);
      }
    } else {
      return obj;
    }
    const current = next ?? obj;
    if ((current.metadata.finalizers ?? []).length > 0) return next ? this.store.update(gr, next, obj) : obj;
    return this.store.remove(gr, current);
  }

  /** Garbage collection of dependents, then cleanup of a terminating namespace or CRD this object held open. */
  #afterRemoval(type: ResourceType, obj: KubeObject, propagation: Propagation): void {
    const uid = obj.metadata.uid;
    if (uid) {
      for (const t of this.registry.all()) {
        if (t.review) continue;
        for (const dep of this.store.list(grOf(t))) {
          const refs = dep.metadata.ownerReferences;
          if (!refs?.some((r) => r.uid === uid)) continue;
          if (propagation === 'Orphan' || refs.some((r) => r.uid !== uid)) {
            const next = clone(dep);
            next.metadata.ownerReferences = refs.filter((r) => r.uid !== uid);
            if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
            this.store.update(grOf(t), next, dep);
          } else {
            this.deleteObject(t, dep, 'Background');
          }
        }
      }
    }
    if (type.namespaced && obj.metadata.namespace) {
      const ns = this.store.get(NS_GR, undefined, obj.metadata.namespace);
      const nsType = this.registry.get('', 'namespaces');
      if (ns?.metadata.deletionTimestamp && nsType) this.#finalizeSystem(nsType, ns);
    }
    if (type.crd) {
      const crd = this.store.get(CRD_GR, undefined, type.crd);
      const crdType = this.registry.get('apiextensions.k8s.io', 'customresourcedefinitions');
      if (crd?.metadata.deletionTimestamp && crdType) this.#finalizeSystem(crdType, crd);
    }
  }
}

function generateName(prefix: string, taken: (name: string) => boolean): string {
  const base = prefix.length > 58 ? prefix.slice(0, 58) : prefix;
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  for (let attempt = 0; attempt < 100; attempt++) {
    const bytes = randomBytes(5);
    let suffix = '';
    for (const b of bytes) suffix += alphabet[b % alphabet.length];
    if (!taken(base + suffix)) return base + suffix;
  }
  throw apiError.alreadyExists({ group: '', resource: '', name: prefix });
}

function encodeContinue(rv: number, key: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: key }), 'utf8').toString('base64url');
}

function decodeContinue(token: string): { rv: number; key: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: string; rv?: number; start?: string };
    if (parsed.v === 'meta.k8s.io/v1' && typeof parsed.rv === 'number' && typeof parsed.start === 'string') return { rv: parsed.rv, key: parsed.start };
  } catch {
    // fall through
  }
  throw apiError.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

function deleteOptionsOf(query: URLSearchParams, body: unknown): DeleteOptions {
  const b = isObject(body) ? body : {};
  const policy = (query.get('propagationPolicy') ?? (typeof b.propagationPolicy === 'string' ? b.propagationPolicy : undefined)) || undefined;
  const orphan = b.orphanDependents === true || query.get('orphanDependents') === 'true';
  if (policy !== undefined && policy !== 'Orphan' && policy !== 'Background' && policy !== 'Foreground')
    throw apiError.badRequest(`propagationPolicy: Unsupported value: ${JSON.stringify(policy)}: supported values: "Foreground", "Background", "Orphan"`);
  const dryRun = dryRunOf(query) || (Array.isArray(b.dryRun) && b.dryRun.includes('All'));
  const pre = isObject(b.preconditions) ? (b.preconditions as { uid?: string; resourceVersion?: string }) : undefined;
  return { propagation: (policy as Propagation | undefined) ?? (orphan ? 'Orphan' : 'Background'), dryRun, ...(pre ? { preconditions: pre } : {}) };
}
