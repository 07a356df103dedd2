/**
 * The built-in kinds this server serves, with structural schemas (so that unknown fields are
 * pruned or, under `fieldValidation=Strict`, rejected, and types are checked), the printer
 * columns kubectl shows for them, their strategic-merge keys and kind-specific validation.
 */
import { fieldError, index, type FieldError } from './field-errors.ts';
import { OBJECT_META_MERGE_KEYS } from './patch.ts';
import { isObject, type KubeObject } from './objects.ts';
import type { Column, ResourceType } from './resources.ts';
import type { Schema } from './schema.ts';

const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const int = (extra: Schema = {}): Schema => ({ type: 'integer', ...extra });
const bool = (): Schema => ({ type: 'boolean' });
const time = (): Schema => ({ type: 'string', format: 'date-time', nullable: true });
const list = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
const obj = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({ type: 'object', properties, ...extra });
const mapOf = (values: Schema): Schema => ({ type: 'object', additionalProperties: values });
const anything = (): Schema => ({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });

const STANDARD_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const REVIEW_VERBS = ['create'];

const age: Column = { name: 'Age', type: 'date', priority: 0, description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', jsonPath: '.metadata.creationTimestamp' };
const count = (v: unknown) => (isObject(v) ? Object.keys(v).length : Array.isArray(v) ? v.length : 0);

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
function validateDataKeys(o: KubeObject, fields: string[]): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  const seen = new Set<string>();
  for (const f of fields) {
    const data = o[f];
    if (!isObject(data)) continue;
    for (const [k, v] of Object.entries(data)) {
      if (k.length > 253 || !CONFIG_KEY.test(k))
        errs.push(fieldError.invalid(index(f, k), k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
      if (seen.has(k) && f !== 'stringData') errs.push(fieldError.invalid(index(f, k), k, 'duplicate of key present in another data field'));
      seen.add(k);
      if (typeof v === 'string') size += v.length;
    }
  }
  if (size > 1024 * 1024) errs.push(fieldError.tooLong(fields[0]!, 1024 * 1024));
  return errs;
}

function immutableData(o: KubeObject, old: KubeObject | undefined, fields: string[]): FieldError[] {
  if (!old || old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (o.immutable !== true) errs.push(fieldError.forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) if (JSON.stringify(o[f] ?? {}) !== JSON.stringify(old[f] ?? {})) errs.push(fieldError.forbidden(f, 'field is immutable when `immutable` is set'));
  return errs;
}

const objectReference = obj({ kind: str(), namespace: str(), name: str(), uid: str(), apiVersion: str(), resourceVersion: str(), fieldPath: str() });

const namespaces: ResourceType = {
  group: '',
  resource: 'namespaces',
  singular: 'namespace',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  namespaced: false,
  shortNames: ['ns'],
  categories: [],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  versions: [
    {
      name: 'v1',
      served: true,
      storage: true,
      status: true,
      schema: obj({ spec: obj({ finalizers: list(str()) }), status: obj({ phase: str(), conditions: list(anything()) }) }),
      columns: [{ name: 'Status', type: 'string', priority: 0, description: 'The status of the namespace', jsonPath: '.status.phase' }, age],
    },
  ],
  tracksGeneration: false,
  mergeKeys: { ...OBJECT_META_MERGE_KEYS, 'status.conditions': 'type' },
  fields: { 'status.phase': (o) => (o.status as { phase?: string } | undefined)?.phase },
  nameRule: 'label',
};

const configmaps: ResourceType = {
  group: '',
  resource: 'configmaps',
  singular: 'configmap',
  kind: 'ConfigMap',
  listKind: 'ConfigMapList',
  namespaced: true,
  shortNames: ['cm'],
  categories: [],
  verbs: STANDARD_VERBS,
  versions: [
    {
      name: 'v1',
      served: true,
      storage: true,
      status: false,
      schema: obj({ data: mapOf(str()), binaryData: mapOf(str({ format: 'byte' })), immutable: bool() }),
      columns: [{ name: 'Data', type: 'integer', priority: 0, description: 'Number of keys', value: (o) => count(o.data) + count(o.binaryData) }, age],
    },
  ],
  tracksGeneration: false,
  mergeKeys: OBJECT_META_MERGE_KEYS,
  nameRule: 'subdomain',
  validate: (o, old) => [...validateDataKeys(o, ['data', 'binaryData']), ...immutableData(o, old, ['data', 'binaryData'])],
};

const secrets: ResourceType = {
  group: '',
  resource: 'secrets',
  singular: 'secret',
  kind: 'Secret',
  listKind: 'SecretList',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: STANDARD_VERBS,
  versions: [
    {
      name: 'v1',
      served: true,
      storage: true,
      status: false,
      schema: obj({ data: mapOf(str({ format: 'byte' })), stringData: mapOf(str()), type: str(), immutable: bool() }),
      columns: [
        { name: 'Type', type: 'string', priority: 0, description: 'The type of the secret', jsonPath: '.type' },
        { name: 'Data', type: 'integer', priority: 0, description: 'Number of keys', value: (o) => count(o.data) },
        age,
      ],
    },
  ],
  tracksGeneration: false,
  mergeKeys: OBJECT_META_MERGE_KEYS,
  fields: { type: (o) => (typeof o.type === 'string' ? o.type : undefined) },
  nameRule: 'subdomain',
  validate: (o, old) => {
    const errs = [...validateDataKeys(o, ['data']), ...immutableData(o, old, ['data'])];
    if (old && (old.type ?? 'Opaque') !== (o.type ?? 'Opaque')) errs.push(fieldError.invalid('type', o.type, 'field is immutable'));
    return errs;
  },
  // stringData is write-only: merged into data (base64) and never stored
  normalize: (o) => {
    if (o.type === undefined || o.type === '') o.type = 'Opaque';
    if (isObject(o.stringData)) {
      const data = isObject(o.data) ? (o.data as Record<string, string>) : {};
      for (const [k, v] of Object.entries(o.stringData)) if (typeof v === 'string') data[k] = Buffer.from(v, 'utf8').toString('base64');
      o.data = data;
    }
    delete o.stringData;
  },
};

const eventSchema = obj({
  involvedObject: objectReference,
  reason: str(),
  message: str(),
  source: obj({ component: str(), host: str() }),
  firstTimestamp: time(),
  lastTimestamp: time(),
  count: int(),
  type: str(),
  eventTime: { type: 'string', nullable: true },
  series: obj({ count: int(), lastObservedTime: str() }),
  action: str(),
  related: objectReference,
  reportingComponent: str(),
  reportingInstance: str(),
});

const events: ResourceType = {
  group: '',
  resource: 'events',
  singular: 'event',
  kind: 'Event',
  listKind: 'EventList',
  namespaced: true,
  shortNames: ['ev'],
  categories: [],
  verbs: STANDARD_VERBS,
  versions: [
    {
      name: 'v1',
      served: true,
      storage: true,
      status: false,
      schema: eventSchema,
      columns: [
        { name: 'Last Seen', type: 'string', priority: 0, value: (o) => o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp, format: 'age' },
        { name: 'Type', type: 'string', priority: 0, jsonPath: '.type' },
        { name: 'Reason', type: 'string', priority: 0, jsonPath: '.reason' },
        {
          name: 'Object',
          type: 'string',
          priority: 0,
          value: (o) => {
            const io = o.involvedObject as { kind?: string; name?: string } | undefined;
            return `${(io?.kind ?? '').toLowerCase()}/${io?.name ?? ''}`;
          },
        },
        { name: 'Message', type: 'string', priority: 0, jsonPath: '.message' },
      ],
    },
  ],
  tracksGeneration: false,
  mergeKeys: OBJECT_META_MERGE_KEYS,
  fields: Object.fromEntries([
    ...['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'].map(
      (f) => [`involvedObject.${f}`, (o: KubeObject) => (o.involvedObject as Record<string, string> | undefined)?.[f]] as const,
    ),
    ['reason', (o: KubeObject) => o.reason as string | undefined],
    ['type', (o: KubeObject) => o.type as string | undefined],
    ['reportingComponent', (o: KubeObject) => o.reportingComponent as string | undefined],
    ['source', (o: KubeObject) => (o.source as { component?: string } | undefined)?.component],
  ]),
  nameRule: 'subdomain',
};

const serviceaccounts: ResourceType = {
  group: '',
  resource: 'serviceaccounts',
  singular: 'serviceaccount',
  kind: 'ServiceAccount',
  listKind: 'ServiceAccountList',
  namespaced: true,
  shortNames: ['sa'],
  categories: [],
  verbs: STANDARD_VERBS,
  versions: [
    {
      name: 'v1',
      served: true,
      storage: true,
      status: false,
      schema: obj({ secrets: list(objectReference), imagePullSecrets: list(obj({ name: str() })), automountServiceAccountToken: bool() }),
      columns: [{ name: 'Secrets', type: 'integer', priority: 0, value: (o) => count(o.secrets) }, age],
    },
  ],
  extraSubresources: [{ name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] }],
  tracksGeneration: false,
  mergeKeys: { ...OBJECT_META_MERGE_KEYS, secrets: 'name', imagePullSecrets: 'name' },
  nameRule: 'subdomain',
};

const leases: ResourceType = {
  group: 'coordination.k8s.io',
  resource: 'leases',
  singular: 'lease',
  kind: 'Lease',
  listKind: 'LeaseList',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: STANDARD_VERBS,
  versions: [
    {
      name: 'v1',
      served: true,
      storage: true,
      status: false,
      schema: obj({
        spec: obj({
          holderIdentity: { type: 'string', nullable: true },
          leaseDurationSeconds: { type: 'integer', nullable: true },
          acquireTime: { type: 'string', nullable: true },
          renewTime: { type: 'string', nullable: true },
          leaseTransitions: { type: 'integer', nullable: true },
          strategy: { type: 'string', nullable: true },
          preferredHolder: { type: 'string', nullable: true },
        }),
      }),
      columns: [{ name: 'Holder', type: 'string', priority: 0, jsonPath: '.spec.holderIdentity' }, age],
    },
  ],
  tracksGeneration: false,
  mergeKeys: OBJECT_META_MERGE_KEYS,
  nameRule: 'subdomain',
};

const policyRule = obj(
  { verbs: list(str()), apiGroups: list(str()), resources: list(str()), resourceNames: list(str()), nonResourceURLs: list(str()) },
  { required: ['verbs'] },
);
const subject = obj({ kind: str(), apiGroup: str(), name: str(), namespace: str() }, { required: ['kind', 'name'] });
const roleRef = obj({ apiGroup: str(), kind: str(), name: str() }, { required: ['apiGroup', 'kind', 'name'] });

function validateRules(o: KubeObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const rules = Array.isArray(o.rules) ? o.rules : [];
  rules.forEach((r, i) => {
    if (!isObject(r)) return;
    const at = index('rules', i);
    const verbs = r.verbs as unknown[] | undefined;
    if (!verbs?.length) errs.push(fieldError.required(`${at}.verbs`, 'verbs must contain at least one value'));
    const nonResource = (r.nonResourceURLs as unknown[] | undefined)?.length ?? 0;
    if (nonResource > 0) {
      if (namespaced) errs.push(fieldError.invalid(`${at}.nonResourceURLs`, r.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
      if ((r.apiGroups as unknown[] | undefined)?.length || (r.resources as unknown[] | undefined)?.length)
        errs.push(fieldError.invalid(`${at}.nonResourceURLs`, r.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    } else if (!(r.apiGroups as unknown[] | undefined)?.length) {
      errs.push(fieldError.required(`${at}.apiGroups`, 'resource rules must supply at least one api group'));
    } else if (!(r.resources as unknown[] | undefined)?.length) {
      errs.push(fieldError.required(`${at}.resources`, 'resource rules must supply at least one resource'));
    }
  });
  return errs;
}

function validateBinding(o: KubeObject, old: KubeObject | undefined, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = o.roleRef as { apiGroup?: string; kind?: string; name?: string } | undefined;
  if (ref) {
    if (ref.apiGroup !== 'rbac.authorization.k8s.io') errs.push(fieldError.notSupported('roleRef.apiGroup', ref.apiGroup, ['rbac.authorization.k8s.io']));
    const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
    if (!kinds.includes(ref.kind ?? '')) errs.push(fieldError.notSupported('roleRef.kind', ref.kind, kinds));
    if (!ref.name) errs.push(fieldError.required('roleRef.name'));
  }
  if (old && JSON.stringify(old.roleRef) !== JSON.stringify(o.roleRef)) errs.push(fieldError.invalid('roleRef', o.roleRef, 'cannot change roleRef'));
  const subjects = Array.isArray(o.subjects) ? o.subjects : [];
  subjects.forEach((s, i) => {
    if (!isObject(s)) return;
    const at = index('subjects', i);
    if (!['User', 'Group', 'ServiceAccount'].includes(s.kind as string)) errs.push(fieldError.notSupported(`${at}.kind`, s.kind, ['ServiceAccount', 'User', 'Group']));
    if (s.kind === 'ServiceAccount') {
      if (!namespaced && !s.namespace) errs.push(fieldError.required(`${at}.namespace`));
      if (s.apiGroup) errs.push(fieldError.notSupported(`${at}.apiGroup`, s.apiGroup, ['']));
    } else if ((s.kind === 'User' || s.kind === 'Group') && s.apiGroup !== 'rbac.authorization.k8s.io') {
      errs.push(fieldError.notSupported(`${at}.apiGroup`, s.apiGroup, ['rbac.authorization.k8s.io']));
    }
  });
  return errs;
}

const bindingColumns = (namespaced: boolean): Column[] => [
  { name: 'Role', type: 'string', priority: 0, value: (o) => `${(o.roleRef as { kind?: string })?.kind}/${(o.roleRef as { name?: string })?.name}` },
  age,
  ...(['User', 'Group', 'ServiceAccount'] as const).map(
    (kind): Column => ({
      name: kind === 'ServiceAccount' ? 'ServiceAccounts' : `${kind}s`,
      type: 'string',
      priority: 1,
      value: (o) =>
        ((o.subjects as { kind?: string; name?: string; namespace?: string }[] | undefined) ?? [])
          .filter((s) => s.kind === kind)
          .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? (namespaced ? o.metadata.namespace : '')}/${s.name}` : s.name))
          .join(', '),
    }),
  ),
];

const rbacType = (kind: string, resource: string, namespaced: boolean, schema: Schema, columns: Column[], validate: ResourceType['validate']): ResourceType => ({
  group: 'rbac.authorization.k8s.io',
  resource,
  singular: resource.slice(0, -1),
  kind,
  listKind: `${kind}List`,
  namespaced,
  shortNames: [],
  categories: [],
  verbs: STANDARD_VERBS,
  versions: [{ name: 'v1', served: true, storage: true, status: false, schema, columns }],
  tracksGeneration: false,
  mergeKeys: OBJECT_META_MERGE_KEYS,
  nameRule: 'path',
  ...(validate ? { validate } : {}),
});

const createdAt: Column = { name: 'Created At', type: 'string', priority: 0, jsonPath: '.metadata.creationTimestamp' };

const roles = rbacType('Role', 'roles', true, obj({ rules: list(policyRule) }), [createdAt], (o) => validateRules(o, true));
const clusterroles = rbacType(
  'ClusterRole',
  'clusterroles',
  false,
  obj({ rules: list(policyRule), aggregationRule: obj({ clusterRoleSelectors: list(anything()) }) }),
  [createdAt],
  (o) => validateRules(o, false),
);
const rolebindings = rbacType('RoleBinding', 'rolebindings', true, obj({ subjects: list(subject), roleRef }, { required: ['roleRef'] }), bindingColumns(true), (o, old) =>
  validateBinding(o, old, true),
);
const clusterrolebindings = rbacType(
  'ClusterRoleBinding',
  'clusterrolebindings',
  false,
  obj({ subjects: list(subject), roleRef }, { required: ['roleRef'] }),
  bindingColumns(false),
  (o, old) => validateBinding(o, old, false),
);

const printerColumn = obj(
  { name: str(), type: str({ enum: ['integer', 'number', 'string', 'boolean', 'date'] }), format: str(), description: str(), priority: int(), jsonPath: str() },
  { required: ['name', 'type', 'jsonPath'] },
);

const crdSchema = obj({
  spec: obj(
    {
      group: str(),
      names: obj(
        { plural: str(), singular: str(), shortNames: list(str()), kind: str(), listKind: str(), categories: list(str()) },
        { required: ['plural', 'kind'] },
      ),
      scope: str({ enum: ['Namespaced', 'Cluster'] }),
      versions: list(
        obj(
          {
            name: str(),
            served: bool(),
            storage: bool(),
            deprecated: bool(),
            deprecationWarning: str(),
            schema: obj({ openAPIV3Schema: anything() }),
            subresources: obj({ status: anything(), scale: anything() }),
            additionalPrinterColumns: list(printerColumn),
            selectableFields: list(obj({ jsonPath: str() })),
          },
          { required: ['name', 'served', 'storage'] },
        ),
      ),
      conversion: anything(),
      preserveUnknownFields: bool(),
    },
    { required: ['group', 'names', 'scope', 'versions'] },
  ),
  status: anything(),
}, { required: ['spec'] });

const customresourcedefinitions: ResourceType = {
  group: 'apiextensions.k8s.io',
  resource: 'customresourcedefinitions',
  singular: 'customresourcedefinition',
  kind: 'CustomResourceDefinition',
  listKind: 'CustomResourceDefinitionList',
  namespaced: false,
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  verbs: STANDARD_VERBS,
  versions: [{ name: 'v1', served: true, storage: true, status: true, schema: crdSchema, columns: [createdAt] }],
  tracksGeneration: true,
  mergeKeys: OBJECT_META_MERGE_KEYS,
  nameRule: 'subdomain',
};

const review = (group: string, resource: string, kind: string, namespaced = false): ResourceType => ({
  group,
  resource,
  singular: resource.slice(0, -1),
  kind,
  listKind: `${kind}List`,
  namespaced,
  shortNames: [],
  categories: [],
  verbs: REVIEW_VERBS,
  versions: [{ name: 'v1', served: true, storage: true, status: false }],
  tracksGeneration: false,
  review: true,
  nameRule: 'subdomain',
});

export function builtinTypes(): ResourceType[] {
  return [
    namespaces,
    configmaps,
    secrets,
    events,
    serviceaccounts,
    leases,
    roles,
    clusterroles,
    rolebindings,
    clusterrolebindings,
    customresourcedefinitions,
    review('authentication.k8s.io', 'tokenreviews', 'TokenReview'),
    review('authentication.k8s.io', 'selfsubjectreviews', 'SelfSubjectReview'),
    review('authorization.k8s.io', 'subjectaccessreviews', 'SubjectAccessReview'),
    review('authorization.k8s.io', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview'),
    review('authorization.k8s.io', 'localsubjectaccessreviews', 'LocalSubjectAccessReview', true),
    review('authorization.k8s.io', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview'),
  ];
}
