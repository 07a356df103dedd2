/**
 * Kubernetes' protobuf request bodies (`application/vnd.kubernetes.protobuf`), which kubectl's
 * typed clients send (auth can-i, auth whoami, create token, create configmap/secret/role…).
 * The wire format is read with @bufbuild/protobuf; the field numbers below are those of
 * k8s.io/api's generated.proto for the kinds this server serves. The result is the same JSON
 * object the client would have sent as JSON (zero values left out, as Go's omitempty does).
 * Replies always go out as JSON, which these clients accept too.
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { apiError } from './status.ts';

type Scalar = 'string' | 'bool' | 'int32' | 'int64' | 'bytes' | 'time' | 'microtime';
type Field =
  | { name: string; type: Scalar; repeated?: boolean }
  | { name: string; type: 'message'; message: Message; repeated?: boolean }
  | { name: string; type: 'map'; value: 'string' | 'bytes' | 'stringList' };
type Message = Record<number, Field>;

const s = (name: string): Field => ({ name, type: 'string' });
const ss = (name: string): Field => ({ name, type: 'string', repeated: true });
const m = (name: string, message: Message, repeated = false): Field => ({ name, type: 'message', message, repeated });

const ownerReference: Message = { 1: s('kind'), 3: s('name'), 4: s('uid'), 5: s('apiVersion'), 6: { name: 'controller', type: 'bool' }, 7: { name: 'blockOwnerDeletion', type: 'bool' } };
const objectMeta: Message = {
  1: s('name'),
  2: s('generateName'),
  3: s('namespace'),
  5: s('uid'),
  6: s('resourceVersion'),
  7: { name: 'generation', type: 'int64' },
  11: { name: 'labels', type: 'map', value: 'string' },
  12: { name: 'annotations', type: 'map', value: 'string' },
  13: m('ownerReferences', ownerReference, true),
  14: ss('finalizers'),
};
const meta = m('metadata', objectMeta);
const resourceAttributes: Message = { 1: s('namespace'), 2: s('verb'), 3: s('group'), 4: s('version'), 5: s('resource'), 6: s('subresource'), 7: s('name') };
const nonResourceAttributes: Message = { 1: s('path'), 2: s('verb') };
const sarSpec: Message = {
  1: m('resourceAttributes', resourceAttributes),
  2: m('nonResourceAttributes', nonResourceAttributes),
  3: s('user'),
  4: ss('groups'),
  5: { name: 'extra', type: 'map', value: 'stringList' },
  6: s('uid'),
};
const objectReference: Message = { 1: s('kind'), 2: s('namespace'), 3: s('name'), 4: s('uid'), 5: s('apiVersion'), 6: s('resourceVersion'), 7: s('fieldPath') };
const policyRule: Message = { 1: ss('verbs'), 2: ss('apiGroups'), 3: ss('resources'), 4: ss('resourceNames'), 5: ss('nonResourceURLs') };
const subject: Message = { 1: s('kind'), 2: s('apiGroup'), 3: s('name'), 4: s('namespace') };
const roleRef: Message = { 1: s('apiGroup'), 2: s('kind'), 3: s('name') };
const labelSelector: Message = {
  1: { name: 'matchLabels', type: 'map', value: 'string' },
  2: m('matchExpressions', { 1: s('key'), 2: s('operator'), 3: ss('values') }, true),
};
const binding: Message = { 1: meta, 2: m('subjects', subject, true), 3: m('roleRef', roleRef) };

const KINDS: Record<string, Message> = {
  'authorization.k8s.io/v1/SelfSubjectAccessReview': { 1: meta, 2: m('spec', { 1: m('resourceAttributes', resourceAttributes), 2: m('nonResourceAttributes', nonResourceAttributes) }) },
  'authorization.k8s.io/v1/SubjectAccessReview': { 1: meta, 2: m('spec', sarSpec) },
  'authorization.k8s.io/v1/LocalSubjectAccessReview': { 1: meta, 2: m('spec', sarSpec) },
  'authorization.k8s.io/v1/SelfSubjectRulesReview': { 1: meta, 2: m('spec', { 1: s('namespace') }) },
  'authentication.k8s.io/v1/TokenReview': { 1: meta, 2: m('spec', { 1: s('token'), 2: ss('audiences') }) },
  'authentication.k8s.io/v1/SelfSubjectReview': { 1: meta },
  'authentication.k8s.io/v1/TokenRequest': {
    1: meta,
    2: m('spec', { 1: ss('audiences'), 3: m('boundObjectRef', { 1: s('kind'), 2: s('apiVersion'), 3: s('name'), 4: s('uid') }), 4: { name: 'expirationSeconds', type: 'int64' } }),
  },
  'v1/ConfigMap': { 1: meta, 2: { name: 'data', type: 'map', value: 'string' }, 3: { name: 'binaryData', type: 'map', value: 'bytes' }, 4: { name: 'immutable', type: 'bool' } },
  'v1/Secret': {
    1: meta,
    2: { name: 'data', type: 'map', value: 'bytes' },
    3: s('type'),
    4: { name: 'stringData', type: 'map', value: 'string' },
    5: { name: 'immutable', type: 'bool' },
  },
  'v1/Namespace': { 1: meta, 2: m('spec', { 1: ss('finalizers') }) },
  'v1/ServiceAccount': { 1: meta, 2: m('secrets', objectReference, true), 3: m('imagePullSecrets', { 1: s('name') }, true), 4: { name: 'automountServiceAccountToken', type: 'bool' } },
  'rbac.authorization.k8s.io/v1/Role': { 1: meta, 2: m('rules', policyRule, true) },
  'rbac.authorization.k8s.io/v1/ClusterRole': { 1: meta, 2: m('rules', policyRule, true), 3: m('aggregationRule', { 1: m('clusterRoleSelectors', labelSelector, true) }) },
  'rbac.authorization.k8s.io/v1/RoleBinding': binding,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': binding,
  'coordination.k8s.io/v1/Lease': {
    1: meta,
    2: m('spec', {
      1: s('holderIdentity'),
      2: { name: 'leaseDurationSeconds', type: 'int32' },
      3: { name: 'acquireTime', type: 'microtime' },
      4: { name: 'renewTime', type: 'microtime' },
      5: { name: 'leaseTransitions', type: 'int32' },
      6: s('strategy'),
      7: s('preferredHolder'),
    }),
  },
  'meta.k8s.io/v1/DeleteOptions': {
    1: { name: 'gracePeriodSeconds', type: 'int64' },
    2: m('preconditions', { 1: s('uid'), 2: s('resourceVersion') }),
    3: { name: 'orphanDependents', type: 'bool' },
    4: s('propagationPolicy'),
    5: ss('dryRun'),
  },
};
KINDS['v1/DeleteOptions'] = KINDS['meta.k8s.io/v1/DeleteOptions']!;

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"
const MAX_DEPTH = 32;

function timeOf(r: BinaryReader, micro: boolean): string | undefined {
  let seconds = 0n;
  let nanos = 0;
  const end = r.uint32() + r.pos;
  while (r.pos < end) {
    const [no, wt] = r.tag();
    if (no === 1) seconds = BigInt(r.int64());
    else if (no === 2) nanos = r.int32();
    else r.skip(wt, no);
  }
  if (seconds === 0n && nanos === 0) return undefined;
  const iso = new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  return micro ? `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${iso}Z`;
}

function readMessage(r: BinaryReader, end: number, schema: Message, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw new Error('message nested too deeply');
  const out: Record<string, unknown> = {};
  while (r.pos < end) {
    const [no, wt] = r.tag();
    const field = schema[no];
    if (!field) {
      r.skip(wt, no);
      continue;
    }
    let value: unknown;
    switch (field.type) {
      case 'string':
        value = r.string();
        break;
      case 'bool':
        value = r.bool();
        break;
      case 'int32':
        value = r.int32();
        break;
      case 'int64':
        value = Number(r.int64());
        break;
      case 'bytes':
        value = Buffer.from(r.bytes()).toString('base64');
        break;
      case 'time':
      case 'microtime':
        value = timeOf(r, field.type === 'microtime');
        break;
      case 'message': {
        const len = r.uint32();
        value = readMessage(r, r.pos + len, field.message, depth + 1);
        break;
      }
      case 'map': {
        const len = r.uint32();
        const stop = r.pos + len;
        let key = '';
        let v: unknown = field.value === 'stringList' ? [] : '';
        while (r.pos < stop) {
          const [eno, ewt] = r.tag();
          if (eno === 1) key = r.string();
          else if (eno === 2) {
            if (field.value === 'string') v = r.string();
            else if (field.value === 'bytes') v = Buffer.from(r.bytes()).toString('base64');
            else v = readMessage(r, r.uint32() + r.pos, { 1: ss('items') }, depth + 1).items ?? [];
          } else r.skip(ewt, eno);
        }
        const map = (out[field.name] as Record<string, unknown> | undefined) ?? {};
        map[key] = v;
        out[field.name] = map;
        continue;
      }
    }
    if ('repeated' in field && field.repeated) {
      const list = (out[field.name] as unknown[] | undefined) ?? [];
      list.push(value);
      out[field.name] = list;
    } else if (!isZero(value)) {
      out[field.name] = value;
    }
  }
  return out;
}

function isZero(v: unknown): boolean {
  return v === undefined || v === '' || v === 0 || v === false || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
}

/** Decodes a `k8s\0`-prefixed runtime.Unknown envelope into the JSON object it carries. */
export function decodeProtobuf(buf: Uint8Array): Record<string, unknown> {
  if (buf.length < 4 || MAGIC.some((b, i) => buf[i] !== b)) throw apiError.badRequest('the protobuf body does not start with the Kubernetes envelope prefix');
  try {
    const r = new BinaryReader(buf.subarray(4));
    let apiVersion = '';
    let kind = '';
    let raw: Uint8Array | undefined;
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      if (no === 1 && wt === WireType.LengthDelimited) {
        const tm = readMessage(r, r.uint32() + r.pos, { 1: s('apiVersion'), 2: s('kind') }, 0);
        apiVersion = (tm.apiVersion as string | undefined) ?? '';
        kind = (tm.kind as string | undefined) ?? '';
      } else if (no === 2 && wt === WireType.LengthDelimited) raw = r.bytes();
      else r.skip(wt, no);
    }
    const schema = KINDS[`${apiVersion}/${kind}`];
    if (!schema)
      throw apiError.unsupportedMediaType(`protobuf bodies of ${apiVersion || '(no apiVersion)'} ${kind || '(no kind)'} are not supported by this server; send application/json`);
    const body = raw ? new BinaryReader(raw) : new BinaryReader(new Uint8Array());
    return { apiVersion, kind, ...readMessage(body, body.len, schema, 0) };
  } catch (e) {
    if (e instanceof Error && e.name === 'ApiError') throw e;
    throw apiError.badRequest(`the protobuf body cannot be decoded: ${e instanceof Error ? e.message : String(e)}`);
  }
}
