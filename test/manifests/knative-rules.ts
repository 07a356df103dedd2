/**
 * The rules Knative's admission webhooks enforce and its CRD schemas do not (see
 * ../shared/reference/knative.md §2–§3), as plain checks over a rendered object. Each returns
 * a list of problems ("path: what is wrong"); empty means the webhook would accept it.
 */
import { parseDuration } from '../../lib/sync/duration.ts';

type Obj = Record<string, any>;

const AUTOSCALING = 'autoscaling.knative.dev/';
const RESERVED_PORTS = new Set([8012, 8013, 8022, 9090, 9091, 8008]);
const HOUR_MS = 3_600_000;

function durationMs(value: string): number | undefined {
  try {
    return parseDuration(value);
  } catch {
    return /^\d+$/.test(value) ? Number(value) * 1000 : undefined; // bare seconds are accepted too
  }
}

function intIn(value: string, min: number, max = Number.MAX_SAFE_INTEGER): boolean {
  return /^-?\d+$/.test(value) && Number(value) >= min && Number(value) <= max;
}

/** autoscaling.knative.dev/* annotations of a revision template */
export function autoscalingProblems(annotations: Record<string, string>, at: string): string[] {
  const problems: string[] = [];
  const get = (k: string) => annotations[AUTOSCALING + k];
  const klass = get('class') ?? 'kpa.autoscaling.knative.dev';
  const checks: Record<string, (v: string) => boolean> = {
    class: (v) => v === 'kpa.autoscaling.knative.dev' || v === 'hpa.autoscaling.knative.dev',
    'min-scale': (v) => intIn(v, 0),
    'max-scale': (v) => intIn(v, 0),
    // 0 only when the cluster sets allow-zero-initial-scale, which we do not assume
    'initial-scale': (v) => intIn(v, 1),
    'activation-scale': (v) => intIn(v, 2),
    metric: (v) => (klass === 'kpa.autoscaling.knative.dev' ? ['concurrency', 'rps'] : ['cpu', 'memory']).includes(v),
    target: (v) => /^\d+(\.\d+)?$/.test(v) && Number(v) >= 0.01,
    'target-utilization-percentage': (v) => /^\d+(\.\d+)?$/.test(v) && Number(v) >= 1 && Number(v) <= 100,
    'target-burst-capacity': (v) => /^-?\d+(\.\d+)?$/.test(v) && Number(v) >= -1,
    window: (v) => {
      const ms = durationMs(v);
      return ms !== undefined && ms >= 6000 && ms <= HOUR_MS && ms % 1000 === 0;
    },
    'panic-window-percentage': (v) => /^\d+(\.\d+)?$/.test(v) && Number(v) >= 1 && Number(v) <= 100,
    'panic-threshold-percentage': (v) => /^\d+(\.\d+)?$/.test(v) && Number(v) >= 110 && Number(v) <= 1000,
    'scale-down-delay': (v) => {
      const ms = durationMs(v);
      return ms !== undefined && ms >= 0 && ms <= HOUR_MS;
    },
    'scale-to-zero-pod-retention-period': (v) => {
      const ms = durationMs(v);
      return ms !== undefined && ms >= 0 && ms <= HOUR_MS;
    },
  };
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(AUTOSCALING)) continue;
    const name = key.slice(AUTOSCALING.length);
    const check = checks[name];
    if (!check) problems.push(`${at}.${key}: unknown autoscaling annotation`);
    else if (typeof value !== 'string' || !check(value)) problems.push(`${at}.${key}: invalid value ${JSON.stringify(value)}`);
  }
  const min = get('min-scale');
  const max = get('max-scale');
  if (min !== undefined && max !== undefined && Number(max) !== 0 && Number(min) > Number(max)) {
    problems.push(`${at}: min-scale ${min} is above max-scale ${max}`);
  }
  return problems;
}

function probeProblems(probe: Obj | undefined, port: number | undefined, at: string): string[] {
  if (!probe) return [];
  const problems: string[] = [];
  const handler = probe.httpGet ?? probe.tcpSocket ?? probe.grpc;
  if (handler?.port !== undefined && handler.port !== port) problems.push(`${at}: probe port ${handler.port} must be the container port ${port} or absent`);
  if (!probe.periodSeconds && (probe.failureThreshold !== undefined || probe.timeoutSeconds !== undefined)) {
    problems.push(`${at}: with periodSeconds unset (aggressive probing) failureThreshold and timeoutSeconds must be unset`);
  }
  return problems;
}

/** Volume types a default Knative Serving install accepts (emptyDir since 1.x is enabled by default). */
const VOLUME_TYPES = new Set(['secret', 'configMap', 'projected', 'emptyDir']);

export function serviceProblems(svc: Obj): string[] {
  const problems: string[] = [];
  const meta = svc.metadata ?? {};
  for (const key of Object.keys(meta.annotations ?? {})) {
    if (key.startsWith(AUTOSCALING)) problems.push(`metadata.annotations.${key}: autoscaling annotations belong on spec.template.metadata.annotations`);
  }
  const template = svc.spec?.template ?? {};
  problems.push(...autoscalingProblems(template.metadata?.annotations ?? {}, 'spec.template.metadata.annotations'));
  const spec = template.spec ?? {};
  if (spec.containerConcurrency !== undefined && !(Number.isInteger(spec.containerConcurrency) && spec.containerConcurrency >= 0 && spec.containerConcurrency <= 1000)) {
    problems.push('spec.template.spec.containerConcurrency: must be 0..1000');
  }
  if (spec.timeoutSeconds !== undefined && !(spec.timeoutSeconds > 0 && spec.timeoutSeconds <= 600)) {
    problems.push('spec.template.spec.timeoutSeconds: must be 1..600 (max-revision-timeout-seconds default)');
  }
  const containers = (spec.containers ?? []) as Obj[];
  const ports = containers.flatMap((c) => (c.ports ?? []) as Obj[]);
  if (ports.length > 1) problems.push('spec.template.spec.containers: at most one container port in total');
  const port = ports[0]?.containerPort ?? 8080;
  if (RESERVED_PORTS.has(port)) problems.push(`spec.template.spec.containers: port ${port} is reserved by Knative`);
  if (ports[0]?.name !== undefined && !['http1', 'h2c'].includes(ports[0].name)) problems.push('ports[0].name: must be http1 or h2c');
  containers.forEach((c, i) => {
    const at = `spec.template.spec.containers[${i}]`;
    problems.push(...probeProblems(c.readinessProbe, port, `${at}.readinessProbe`));
    problems.push(...probeProblems(c.livenessProbe, port, `${at}.livenessProbe`));
    if ((c.securityContext?.capabilities?.add ?? []).length > 0) problems.push(`${at}.securityContext.capabilities.add: needs a feature flag`);
    for (const e of (c.env ?? []) as Obj[]) {
      if (e.valueFrom?.fieldRef || e.valueFrom?.resourceFieldRef) problems.push(`${at}.env.${e.name}: fieldRef needs the kubernetes.podspec-fieldref feature flag`);
    }
  });
  if (spec.securityContext !== undefined) problems.push('spec.template.spec.securityContext: needs the kubernetes.podspec-securitycontext feature flag');
  for (const [i, v] of ((spec.volumes ?? []) as Obj[]).entries()) {
    const kinds = Object.keys(v).filter((k) => k !== 'name');
    if (!kinds.every((k) => VOLUME_TYPES.has(k))) problems.push(`spec.template.spec.volumes[${i}]: ${kinds.join(',')} needs a feature flag`);
  }
  return problems;
}

const CRON_FIELDS: [number, number, Record<string, number>?][] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12, Object.fromEntries(['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'].map((m, i) => [m, i + 1]))],
  [0, 6, Object.fromEntries(['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'].map((d, i) => [d, i]))],
];
const DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** robfig/cron (as PingSource parses it): 5 fields, or 6 with leading seconds, or a descriptor; never @every. */
export function cronProblem(schedule: string): string | undefined {
  const text = schedule.trim().replace(/^(CRON_)?TZ=\S+\s+/, '');
  if (text.startsWith('@every')) return '@every is rejected by PingSource';
  if (text.startsWith('@')) return DESCRIPTORS.has(text) ? undefined : `unknown descriptor ${text}`;
  const fields = text.split(/\s+/);
  const specs = fields.length === 6 ? [[0, 59] as [number, number], ...CRON_FIELDS] : CRON_FIELDS;
  if (fields.length !== 5 && fields.length !== 6) return `expected 5 fields, got ${fields.length}`;
  for (const [i, field] of fields.entries()) {
    const [lo, hi, names] = specs[i]!;
    const value = (s: string) => (names && s.toUpperCase() in names ? names[s.toUpperCase()]! : /^\d+$/.test(s) ? Number(s) : NaN);
    for (const part of field.split(',')) {
      const [range, step, extra] = part.split('/');
      if (extra !== undefined || (step !== undefined && !(/^\d+$/.test(step) && Number(step) > 0))) return `field ${i + 1}: bad step in ${part}`;
      if (range === '*' || (range === '?' && (i === fields.length - 3 || i === fields.length - 1))) continue;
      const [a, b, more] = (range ?? '').split('-');
      if (more !== undefined) return `field ${i + 1}: bad range ${part}`;
      const from = value(a ?? '');
      const to = b === undefined ? from : value(b);
      if (!(from >= lo && to <= hi && from <= to)) return `field ${i + 1}: ${part} is outside ${lo}-${hi}`;
    }
  }
  return undefined;
}

export function pingSourceProblems(ps: Obj): string[] {
  const problems: string[] = [];
  const spec = ps.spec ?? {};
  const cron = cronProblem(spec.schedule ?? '* * * * *');
  if (cron) problems.push(`spec.schedule: ${cron}`);
  if (spec.timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: spec.timezone });
    } catch {
      problems.push(`spec.timezone: unknown time zone ${spec.timezone}`);
    }
  }
  if (spec.data !== undefined && spec.dataBase64 !== undefined) problems.push('spec: data and dataBase64 are mutually exclusive');
  if (spec.contentType === 'application/json') {
    const raw = spec.data ?? (spec.dataBase64 ? Buffer.from(spec.dataBase64, 'base64').toString('utf8') : undefined);
    if (raw !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) problems.push('spec.data: must be a JSON object when contentType is application/json');
    }
  }
  problems.push(...destinationProblems(spec.sink, 'spec.sink'));
  return problems;
}

export function destinationProblems(dest: Obj | undefined, at: string): string[] {
  if (!dest || (!dest.ref && !dest.uri)) return [`${at}: needs ref or uri`];
  if (dest.ref && !(dest.ref.apiVersion && dest.ref.kind && dest.ref.name)) return [`${at}.ref: needs apiVersion, kind and name`];
  if (!dest.ref && !/^https?:\/\//.test(dest.uri)) return [`${at}.uri: must be absolute without ref`];
  return [];
}

const ISO_DURATION = /^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;

export function deliveryProblems(delivery: Obj | undefined, at: string): string[] {
  if (!delivery) return [];
  const problems: string[] = [];
  if (delivery.retry !== undefined && !(Number.isInteger(delivery.retry) && delivery.retry >= 0)) problems.push(`${at}.retry: must be an integer >= 0`);
  if (delivery.backoffPolicy !== undefined && !['exponential', 'linear'].includes(delivery.backoffPolicy)) problems.push(`${at}.backoffPolicy: exponential or linear`);
  for (const k of ['backoffDelay', 'timeout', 'retryAfterMax']) {
    if (delivery[k] !== undefined && !ISO_DURATION.test(delivery[k])) problems.push(`${at}.${k}: not an ISO 8601 duration`);
  }
  if (delivery.deadLetterSink !== undefined) problems.push(...destinationProblems(delivery.deadLetterSink, `${at}.deadLetterSink`));
  return problems;
}

const DIALECTS = new Set(['exact', 'prefix', 'suffix', 'all', 'any', 'not', 'cesql']);

export function triggerProblems(t: Obj): string[] {
  const spec = t.spec ?? {};
  const problems: string[] = [];
  if (!spec.broker) problems.push('spec.broker: required');
  problems.push(...destinationProblems(spec.subscriber, 'spec.subscriber'));
  for (const [i, f] of ((spec.filters ?? []) as Obj[]).entries()) {
    const keys = Object.keys(f);
    if (keys.length !== 1 || !DIALECTS.has(keys[0]!)) problems.push(`spec.filters[${i}]: exactly one dialect of ${[...DIALECTS].join(', ')}`);
  }
  problems.push(...deliveryProblems(spec.delivery, 'spec.delivery'));
  return problems;
}

export function apiServerSourceProblems(s: Obj): string[] {
  const spec = s.spec ?? {};
  const problems: string[] = [];
  if (!['Reference', 'Resource'].includes(spec.mode ?? 'Reference')) problems.push(`spec.mode: Reference or Resource, not ${spec.mode}`);
  const resources = (spec.resources ?? []) as Obj[];
  if (resources.length === 0) problems.push('spec.resources: at least one');
  resources.forEach((r, i) => {
    if (!/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/.test(r.apiVersion ?? '')) problems.push(`spec.resources[${i}].apiVersion: not group/version`);
    if (!r.kind) problems.push(`spec.resources[${i}].kind: required`);
  });
  problems.push(...destinationProblems(spec.sink, 'spec.sink'));
  return problems;
}

export function brokerProblems(b: Obj): string[] {
  return deliveryProblems(b.spec?.delivery, 'spec.delivery');
}

/** Does an event (context attributes + extensions) pass a Trigger's filters? (exact/prefix/suffix/all/any/not) */
export function triggerMatches(trigger: Obj, event: Record<string, string>): boolean {
  const spec = trigger.spec ?? {};
  if (Array.isArray(spec.filters) && spec.filters.length > 0) return spec.filters.every((f: Obj) => filterMatches(f, event));
  const attributes = (spec.filter?.attributes ?? {}) as Record<string, string>;
  return Object.entries(attributes).every(([k, v]) => v === '' || event[k] === v);
}

function filterMatches(f: Obj, event: Record<string, string>): boolean {
  const all = (m: Record<string, string>, test: (a: string, b: string) => boolean) =>
    Object.entries(m).every(([k, v]) => event[k] !== undefined && test(event[k]!, v));
  if (f.exact) return all(f.exact, (a, b) => a === b);
  if (f.prefix) return all(f.prefix, (a, b) => a.startsWith(b));
  if (f.suffix) return all(f.suffix, (a, b) => a.endsWith(b));
  if (f.all) return (f.all as Obj[]).every((g) => filterMatches(g, event));
  if (f.any) return (f.any as Obj[]).some((g) => filterMatches(g, event));
  if (f.not) return !filterMatches(f.not, event);
  throw new Error(`filter dialect not simulated: ${Object.keys(f).join(',')}`);
}
