/**
 * Fault rules for the S3 test server's front (s3-conditional-front.ts): which request gets
 * which fault. Pure: the front asks `take(method, key)` for each request and applies what it
 * gets back.
 *
 * Kinds:
 * - `status`: answered at once with an S3 error (500 InternalError, 503 SlowDown…), nothing forwarded
 * - `timeout`: the request is read and never answered; the socket is cut after `ms` (default: never)
 * - `reset`: forwarded; the response's headers and half its body are sent, then the socket is cut
 * - `stall`: forwarded; the response's headers and half its body are sent, then nothing: the socket stays open (closed after `ms`, default never)
 * - `slow`: forwarded; the response is sent `chunkBytes` at a time, `delayMs` apart (and after `delayMs`)
 * - `lost-response`: forwarded and done by s3rver (a PUT is written), but the client gets no answer: the socket is cut
 */

export type FaultKind = 'status' | 'timeout' | 'reset' | 'stall' | 'slow' | 'lost-response';
export const FAULT_KINDS: readonly FaultKind[] = ['status', 'timeout', 'reset', 'stall', 'slow', 'lost-response'];

export interface FaultRule {
  kind: FaultKind;
  /** HTTP method to match (GET, HEAD, PUT, DELETE, POST); any when absent */
  method?: string;
  /** a regular expression (source text) the object key must match, e.g. `current\\.json$`; any when absent */
  key?: string;
  /** how many matching requests get the fault (default 1: one-shot) */
  count?: number;
  /** let this many matching requests through first (default 0): a fault that starts part-way through a sync */
  after?: number;
  /** status: the HTTP status (default 503) */
  status?: number;
  /** timeout, stall: cut the socket after this long (default never: the client must give up) */
  ms?: number;
  /** slow: delay before the first byte and between chunks (default 200 ms) */
  delayMs?: number;
  /** slow: bytes per chunk (default 1024) */
  chunkBytes?: number;
}

export interface FaultState {
  /** rules still armed, with what is left of their count */
  pending: FaultRule[];
  /** faults applied so far, by kind */
  injected: Record<FaultKind, number>;
}

export function emptyInjected(): Record<FaultKind, number> {
  return { status: 0, timeout: 0, reset: 0, stall: 0, slow: 0, 'lost-response': 0 };
}

interface ArmedRule {
  rule: FaultRule;
  left: number;
  /** matching requests still let through */
  skip: number;
  key: RegExp | null;
}

export class FaultRules {
  #rules: ArmedRule[] = [];
  #injected = emptyInjected();

  add(rule: FaultRule): void {
    if (!FAULT_KINDS.includes(rule.kind)) throw new Error(`unknown fault kind ${String(rule.kind)}`);
    const left = rule.count ?? 1;
    if (!Number.isInteger(left) || left < 1) throw new Error(`fault count must be a positive integer, got ${rule.count}`);
    const skip = rule.after ?? 0;
    if (!Number.isInteger(skip) || skip < 0) throw new Error(`fault after must be a non-negative integer, got ${rule.after}`);
    this.#rules.push({ rule, left, skip, key: rule.key === undefined ? null : new RegExp(rule.key) });
  }

  clear(): void {
    this.#rules = [];
  }

  /**
   * The first armed rule matching this request, counted down (removed when spent), or null.
   * A rule still letting requests through (`after`) counts this one down and does not apply.
   */
  take(method: string, key: string): FaultRule | null {
    const matches = (r: ArmedRule) => (r.rule.method === undefined || r.rule.method.toUpperCase() === method) && (r.key === null || r.key.test(key));
    const passing = this.#rules.filter((r) => r.skip > 0 && matches(r));
    for (const r of passing) r.skip--;
    const i = this.#rules.findIndex((r) => !passing.includes(r) && r.skip === 0 && matches(r));
    if (i < 0) return null;
    const entry = this.#rules[i]!;
    if (--entry.left === 0) this.#rules.splice(i, 1);
    this.#injected[entry.rule.kind]++;
    return entry.rule;
  }

  state(): FaultState {
    return { pending: this.#rules.map((r) => ({ ...r.rule, count: r.left, after: r.skip })), injected: { ...this.#injected } };
  }
}
