/**
 * The broken-CRD corpus (test/cluster/broken-crds/*.yaml): each file is one CustomResourceDefinition,
 * optionally followed by custom resources to create once it is served. `runCorpus` sends them to a
 * Kubernetes API server (the real kube-apiserver of `npm run test:cluster`, or the embedded
 * control plane) and records what it answers; expected.json holds what the real server answered,
 * and both test files compare their server's answers with it, so both servers must agree.
 *
 * Every request has its own timeout, and a failure of the server (a timeout, a 5xx, an answer
 * that is not a Status) ends the run at once with the file that caused it.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { parseAllDocuments } from 'yaml';

export const CORPUS_DIR = join(import.meta.dirname, 'broken-crds');
export const EXPECTED_FILE = join(CORPUS_DIR, 'expected.json');
const NAMESPACE = 'default';
const REQUEST_TIMEOUT_MS = 15_000;
const SERVED_TIMEOUT_MS = 30_000;

export interface Cause {
  reason: string;
  field: string;
  message: string;
}

export interface Outcome {
  accepted: boolean;
  code: number;
  causes: Cause[];
}

export interface CaseResult {
  crd: Outcome;
  /** by metadata.name, in file order */
  objects?: Record<string, Outcome>;
}

export type CorpusResults = Record<string, CaseResult>;

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: { group?: string; names?: { plural?: string } };
}

export interface CorpusCase {
  /** the file name without .yaml */
  id: string;
  crd: KubeObject;
  objects: KubeObject[];
}

export async function loadCorpus(dir = CORPUS_DIR): Promise<CorpusCase[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  const out: CorpusCase[] = [];
  for (const f of files) {
    // plain YAML parsing: client-node's loadAllYaml would turn x-kubernetes-validations into its model's field names
    const docs = parseAllDocuments(await readFile(join(dir, f), 'utf8'))
      .map((d) => d.toJS() as KubeObject | null)
      .filter((d): d is KubeObject => d !== null);
    const [crd, ...objects] = docs;
    if (crd?.kind !== 'CustomResourceDefinition') throw new Error(`${f}: the first document must be a CustomResourceDefinition`);
    out.push({ id: f.slice(0, -'.yaml'.length), crd, objects });
  }
  return out;
}

export interface Target {
  server: string;
  token: string;
  /** the server's CA (TLS); none for plain HTTP */
  ca?: Buffer;
}

class ServerFailure extends Error {}

function client(target: Target) {
  const dispatcher = new Agent({ connect: target.ca ? { ca: target.ca } : {}, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
  const request = async (method: string, path: string, body?: unknown, textIsFine = false): Promise<{ status: number; json: any }> => {
    let res;
    try {
      res = await fetch(`${target.server}${path}`, {
        method,
        dispatcher,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        headers: { Authorization: `Bearer ${target.token}`, Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    } catch (e) {
      throw new ServerFailure(`${method} ${path}: ${(e as Error).message}`);
    }
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      // a resource not served yet is a plain-text 404 from the real server's router
      if (textIsFine) return { status: res.status, json: text };
      throw new ServerFailure(`${method} ${path}: ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    if (res.status >= 500) throw new ServerFailure(`${method} ${path}: ${res.status} ${json?.message ?? text.slice(0, 200)}`);
    return { status: res.status, json };
  };
  return { request, close: () => dispatcher.close() };
}

function outcome(status: number, body: any): Outcome {
  if (status === 201) return { accepted: true, code: status, causes: [] };
  if (body?.kind !== 'Status') throw new ServerFailure(`${status} without a Status: ${JSON.stringify(body).slice(0, 200)}`);
  const causes = ((body.details?.causes ?? []) as Cause[]).map((c) => ({ reason: c.reason ?? '', field: c.field ?? '', message: c.message ?? '' }));
  return { accepted: false, code: status, causes: causes.length ? sortCauses(causes) : [{ reason: body.reason ?? '', field: '', message: body.message ?? '' }] };
}

export function sortCauses(causes: Cause[]): Cause[] {
  const key = (c: Cause) => `${c.field}\u0000${c.reason}\u0000${c.message}`;
  return [...causes].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/** Sends every case to the server: the CRD, then (when accepted) its objects; deletes the CRDs it created. */
export async function runCorpus(target: Target, cases: CorpusCase[], log: (line: string) => void = () => {}): Promise<CorpusResults> {
  const { request, close } = client(target);
  const results: CorpusResults = {};
  const created: string[] = [];
  try {
    for (const c of cases) {
      try {
        const res = await request('POST', CRDS, c.crd);
        const crd = outcome(res.status, res.json);
        results[c.id] = { crd };
        log(`${c.id}: CRD ${crd.accepted ? 'accepted' : `rejected (${crd.code}, ${crd.causes.length} causes)`}`);
        if (!crd.accepted) continue;
        created.push(c.crd.metadata.name);
        if (c.objects.length === 0) continue;
        const plural = c.crd.spec!.names!.plural!;
        const path = `/apis/${c.crd.spec!.group}/v1/namespaces/${NAMESPACE}/${plural}`;
        // the real server serves a new CRD's resource a moment after it is stored
        const deadline = Date.now() + SERVED_TIMEOUT_MS;
        for (;;) {
          const listed = await request('GET', path, undefined, true);
          if (listed.status === 200) break;
          if (Date.now() > deadline) throw new ServerFailure(`${path} not served ${SERVED_TIMEOUT_MS} ms after its CRD was created: ${listed.status}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        const objects: Record<string, Outcome> = {};
        for (const o of c.objects) {
          const r = await request('POST', path, o);
          objects[o.metadata.name] = outcome(r.status, r.json);
        }
        results[c.id]!.objects = objects;
      } catch (e) {
        throw new Error(`broken-CRD corpus, ${c.id}: ${(e as Error).message}`, { cause: e });
      }
    }
  } finally {
    for (const name of created) await request('DELETE', `${CRDS}/${name}`).catch(() => undefined);
    await close();
  }
  return results;
}

/**
 * A message in the form both servers can produce. The CEL compiler's own error text (its
 * position markers and wording come from cel-go) is cut after "compilation failed", and the
 * internal schema struct kube-apiserver prints for a root that says too much beside a status
 * subresource is left out; the rule JSON it puts in other values is kept: everything else must
 * match exactly.
 */
export function comparable(message: string): string {
  return message
    .replace(/(compilation failed): [\s\S]*$/, '$1: …')
    // kube-apiserver prints its internal schema struct as the value here
    .replace(/^Invalid value: (?:\{"ID":[\s\S]*\}|…): (only \[[^\]]*\] fields are allowed at the root)/, 'Invalid value: …: $1');
}

/** The differences between two runs, as readable lines (empty when they agree). */
export function differences(expected: CorpusResults, actual: CorpusResults, normalise: (m: string) => string = (m) => m): string[] {
  const out: string[] = [];
  const compare = (what: string, e: Outcome | undefined, a: Outcome | undefined) => {
    if (!e || !a) return out.push(`${what}: ${e ? 'missing here' : 'not in expected.json'}`);
    if (e.accepted !== a.accepted) return out.push(`${what}: the real server ${e.accepted ? 'accepts' : `rejects (${e.causes.map((c) => `${c.field}: ${c.message}`).join('; ')})`}, this one ${a.accepted ? 'accepts' : `rejects (${a.causes.map((c) => `${c.field}: ${c.message}`).join('; ')})`}`);
    if (e.code !== a.code) out.push(`${what}: status ${e.code} expected, got ${a.code}`);
    const key = (c: Cause) => `${c.reason} ${c.field}: ${normalise(c.message)}`;
    const want = new Set(e.causes.map(key));
    const got = new Set(a.causes.map(key));
    for (const k of want) if (!got.has(k)) out.push(`${what}: missing cause ${k}`);
    for (const k of got) if (!want.has(k)) out.push(`${what}: unexpected cause ${k}`);
    return undefined;
  };
  for (const id of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    const e = expected[id];
    const a = actual[id];
    compare(`${id} CRD`, e?.crd, a?.crd);
    for (const name of new Set([...Object.keys(e?.objects ?? {}), ...Object.keys(a?.objects ?? {})])) compare(`${id} object ${name}`, e?.objects?.[name], a?.objects?.[name]);
  }
  return out;
}
