import type { z } from 'zod';
import { MCPRegistryExportJobSpec, MCPRegistryImportJobSpec } from '../kube/job-specs.ts';
import { OBJECT_NAME_PATTERN } from '../kube/mcpregistry-spec.ts';
import { API_VERSION, MCP_REGISTRY_EXPORT_JOB, MCP_REGISTRY_IMPORT_JOB } from '../kube/resources.ts';
import { parseDuration } from '../sync/duration.ts';
import { UsageError } from './io.ts';
import { filterFromFlags, registryFromFlags, type AddFlags, type FilterFlags } from './registry-spec.ts';

/**
 * `mcpreg registry import|export` in cluster mode: the flags → an MCPRegistryImportJob or
 * MCPRegistryExportJob, holding exactly what the flags say (defaults left to the CRD, so that
 * `--dry-run -o yaml` is minimal for GitOps), checked with the CRD's zod schema. Pure.
 */

export interface JobObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; generateName?: string; namespace?: string };
  spec: Record<string, unknown>;
}

export interface JobFlags {
  backoffLimit?: string;
  ttl?: string;
}

export interface GitTargetFlags {
  toGit?: string;
  toBranch?: string;
  toPath?: string;
  toAuthSecret?: string;
  toTokenKey?: string;
  toUsernameKey?: string;
  toPasswordKey?: string;
  toAllowHttp?: boolean;
  message?: string;
}

export type ImportFlags = JobFlags &
  GitTargetFlags &
  Omit<AddFlags, 'aggregate' | 'allowPartial' | 'interval'> & {
    toConfigmap?: string;
    toRegistry?: string;
    registry?: string;
    mode?: string;
    convertTo?: string;
    plan?: boolean;
  };

export type ExportFlags = JobFlags &
  GitTargetFlags &
  FilterFlags & {
    registry?: string;
    format?: string;
    toConfigmap?: string;
    toObjectKey?: string;
    toS3?: string;
    s3Endpoint?: string;
    s3Region?: string;
    s3PathStyle?: boolean;
    s3AllowHttp?: boolean;
    s3CredentialsSecret?: string;
    s3AccessKeyIdKey?: string;
    s3SecretAccessKeyKey?: string;
  };

const usage = (command: string, message: string): never => {
  throw new UsageError(`${command}: ${message}`);
};

const configMapFlag = (value: string) => {
  const colon = value.indexOf(':');
  return colon < 0 ? { name: value } : { name: value.slice(0, colon), key: value.slice(colon + 1) };
};

function gitTarget(command: string, f: GitTargetFlags): Record<string, unknown> | undefined {
  if (f.toGit === undefined) {
    for (const [flag, v] of [['--to-branch', f.toBranch], ['--to-path', f.toPath], ['--to-auth-secret', f.toAuthSecret], ['--message', f.message]] as const) {
      if (v !== undefined) usage(command, `${flag} applies only to --to-git`);
    }
    return undefined;
  }
  if (f.toAuthSecret === undefined && (f.toTokenKey ?? f.toUsernameKey ?? f.toPasswordKey) !== undefined) usage(command, '--to-token-key, --to-username-key and --to-password-key need --to-auth-secret NAME');
  const authSecret =
    f.toAuthSecret === undefined
      ? undefined
      : {
          name: f.toAuthSecret,
          ...(f.toTokenKey !== undefined ? { tokenKey: f.toTokenKey } : {}),
          ...(f.toUsernameKey !== undefined ? { usernameKey: f.toUsernameKey } : {}),
          ...(f.toPasswordKey !== undefined ? { passwordKey: f.toPasswordKey } : {}),
        };
  return {
    repository: f.toGit,
    ...(f.toBranch !== undefined ? { branch: f.toBranch } : {}),
    ...(f.toPath !== undefined ? { path: f.toPath } : {}),
    ...(authSecret ? { authSecret } : {}),
    ...(f.toAllowHttp ? { allowHttp: true } : {}),
    ...(f.message !== undefined ? { message: f.message } : {}),
  };
}

function jobFields(command: string, f: JobFlags): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (f.backoffLimit !== undefined) {
    if (!/^\d+$/.test(f.backoffLimit)) usage(command, `--backoff-limit must be a number from 0 to 20, not ${JSON.stringify(f.backoffLimit)}`);
    out.backoffLimit = Number(f.backoffLimit);
  }
  if (f.ttl !== undefined) {
    let ms = 0;
    try {
      ms = parseDuration(f.ttl, '--ttl');
    } catch {
      usage(command, `--ttl must be a duration such as 30s, 5m or 24h, not ${JSON.stringify(f.ttl)}`);
    }
    out.ttlSecondsAfterFinished = Math.round(ms / 1000);
  }
  return out;
}

/** where a zod issue path points, as the flag that set it */
const FLAG_OF_FIELD: [RegExp, string][] = [
  [/^registryRef/, '--registry'],
  [/^registry\./, '--registry'],
  [/^target\.configMap/, '--to-configmap'],
  [/^target\.registryRef/, '--to-registry'],
  [/^target\.objectKey/, '--to-object-key'],
  [/^target\.s3\.endpoint/, '--s3-endpoint'],
  [/^target\.s3\.region/, '--s3-region'],
  [/^target\.s3\.credentialsSecret/, '--s3-credentials-secret'],
  [/^target\.s3/, '--to-s3'],
  [/^target\.git\.branch/, '--to-branch'],
  [/^target\.git\.path/, '--to-path'],
  [/^target\.git\.authSecret/, '--to-auth-secret'],
  [/^target\.git/, '--to-git'],
  [/^target$/, '--to-…'],
  [/^backoffLimit/, '--backoff-limit'],
  [/^ttlSecondsAfterFinished/, '--ttl'],
  [/^filter/, 'the filter flags'],
];

function checked<S extends z.ZodType>(command: string, schema: S, spec: Record<string, unknown>): void {
  const r = schema.safeParse(spec);
  if (r.success) return;
  const issue = r.error.issues[0]!;
  const path = issue.path.join('.');
  const flag = FLAG_OF_FIELD.find(([re]) => re.test(path))?.[1] ?? path;
  usage(command, `${flag}: ${issue.message}`);
}

function metadata(command: string, name: string | undefined, namespace: string | undefined, prefix: string): JobObject['metadata'] {
  if (name !== undefined && (!new RegExp(OBJECT_NAME_PATTERN).test(name) || name.length > 253)) usage(command, `JOB must be a Kubernetes object name (lower-case letters, digits, "-" and "."), not ${JSON.stringify(name)}`);
  return { ...(name !== undefined ? { name } : { generateName: `${prefix}-` }), ...(namespace !== undefined ? { namespace } : {}) };
}

function exactlyOne(command: string, given: Array<[string, unknown]>): string {
  const set = given.filter(([, v]) => v !== undefined && v !== false);
  if (set.length !== 1) usage(command, `give exactly one target: ${given.map(([f]) => f).join(', ')}${set.length > 1 ? ` (got ${set.map(([f]) => f).join(' and ')})` : ''}`);
  return set[0]![0];
}

export function importJobFromFlags(name: string | undefined, namespace: string | undefined, flags: ImportFlags): JobObject {
  const command = 'registry import';
  const meta = metadata(command, name, namespace, 'import');
  // the source flags are registry add's: the same checks, and the same errors naming the flag
  const source = registryFromFlags('import', undefined, { ...flags, aggregate: [] }, command).spec;
  const which = exactlyOne(command, [['--to-configmap', flags.toConfigmap], ['--to-registry', flags.toRegistry], ['--to-git', flags.toGit]]);
  const git = gitTarget(command, flags);
  const target = which === '--to-configmap' ? { configMap: configMapFlag(flags.toConfigmap!) } : which === '--to-registry' ? { registryRef: { name: flags.toRegistry } } : { git };
  const spec: Record<string, unknown> = {
    source: source.source,
    ...(source.format !== undefined ? { format: source.format } : {}),
    ...(flags.convertTo !== undefined ? { convertTo: flags.convertTo } : {}),
    ...(source.filter !== undefined ? { filter: source.filter } : {}),
    target,
    ...(flags.mode !== undefined && flags.mode !== 'merge' ? { mode: flags.mode } : {}),
    ...(flags.plan ? { dryRun: true } : {}),
    ...(flags.registry !== undefined ? { registry: { name: flags.registry } } : {}),
    ...jobFields(command, flags),
  };
  checked(command, MCPRegistryImportJobSpec, spec);
  return { apiVersion: API_VERSION, kind: MCP_REGISTRY_IMPORT_JOB.kind, metadata: meta, spec };
}

/** `s3://BUCKET/KEY` */
function s3Url(value: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(value);
  if (!m) usage('registry export', `--to-s3 must be s3://BUCKET/KEY, not ${JSON.stringify(value)}`);
  return { bucket: m![1]!, key: m![2]! };
}

export function exportJobFromFlags(name: string | undefined, namespace: string | undefined, flags: ExportFlags): JobObject {
  const command = 'registry export';
  if (flags.registry === undefined) usage(command, 'give --registry NAME: the MCPRegistry whose snapshot is exported');
  const meta = metadata(command, name, namespace, `${flags.registry}-export`);
  const which = exactlyOne(command, [['--to-configmap', flags.toConfigmap], ['--to-object-key', flags.toObjectKey], ['--to-s3', flags.toS3], ['--to-git', flags.toGit]]);
  const s3Flags = [['--s3-endpoint', flags.s3Endpoint], ['--s3-region', flags.s3Region], ['--s3-path-style', flags.s3PathStyle], ['--s3-allow-http', flags.s3AllowHttp], ['--s3-credentials-secret', flags.s3CredentialsSecret], ['--s3-access-key-id-key', flags.s3AccessKeyIdKey], ['--s3-secret-access-key-key', flags.s3SecretAccessKeyKey]] as const;
  if (which !== '--to-s3') for (const [flag, v] of s3Flags) if (v !== undefined && v !== false) usage(command, `${flag} applies only to --to-s3`);
  const git = gitTarget(command, flags);
  let target: Record<string, unknown>;
  if (which === '--to-configmap') target = { configMap: configMapFlag(flags.toConfigmap!) };
  else if (which === '--to-object-key') target = { objectKey: flags.toObjectKey };
  else if (which === '--to-git') target = { git };
  else {
    if (flags.s3CredentialsSecret === undefined) usage(command, '--to-s3 needs --s3-credentials-secret NAME (a Secret with the key pair)');
    target = {
      s3: {
        ...s3Url(flags.toS3!),
        ...(flags.s3Endpoint !== undefined ? { endpoint: flags.s3Endpoint } : {}),
        ...(flags.s3Region !== undefined ? { region: flags.s3Region } : {}),
        ...(flags.s3PathStyle ? { forcePathStyle: true } : {}),
        ...(flags.s3AllowHttp ? { allowHttp: true } : {}),
        credentialsSecret: {
          name: flags.s3CredentialsSecret,
          ...(flags.s3AccessKeyIdKey !== undefined ? { accessKeyIdKey: flags.s3AccessKeyIdKey } : {}),
          ...(flags.s3SecretAccessKeyKey !== undefined ? { secretAccessKeyKey: flags.s3SecretAccessKeyKey } : {}),
        },
      },
    };
  }
  const filter = filterFromFlags(flags);
  const spec: Record<string, unknown> = {
    registryRef: { name: flags.registry },
    ...(flags.format !== undefined ? { format: flags.format } : {}),
    ...(filter ? { filter } : {}),
    target,
    ...jobFields(command, flags),
  };
  checked(command, MCPRegistryExportJobSpec, spec);
  return { apiVersion: API_VERSION, kind: MCP_REGISTRY_EXPORT_JOB.kind, metadata: meta, spec };
}
