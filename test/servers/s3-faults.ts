/**
 * Fault rules for the S3 test server's front (s3-conditional-front.ts): which request gets
 * which fault. Pure: the front asks `take(method, key)` for each request and applies what it
 * gets back.
 *
 * Kinds:
 * - `status`: answered at once with an S3 error (500 InternalError, 503 SlowDown…), nothing forwarded
 * - `timeout`: the request is read and never answered; the socket is cut after `ms` (default: never)
 * - `reset`: forwarded; the response's headers and half its body are sent, then the socket is cut
 * - `slow`: forwarded; the response is sent `chunkBytes` at a time, `delayMs` apart (and after `delayMs`)
 * - `lost-response`: forwarded and done by s3rver (a PUT is written), but the client gets no answer: the socket is cut
 */

export type FaultKind = 'status' | 'timeout' | 'reset' | 'slow' | 'lost-response';
export const FAULT_KINDS: readonly FaultKind[] = ['status', 'timeout', 'reset', 'slow', 'lost-response'];

export interface FaultRule {
  kind: FaultKind;
  /** HTTP method to match (GET, HEAD, PUT, DELETE, POST); any when absent */
  method?: string;
  /** a regular expression (source text) the object key must match, e.g. `current\\.json$`; any when absent */
  key?: string;
  /** how many matching requests get the fault (default 1: one-shot) */
  count?: number;
  /** status: the HTTP status (default 503) */
  status?: number;
  /** timeout: cut the socket after this long (default never: the client must give up) */
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
  return { status: 0, timeout: 0, reset: 0, slow: 0, 'lost-response': 0 };
}

export class FaultRules {
  #rules: { rule: FaultRule; left: number; key: RegExp | null }[] = [];
  #injected = emptyInjected();

  add(rule: FaultRule): void {
    if (!FAULT_KINDS.includes(rule.kind)) throw new Error(`unknown fault kind ${String(rule.kind)}`);
    const left = rule.count ?? 1;
    if (!Number.isInteger(left) || left < 1) throw new Error(`fault count must be a positive integer, got ${rule.count}`);
    this.#rules.push({ rule, left, key: rule.key === undefined ? null : new RegExp(rule.key) });
  }

  clear(): void {
    this.#rules = [];
  }

  /** The first armed rule matching this request, counted down (removed when spent), or null. */
  take(method: string, key: string): FaultRule | null {
    const i = this.#rules.findIndex((r) => (r.rule.method === undefined || r.rule.method.toUpperCase() === method) && (r.key === null || r.key.test(key)));
    if (i < 0) return null;
    const entry = this.#rules[i]!;
    if (--entry.left === 0) this.#rules.splice(i, 1);
    this.#injected[entry.rule.kind]++;
    return entry.rule;
  }

  state(): FaultState {
    return { pending: this.#rules.map((r) => ({ ...r.rule, count: r.left })), injected: { ...this.#injected } };
  }
}
