import { INCOMPLETE, isWs, stringEnd, valueEnd } from './envelope-scanner.ts';
import { buildReverseDnsName } from '../formats/names.ts';
import { mapSliced } from './prepared.ts';
import { toolhiveFacets, toolhiveItem, type Facets, type ToolhiveIndex, type ToolhiveKind, type ToolhiveServer } from './toolhive-view.ts';

/**
 * A snapshot's `toolhive.json` served from its own bytes: the document is framed member by
 * member (the `servers` and `remote_servers` maps down to each entry's byte range), each entry
 * is parsed once while indexing (for its facets, then dropped), and `/api/v1/servers` items are
 * spliced from the entry's bytes (its `name` value replaced by the key, `registry` added)
 * instead of keeping the parsed document: at 100k versions the parsed document was ~55 MB of
 * V8 heap; its bytes are 20 MB outside it.
 *
 * The answers are those of the parsed document exactly (`toolhiveItem`: JSON.stringify of
 * `{...entry, name: key, registry}`): an entry is spliced only when its bytes are what
 * JSON.stringify writes for it (compact, no duplicate keys, numbers and escapes as V8 writes
 * them, integer-like keys first); any other entry is parsed and serialised when served. The
 * whole document is checked as JSON.parse would check it (every member value is parsed), and
 * the index holds what JSON.parse would hold (the last of duplicate keys; non-object entries
 * left out), so a broken document fails to load as before.
 */

const QUOTE = 0x22;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const COMMA = 0x2c;
const COLON = 0x3a;

function syntax(at: number, what: string): SyntaxError {
  return new SyntaxError(`toolhive.json: ${what} at byte ${at}`);
}

function skipWs(b: Uint8Array, i: number, n: number): number {
  while (i < n && isWs(b[i])) i++;
  return i;
}

/**
 * The members of the object whose `{` is at `pos`: `member(keyStart, keyEnd, valueStart,
 * valueEnd)` for each, in order; returns the index after its `}`. Only the framing is checked
 * here: the caller parses every key and value it is given.
 */
function eachMember(b: Uint8Array, pos: number, n: number, member: (ks: number, ke: number, vs: number, ve: number) => void): number {
  let i = skipWs(b, pos + 1, n);
  if (b[i] === RBRACE) return i + 1;
  for (;;) {
    if (b[i] !== QUOTE) throw syntax(i, 'expected a key');
    const ke = stringEnd(b, i, n);
    if (ke === INCOMPLETE) throw syntax(i, 'unterminated key');
    let j = skipWs(b, ke, n);
    if (b[j] !== COLON) throw syntax(j, 'expected ":"');
    j = skipWs(b, j + 1, n);
    if (j >= n) throw syntax(j, 'expected a value');
    const ve = valueEnd(b, j, n, true);
    if (ve === INCOMPLETE || ve === j) throw syntax(j, 'unterminated value');
    member(i, ke, j, ve);
    i = skipWs(b, ve, n);
    if (b[i] === COMMA) {
      i = skipWs(b, i + 1, n);
      continue;
    }
    if (b[i] === RBRACE) return i + 1;
    throw syntax(i, 'expected "," or "}"');
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** a ToolHive server indexed from the document's bytes; `entry` is parsed from them on each use */
export class ByteServer implements ToolhiveServer {
  readonly key: string;
  readonly kind: ToolhiveKind;
  readonly facets: Facets;
  readonly upstreamName: string;
  readonly #doc: Buffer;
  readonly #start: number;
  readonly #end: number;
  /**
   * when the entry's bytes are JSON.stringify's (#spliced): offsets (from #start) of the
   * `name` and `registry` values, -1 when absent; otherwise the item is serialised from the
   * parsed entry. Plain fields (small integers), not a typed array per server.
   */
  readonly #spliced: boolean;
  readonly #nameAt: number;
  readonly #nameEnd: number;
  readonly #regAt: number;
  readonly #regEnd: number;

  constructor(doc: Buffer, start: number, end: number, key: string, kind: ToolhiveKind, facets: Facets, upstreamName: string, splice: readonly number[] | undefined) {
    this.#doc = doc;
    this.#start = start;
    this.#end = end;
    this.key = key;
    this.kind = kind;
    this.facets = facets;
    this.upstreamName = upstreamName;
    this.#spliced = splice !== undefined;
    this.#nameAt = splice?.[0] ?? -1;
    this.#nameEnd = splice?.[1] ?? -1;
    this.#regAt = splice?.[2] ?? -1;
    this.#regEnd = splice?.[3] ?? -1;
  }

  get entry(): Record<string, unknown> {
    return JSON.parse(this.#doc.toString('utf8', this.#start, this.#end)) as Record<string, unknown>;
  }

  /** the entry's own bytes */
  get bytes(): Buffer {
    return this.#doc.subarray(this.#start, this.#end);
  }

  /**
   * the pieces of the item (`{...entry, name: key, registry}`) in order: ranges of the entry's
   * bytes and inserted strings; undefined when the item must be serialised from the entry
   */
  pieces(registryJson: string): Array<[number, number] | string> | undefined {
    if (!this.#spliced) return undefined;
    const sp = [this.#nameAt, this.#nameEnd, this.#regAt, this.#regEnd];
    const keyJson = JSON.stringify(this.key);
    const s = this.#start;
    const out: Array<[number, number] | string> = [];
    let at = s;
    const replace: Array<[number, number, string]> = [];
    if (sp[0]! >= 0) replace.push([sp[0]!, sp[1]!, keyJson]);
    if (sp[2]! >= 0) replace.push([sp[2]!, sp[3]!, registryJson]);
    replace.sort((a, b) => a[0] - b[0]);
    for (const [from, to, text] of replace) {
      out.push([at, s + from], text);
      at = s + to;
    }
    // the closing brace, after what the entry lacks (name first, then registry, as the spread adds them)
    out.push([at, this.#end - 1]);
    let empty = this.#end - this.#start === 2;
    for (const [absent, field, json] of [
      [sp[0]! < 0, 'name', keyJson],
      [sp[2]! < 0, 'registry', registryJson],
    ] as const) {
      if (!absent) continue;
      out.push(`${empty ? '' : ','}"${field}":${json}`);
      empty = false;
    }
    out.push('}');
    return out;
  }

  get doc(): Buffer {
    return this.#doc;
  }
}

/** a ToolHive index built from bytes, with what it holds (for the memory budget) */
export interface ToolhiveBytesIndex extends ToolhiveIndex {
  servers: ByteServer[];
  /** estimated bytes held: the document and the servers' facets */
  heldBytes: number;
}

/** the value range of each of `fields` among the top-level members of a compact object, -1 when absent */
function memberValues(b: Uint8Array, start: number, end: number, fields: readonly string[]): number[] {
  const out = new Array<number>(fields.length * 2).fill(-1);
  const tokens = fields.map((f) => Buffer.from(JSON.stringify(f)));
  eachMember(b, start, end, (ks, ke, vs, ve) => {
    tokens.forEach((t, i) => {
      if (ke - ks === t.length && Buffer.compare(t, b.subarray(ks, ke)) === 0) {
        out[2 * i] = vs - start;
        out[2 * i + 1] = ve - start;
      }
    });
  });
  return out;
}

/** identical strings (tiers, transports, tags…) kept once */
class Interner {
  readonly #seen = new Map<string, string>();
  one(s: string): string {
    const kept = this.#seen.get(s);
    if (kept !== undefined) return kept;
    this.#seen.set(s, s);
    return s;
  }
  all(list: string[]): string[] {
    if (list.length === 0) return EMPTY;
    return list.map((s) => this.one(s));
  }
}
const EMPTY: string[] = [];

/**
 * Indexes a ToolHive registry.json from its bytes (the snapshot's toolhive.json): the same
 * servers, keys, kinds, facets and order as `indexToolhive(JSON.parse(text))`, and the same
 * errors (a SyntaxError for broken JSON, an Error for a non-object document).
 */
export function indexToolhiveBytes(bytes: Uint8Array): ToolhiveBytesIndex {
  const steps = indexing(bytes);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** entries parsed and indexed per turn of the event loop by indexToolhiveBytesInSteps */
const STEP_ENTRIES = 1000;

/**
 * indexToolhiveBytes a slice of entries per turn of the event loop (33k servers take about a
 * second in all: in one piece, every request in flight would wait for it)
 */
export async function indexToolhiveBytesInSteps(bytes: Uint8Array): Promise<ToolhiveBytesIndex> {
  const steps = indexing(bytes);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** the index, yielding after every STEP_ENTRIES entries */
function* indexing(bytes: Uint8Array): Generator<void, ToolhiveBytesIndex> {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = b.length;
  const first = skipWs(b, 0, n);
  if (b[first] !== LBRACE) {
    // not an object: JSON.parse says whether it is JSON at all
    JSON.parse(b.toString('utf8'));
    throw new Error('toolhive.json is not an object');
  }
  const text = (s: number, e: number) => b.toString('utf8', s, e);
  const maps: Record<'servers' | 'remote_servers', [number, number] | undefined> = { servers: undefined, remote_servers: undefined };
  const scalars = new Map<string, unknown>();
  const end = eachMember(b, first, n, (ks, ke, vs, ve) => {
    const key = JSON.parse(text(ks, ke)) as string;
    if ((key === 'servers' || key === 'remote_servers') && b[vs] === LBRACE) {
      // an earlier duplicate is overridden (JSON.parse keeps the last) but must still be JSON
      const earlier = maps[key];
      if (earlier) JSON.parse(text(earlier[0], earlier[1]));
      maps[key] = [vs, ve];
      return;
    }
    const value = JSON.parse(text(vs, ve)) as unknown;
    if (key === 'servers' || key === 'remote_servers') maps[key] = undefined;
    scalars.set(key, value);
  });
  if (skipWs(b, end, n) !== n) throw syntax(skipWs(b, end, n), 'unexpected content after the document');

  const intern = new Interner();
  const servers: ByteServer[] = [];
  let held = b.byteLength;
  for (const [field, kind] of [
    ['servers', 'image'],
    ['remote_servers', 'remote'],
  ] as const) {
    const range = maps[field];
    if (!range) continue;
    const found = new Map<string, ByteServer | null>();
    // framed first (fast), then parsed and indexed a slice at a time
    const members: number[] = [];
    eachMember(b, range[0], range[1], (ks, ke, vs, ve) => members.push(ks, ke, vs, ve));
    for (let m = 0; m < members.length; m += 4) {
      if (m > 0 && (m / 4) % STEP_ENTRIES === 0) yield;
      const [ks, ke, vs, ve] = [members[m]!, members[m + 1]!, members[m + 2]!, members[m + 3]!];
      const key = JSON.parse(text(ks, ke)) as string;
      const source = text(vs, ve);
      const entry = JSON.parse(source) as unknown;
      if (!isRecord(entry)) {
        found.set(key, null);
        continue;
      }
      const f = toolhiveFacets(key, entry);
      const facets: Facets = {
        names: f.names,
        ...(f.tier !== undefined ? { tier: intern.one(f.tier) } : {}),
        ...(f.status !== undefined ? { status: intern.one(f.status) } : {}),
        transports: intern.all(f.transports),
        tags: intern.all(f.tags),
        categories: intern.all(f.categories),
        text: f.text,
      };
      const splice = JSON.stringify(entry) === source ? memberValues(b, vs, ve, ['name', 'registry']) : undefined;
      const upstreamName = typeof entry.name === 'string' ? entry.name : buildReverseDnsName(key);
      found.set(key, new ByteServer(b, vs, ve, key, kind, facets, upstreamName, splice));
    }
    for (const s of found.values()) {
      if (!s) continue;
      servers.push(s);
      // the server object, its facets' strings and arrays
      held += 160 + 2 * (s.facets.text.length + s.facets.names.join('').length + s.upstreamName.length + s.key.length);
    }
  }
  servers.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const version = scalars.get('version');
  const lastUpdated = scalars.get('last_updated');
  return {
    ...(typeof version === 'string' ? { version } : {}),
    ...(typeof lastUpdated === 'string' ? { lastUpdated } : {}),
    servers,
    heldBytes: held,
  };
}

/** the item of a server as `/api/v1/servers` returns it, as bytes (`JSON.stringify(toolhiveItem(server, registry))`) */
export function toolhiveItemBytes(server: ToolhiveServer, registry: string): Buffer {
  if (server instanceof ByteServer) {
    const pieces = server.pieces(JSON.stringify(registry));
    if (pieces) return Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : server.doc.subarray(p[0], p[1]))));
  }
  return Buffer.from(JSON.stringify(toolhiveItem(server, registry)));
}

/** servers of one registry, for a listing */
export interface ItemGroup {
  servers: readonly ToolhiveServer[];
  registry: string;
}

/**
 * `open`, the items of every group comma-separated (in order), `close`, written into one
 * buffer: spliced items are copied from their document, others serialised a slice per
 * event-loop turn. One copy of the answer, not one per item and one more for the whole.
 */
export async function writeToolhiveItems(groups: readonly ItemGroup[], open = '', close = ''): Promise<Buffer> {
  const plans: Array<{ doc: Buffer | undefined; plan: Buffer | Array<[number, number] | string> }> = [];
  for (const { servers, registry } of groups) {
    const registryJson = JSON.stringify(registry);
    for (const plan of await mapSliced(servers, (s) => {
      const pieces = s instanceof ByteServer ? s.pieces(registryJson) : undefined;
      return pieces ? { doc: (s as ByteServer).doc, plan: pieces } : { doc: undefined, plan: Buffer.from(JSON.stringify(toolhiveItem(s, registry))) };
    }))
      plans.push(plan);
  }
  let length = Buffer.byteLength(open) + Buffer.byteLength(close) + Math.max(0, plans.length - 1);
  for (const { plan } of plans) {
    if (Buffer.isBuffer(plan)) length += plan.length;
    else for (const x of plan) length += typeof x === 'string' ? Buffer.byteLength(x) : x[1] - x[0];
  }
  const out = Buffer.allocUnsafe(length);
  let at = out.write(open, 0);
  plans.forEach(({ doc, plan }, i) => {
    if (i > 0) out[at++] = COMMA;
    if (Buffer.isBuffer(plan)) at += plan.copy(out, at);
    else for (const x of plan) at += typeof x === 'string' ? out.write(x, at) : doc!.copy(out, at, x[0], x[1]);
  });
  at += out.write(close, at);
  if (at !== length) throw new Error(`toolhive items: wrote ${at} of ${length} bytes`);
  return out;
}
