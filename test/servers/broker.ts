/**
 * A stand-in for the Knative Broker of knative/: accepts CloudEvents (binary mode) on
 * 127.0.0.1 with 202, and delivers each to the subscribers of the Triggers in
 * knative/triggers.yaml whose filters match it (the same filter simulation as the manifest
 * tests), retrying retryable answers with a short backoff as the Broker's delivery spec does.
 * Subscribers are given by Knative Service name → base URL; Triggers of other subscribers are
 * recorded but not delivered. `idle()` waits until every delivery, and every event those
 * deliveries caused, is done.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { triggerMatches } from '../manifests/knative-rules.ts';

type Obj = Record<string, any>;

export interface Delivery {
  trigger: string;
  subscriber: string;
  type: string;
  subject: string | undefined;
  status: number | 'unrouted';
}

export interface TestBroker {
  url: string;
  deliveries: Delivery[];
  idle(): Promise<void>;
  close(): Promise<void>;
}

const TRIGGERS = join(import.meta.dirname, '..', '..', 'knative', 'triggers.yaml');
const RETRYABLE = new Set([404, 409, 429, 502, 503, 504]);

export function knativeTriggers(): Obj[] {
  return parseAllDocuments(readFileSync(TRIGGERS, 'utf8'))
    .map((d) => d.toJSON() as Obj)
    .filter((o) => o?.kind === 'Trigger');
}

export async function startBroker(subscribers: Record<string, string>, options: { retries?: number; backoffMs?: number } = {}): Promise<TestBroker> {
  const triggers = knativeTriggers();
  const deliveries: Delivery[] = [];
  const pending = new Set<Promise<void>>();
  const retries = options.retries ?? 5;
  const backoffMs = options.backoffMs ?? 50;

  async function deliver(trigger: Obj, headers: Record<string, string>, body: Buffer, base: string): Promise<void> {
    const url = `${base}${trigger.spec.subscriber.uri ?? '/'}`;
    let status = 0;
    for (let attempt = 0; attempt <= retries; attempt++) {
      const res = await fetch(url, { method: 'POST', headers, body }).catch(() => undefined);
      status = res?.status ?? 503;
      await res?.arrayBuffer();
      if (status < 300 || !RETRYABLE.has(status)) break;
      await new Promise((r) => setTimeout(r, backoffMs * 2 ** attempt));
    }
    deliveries.push({ trigger: trigger.metadata.name, subscriber: trigger.spec.subscriber.ref.name, type: headers['ce-type']!, subject: headers['ce-subject'], status });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && (k.startsWith('ce-') || k === 'content-type')) headers[k] = v;
      // context attributes and extensions, as the Trigger filters see them
      const attributes = Object.fromEntries(Object.entries(headers).filter(([k]) => k.startsWith('ce-')).map(([k, v]) => [k.slice(3), v]));
      res.writeHead(202);
      res.end();
      const body = Buffer.concat(chunks);
      for (const t of triggers.filter((t) => triggerMatches(t, attributes))) {
        const base = subscribers[t.spec.subscriber.ref.name];
        if (base === undefined) {
          deliveries.push({ trigger: t.metadata.name, subscriber: t.spec.subscriber.ref.name, type: attributes.type!, subject: attributes.subject, status: 'unrouted' });
          continue;
        }
        const p: Promise<void> = deliver(t, headers, body, base).finally(() => pending.delete(p));
        pending.add(p);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    deliveries,
    async idle() {
      // a delivery can cause further events (an aggregate publishing in turn)
      while (pending.size > 0) {
        await Promise.allSettled([...pending]);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
