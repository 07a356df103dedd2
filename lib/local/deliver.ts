import { HTTP, type CloudEvent } from 'cloudevents';
import { request } from 'undici';

/**
 * Sends one CloudEvent over HTTP (binary content mode) the way Knative's source adapters do
 * (sdk-go's HTTP client, reference/knative.md §2.1 and §2.6): a few retries with exponential
 * backoff, only on the statuses that client retries (404, 413, 425, 429, 502, 503, 504) and
 * on transport errors. Any other status, a 500 included, is final. Never throws: the result
 * says what happened, and the caller logs it.
 */

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([404, 413, 425, 429, 502, 503, 504]);

export interface DeliveryPolicy {
  /** retries after the first attempt (Knative's adapters: 5) */
  retries: number;
  /** first backoff; doubled on each retry (Knative's adapters: 50 ms) */
  backoffMs: number;
  /** cap of one backoff */
  maxBackoffMs: number;
  /** time to wait for the answer of one attempt (a sync can take minutes) */
  timeoutMs: number;
}

export const ADAPTER_DELIVERY: DeliveryPolicy = { retries: 5, backoffMs: 50, maxBackoffMs: 5_000, timeoutMs: 6 * 60_000 };

export type DeliveryResult =
  | { ok: true; status: number; attempts: number }
  | { ok: false; attempts: number; status?: number; detail: string; aborted?: boolean };

const DETAIL_BYTES = 512;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

async function bodyText(body: { text(): Promise<string> }): Promise<string> {
  try {
    const text = (await body.text()).trim().replace(/\s+/g, ' ');
    return text.length > DETAIL_BYTES ? `${text.slice(0, DETAIL_BYTES)}…` : text;
  } catch {
    return '';
  }
}

export async function deliver(url: string, event: CloudEvent<unknown>, policy: DeliveryPolicy = ADAPTER_DELIVERY, signal?: AbortSignal): Promise<DeliveryResult> {
  const message = HTTP.binary(event);
  const body = typeof message.body === 'string' ? message.body : message.body === undefined ? '' : JSON.stringify(message.body);
  let last: DeliveryResult = { ok: false, attempts: 0, detail: 'not sent' };
  for (let attempt = 1; attempt <= policy.retries + 1; attempt++) {
    if (signal?.aborted) return { ok: false, attempts: attempt - 1, detail: 'stopped before delivery', aborted: true };
    try {
      const res = await request(url, {
        method: 'POST',
        headers: message.headers as Record<string, string>,
        body,
        headersTimeout: policy.timeoutMs,
        bodyTimeout: policy.timeoutMs,
        ...(signal ? { signal } : {}),
      });
      if (res.statusCode >= 200 && res.statusCode < 300) {
        await res.body.dump();
        return { ok: true, status: res.statusCode, attempts: attempt };
      }
      last = { ok: false, attempts: attempt, status: res.statusCode, detail: (await bodyText(res.body)) || `HTTP ${res.statusCode}` };
      if (!RETRYABLE_STATUSES.has(res.statusCode)) return last;
    } catch (e) {
      if (signal?.aborted) return { ok: false, attempts: attempt, detail: 'stopped during delivery', aborted: true };
      const err = e as NodeJS.ErrnoException;
      last = { ok: false, attempts: attempt, detail: err.code ? `${err.code}: ${err.message}` : err.message };
    }
    if (attempt <= policy.retries) await sleep(Math.min(policy.backoffMs * 2 ** (attempt - 1), policy.maxBackoffMs), signal);
  }
  return last;
}
