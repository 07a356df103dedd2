/**
 * What a schemathesis run found, read from its NDJSON event stream (`--report ndjson`), and
 * which of it the reviewed allow-list (test/conformance/allow-list.json) accepts. Pure: the
 * runner (scripts/conformance/test.ts) does the I/O.
 *
 * A failure is one failed check of one test case: the check's code (ST103 undocumented status,
 * ST105 undocumented content type, ST201 schema-violating request accepted, ST202 schema-valid
 * request rejected, …), the operation, and the request and response it saw. Errors of the run
 * itself (a crash, an unreachable server, a schema it could not load) are failures too: no
 * allow-list entry matches them.
 */

export type SpecName = 'official' | 'ours';

export interface Failure {
  spec: SpecName;
  /** where the run pointed: the per-registry base, the default-registry root, … */
  target: string;
  /** `GET /v0.1/servers`, or `(run)` for an error of the run itself */
  operation: string;
  /** ST103, ST202, … ; `error` for an error of the run */
  code: string;
  title: string;
  message: string;
  method?: string;
  uri?: string;
  query?: Record<string, string>;
  /** the query as sent, in order, repeats kept */
  queryPairs?: Array<[string, string]>;
  status?: number;
  contentType?: string;
  /** the response body, as text (problem+json bodies are read for their error locations) */
  body?: string;
}

export interface AllowEntry {
  id: string;
  reason: string;
  specs: SpecName[];
  /** the check codes this entry accepts */
  checks: string[];
  /** only these operations (default: any) */
  operations?: string[];
  status?: number;
  /** the response's media type, without parameters */
  contentType?: string;
  /** query parameters the request had: "*" present with any value, else that exact value */
  query?: Record<string, string>;
  /** the problem body's errors[].location, each one of these (and at least one) */
  problemLocations?: string[];
  /**
   * the query parameter schemathesis names as the invalid part ("parameter `x` in query") was
   * sent once with an empty value (`x=`)
   */
  emptyParameter?: boolean;
  /** that parameter was sent more than once (`x=1&x=2`) */
  repeatedParameter?: boolean;
}

export interface Exclusion {
  spec: SpecName;
  operation: string;
  reason: string;
}

export interface AllowList {
  excluded: Exclusion[];
  allowed: AllowEntry[];
}

const CODE = /^(ST\d{3}|[A-Za-z_]+)$/;

/** Checks the allow-list file's shape; every entry must say why. */
export function parseAllowList(text: string, file: string): AllowList {
  const doc = JSON.parse(text) as Partial<AllowList>;
  const fail = (what: string) => {
    throw new Error(`${file}: ${what}`);
  };
  if (!Array.isArray(doc.allowed) || !Array.isArray(doc.excluded)) fail('needs "excluded" and "allowed" arrays');
  const ids = new Set<string>();
  doc.allowed!.forEach((e, i) => {
    const at = `allowed[${i}]`;
    if (typeof e.id !== 'string' || e.id === '') fail(`${at}: no id`);
    if (ids.has(e.id)) fail(`${at}: duplicate id ${e.id}`);
    ids.add(e.id);
    if (typeof e.reason !== 'string' || e.reason.trim().length < 20) fail(`${at} (${e.id}): the reason must say why (20 characters at least)`);
    if (!Array.isArray(e.specs) || e.specs.length === 0 || e.specs.some((s) => s !== 'official' && s !== 'ours')) fail(`${at} (${e.id}): specs must list official and/or ours`);
    if (!Array.isArray(e.checks) || e.checks.length === 0 || e.checks.some((c) => typeof c !== 'string' || !CODE.test(c))) fail(`${at} (${e.id}): checks must list check codes such as ST103`);
    if (e.status === undefined && e.contentType === undefined && e.query === undefined && e.problemLocations === undefined && !e.emptyParameter && !e.repeatedParameter) fail(`${at} (${e.id}): too broad: give a status, contentType, query or problemLocations`);
  });
  doc.excluded!.forEach((e, i) => {
    if (typeof e.operation !== 'string' || !/^[A-Z]+ \//.test(e.operation)) fail(`excluded[${i}]: operation must be "METHOD /path"`);
    if (typeof e.reason !== 'string' || e.reason.trim().length < 20) fail(`excluded[${i}] (${e.operation}): the reason must say why`);
  });
  return doc as AllowList;
}

interface CheckResult {
  name: string;
  status: string;
  failure_info?: { failure: { code: string; operation: string; title: string; message: string } };
}

interface Interaction {
  request: { method: string; uri: string };
  response?: { status_code: number; headers: Record<string, string[]>; content?: { $base64?: string; string?: string } };
}

interface ScenarioFinished {
  recorder: { label: string; checks: Record<string, CheckResult[]>; interactions: Record<string, Interaction> };
}

function bodyText(content: { $base64?: string; string?: string } | undefined): string | undefined {
  if (!content) return undefined;
  if (typeof content.string === 'string') return content.string;
  if (typeof content.$base64 === 'string') return Buffer.from(content.$base64, 'base64').toString('utf8');
  return undefined;
}

/** The failures of one run, from its NDJSON text (one event per line), deduplicated. */
export function failuresOf(ndjson: string, spec: SpecName, target: string): Failure[] {
  const collect = failureCollector(spec, target);
  for (const line of ndjson.split('\n')) collect.line(line);
  return collect.failures();
}

/**
 * The same, line by line: a run's report grows by megabytes a second (every interaction is in
 * it), so the runner streams it; lines without a failure or an error are skipped unparsed.
 */
export function failureCollector(spec: SpecName, target: string): { line(text: string): void; failures(): Failure[] } {
  const out = new Map<string, Failure>();
  const add = (f: Failure) => {
    const key = JSON.stringify([f.operation, f.code, f.status, f.contentType, f.uri, f.message]);
    if (!out.has(key)) out.set(key, f);
  };
  const line = (text: string) => {
    if (text.trim() === '') return;
    if (!text.includes('"failure"') && !text.includes('Error"')) return;
    const line = text;
    const event = JSON.parse(line) as Record<string, unknown>;
    const [kind] = Object.keys(event);
    const value = event[kind!] as Record<string, unknown>;
    if (kind === 'NonFatalError' || kind === 'FatalError') {
      const info = (value.info ?? {}) as { title?: string; message?: string };
      add({ spec, target, operation: typeof value.label === 'string' ? value.label : '(run)', code: 'error', title: info.title ?? kind, message: info.message ?? JSON.stringify(value).slice(0, 500) });
      return;
    }
    if (kind !== 'ScenarioFinished') return;
    const { recorder } = value as unknown as ScenarioFinished;
    for (const [caseId, checks] of Object.entries(recorder.checks ?? {})) {
      const interaction = recorder.interactions?.[caseId];
      for (const c of checks) {
        if (c.status !== 'failure' || !c.failure_info) continue;
        const { failure } = c.failure_info;
        const f: Failure = { spec, target, operation: failure.operation || recorder.label, code: failure.code, title: failure.title, message: failure.message };
        if (interaction) {
          f.method = interaction.request.method;
          f.uri = interaction.request.uri;
          const params = new URL(interaction.request.uri).searchParams;
          f.query = Object.fromEntries(params);
          f.queryPairs = [...params];
          if (interaction.response) {
            f.status = interaction.response.status_code;
            const type = Object.entries(interaction.response.headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1]?.[0];
            if (type) f.contentType = type.split(';')[0]!.trim().toLowerCase();
            const body = bodyText(interaction.response.content);
            if (body !== undefined) f.body = body;
          }
        }
        add(f);
      }
    }
  };
  return { line, failures: () => [...out.values()] };
}

function problemLocations(body: string | undefined): string[] {
  try {
    const errors = (JSON.parse(body ?? '') as { errors?: Array<{ location?: unknown }> }).errors;
    return Array.isArray(errors) ? errors.map((e) => (typeof e.location === 'string' ? e.location : '')) : [];
  } catch {
    return [];
  }
}

/** the query parameter a schemathesis message names as the invalid part, if any */
export function invalidParameter(message: string): string | undefined {
  return /parameter `([^`]+)` in query/.exec(message)?.[1];
}

function sent(f: Failure, name: string): string[] {
  return (f.queryPairs ?? []).filter(([n]) => n === name).map(([, v]) => v);
}

/** The first allow-list entry that accepts this failure, if any. */
export function allowedBy(f: Failure, list: AllowList): AllowEntry | undefined {
  if (f.code === 'error') return undefined;
  return list.allowed.find((e) => {
    if (!e.specs.includes(f.spec) || !e.checks.includes(f.code)) return false;
    if (e.operations && !e.operations.includes(f.operation)) return false;
    if (e.status !== undefined && f.status !== e.status) return false;
    if (e.contentType !== undefined && f.contentType !== e.contentType) return false;
    if (e.query) {
      for (const [name, want] of Object.entries(e.query)) {
        const got = f.query?.[name];
        if (got === undefined || (want === '*' ? got === '' : got !== want)) return false;
      }
    }
    if (e.emptyParameter || e.repeatedParameter) {
      const name = invalidParameter(f.message);
      if (name === undefined) return false;
      const values = sent(f, name);
      if (e.emptyParameter && !(values.length === 1 && values[0] === '')) return false;
      if (e.repeatedParameter && !(values.length > 1)) return false;
    }
    if (e.problemLocations) {
      const locations = problemLocations(f.body);
      if (locations.length === 0 || !locations.every((l) => e.problemLocations!.includes(l))) return false;
    }
    return true;
  });
}

export interface Verdict {
  allowed: Array<{ failure: Failure; entry: AllowEntry }>;
  unexpected: Failure[];
}

export function judge(failures: Failure[], list: AllowList): Verdict {
  const verdict: Verdict = { allowed: [], unexpected: [] };
  for (const f of failures) {
    const entry = allowedBy(f, list);
    if (entry) verdict.allowed.push({ failure: f, entry });
    else verdict.unexpected.push(f);
  }
  return verdict;
}

/** One failure as a few lines a person can act on (what, where, how to reproduce). */
export function describeFailure(f: Failure): string {
  const lines = [`[${f.spec} @ ${f.target}] ${f.operation}: ${f.code} ${f.title}`, `    ${f.message.replace(/\n/g, '\n    ')}`];
  if (f.status !== undefined) lines.push(`    answered ${f.status}${f.contentType ? ` ${f.contentType}` : ''}${f.body ? `: ${f.body.slice(0, 300)}` : ''}`);
  if (f.uri) lines.push(`    curl -X ${f.method ?? 'GET'} '${f.uri}'`);
  return lines.join('\n');
}
