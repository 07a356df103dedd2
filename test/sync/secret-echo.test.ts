/**
 * A source that echoes the credential it was sent, in every encoding a careless (or hostile)
 * server might use, in 401 and 500 bodies and in a 200 body that is not JSON. Through the sync
 * controller on the embedded control plane with Secrets, a loopback HTTP source and S3: no
 * spelling of any secret may reach the MCPRegistry's status, its Kubernetes Events or the logs
 * (captured at debug level, where a scrubbed excerpt of an error body is allowed).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { ControlPlane } from '../../lib/local/control-plane/index.ts';
import { createLogger } from '../../lib/log.ts';
import { createS3Store } from '../../lib/snapshots/s3-store.ts';
import type { SnapshotStore } from '../../lib/snapshots/store.ts';
import { resolvePolicy } from '../../lib/sources/policy.ts';
import { createSyncController, type SyncController } from '../../lib/sync/controller.ts';
import { startKube } from '../harness/kube.ts';
import { startHttpServer, type TestHttpServer } from '../servers/http.ts';
import { startS3Server, type TestS3 } from '../servers/s3.ts';

const GROUP = 'toolhive.stacklok.io';
const VERSION = 'v1alpha1';
const NS = 'team-s';

const TOKEN = 'Tok.en/Secret+Value=42';
const USER = 'ci-robot';
const PASS = 'p@ss w/rd+Ü';
const SHORT = 'Zq!';

/** The spellings a server might echo, computed here independently of lib/sources/scrub.ts. */
function encodings(value: string): Array<{ how: string; text: string; caseSensitive: boolean }> {
  const b = Buffer.from(value, 'utf8');
  const b64 = b.toString('base64');
  return [
    { how: 'as is', text: value, caseSensitive: false },
    { how: 'lower-cased', text: value.toLowerCase(), caseSensitive: false },
    { how: 'upper-cased', text: value.toUpperCase(), caseSensitive: false },
    { how: 'URL-encoded', text: encodeURIComponent(value), caseSensitive: false },
    { how: 'form-encoded', text: new URLSearchParams({ v: value }).toString().slice(2), caseSensitive: false },
    { how: 'hex', text: b.toString('hex'), caseSensitive: false },
    { how: 'base64', text: b64, caseSensitive: true },
    { how: 'base64 unpadded', text: b64.replace(/=+$/, ''), caseSensitive: true },
    { how: 'base64url', text: b.toString('base64url'), caseSensitive: true },
    { how: 'base64url padded', text: b64.replace(/\+/g, '-').replace(/\//g, '_'), caseSensitive: true },
  ];
}

/** What the source received, one credential per kind of auth, decoded from the request. */
function credentialsOf(req: http.IncomingMessage): string[] {
  const out: string[] = [];
  const auth = req.headers.authorization ?? '';
  if (auth.startsWith('Bearer ')) out.push(auth.slice(7), auth);
  if (auth.startsWith('Basic ')) {
    const pair = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    out.push(pair, pair.slice(pair.indexOf(':') + 1), auth.slice(6));
  }
  const key = req.headers['x-api-key'];
  if (typeof key === 'string') out.push(key);
  return out;
}

function echo(req: http.IncomingMessage): string {
  const parts: string[] = [];
  for (const c of credentialsOf(req)) for (const e of encodings(c)) parts.push(`${e.how}: ${e.text}`);
  // base64 of the whole header inside a longer text, at an arbitrary alignment
  parts.push(`header as base64: ${Buffer.from(`authorization=${req.headers.authorization ?? ''};key=${String(req.headers['x-api-key'] ?? '')}`).toString('base64')}`);
  return parts.join('\n');
}

function echoRoute(status: number, json: boolean) {
  return {
    handler: (req: http.IncomingMessage, res: http.ServerResponse) => {
      req.resume();
      const text = echo(req);
      if (json) {
        res.writeHead(status, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ title: 'echo', status, detail: text, message: text, error: text }));
      } else {
        res.writeHead(status, { 'content-type': status === 200 ? 'application/json' : 'text/plain' });
        // not JSON: starts with the credential, so a parser's message would quote it
        res.end(`${credentialsOf(req)[0] ?? ''} ${text}`);
      }
    },
  };
}

describe('a source echoing credentials: no spelling of a secret in status, Events or logs', () => {
  let cp: ControlPlane;
  let s3: TestS3;
  let store: SnapshotStore;
  let src: TestHttpServer;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  let controller: SyncController;
  const logs: string[] = [];

  before(async () => {
    cp = await startKube({ namespaces: [NS] });
    custom = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    core = cp.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'bearer' }, stringData: { token: TOKEN } } });
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'basic' }, stringData: { user: USER, pass: PASS } } });
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'short' }, stringData: { key: SHORT } } });
    s3 = await startS3Server();
    store = await createS3Store(s3.storeOptions());
    src = await startHttpServer({
      '/401-json': echoRoute(401, true),
      '/500-json': echoRoute(500, true),
      '/401-text': echoRoute(401, false),
      '/500-text': echoRoute(500, false),
      '/200-garbage': echoRoute(200, false),
    });
    controller = createSyncController({
      kubeConfig: cp.kubeConfig(),
      store,
      policy: resolvePolicy({ allowPrivate: ['127.0.0.0/8'], retries: 1, retryBaseMs: 10, retryMaxWaitMs: 50, totalTimeoutMs: 10_000 }),
      config: { deadlineMs: 30_000, concurrency: 1, leaseNamespace: NS, leaseDurationSeconds: 60, identity: 'test-secret-echo', keepSnapshots: 2, apiBaseUrl: 'http://query.example' },
      random: () => 0.5,
      log: createLogger({ level: 'debug', format: 'json', write: (line) => logs.push(line) }),
    });
  });

  after(async () => {
    await src?.close();
    await s3?.stop();
    await cp?.stop();
  });

  const auths = {
    bearer: { name: 'bearer', tokenKey: 'token' },
    basic: { name: 'basic', usernameKey: 'user', passwordKey: 'pass' },
    short: { name: 'short', headerName: 'X-Api-Key', headerValueKey: 'key' },
  };
  const secretsOf: Record<keyof typeof auths, string[]> = {
    bearer: [TOKEN],
    basic: [PASS, `${USER}:${PASS}`, Buffer.from(`${USER}:${PASS}`).toString('base64')],
    short: [SHORT],
  };

  function leaks(text: string, secrets: readonly string[]): string[] {
    const found: string[] = [];
    for (const s of secrets) {
      for (const e of encodings(s)) {
        const hit = e.caseSensitive ? text.includes(e.text) : text.toLowerCase().includes(e.text.toLowerCase());
        if (hit) found.push(`${JSON.stringify(s)} ${e.how}`);
      }
    }
    return found;
  }

  for (const kind of Object.keys(auths) as Array<keyof typeof auths>) {
    for (const path of ['/401-json', '/500-json', '/401-text', '/500-text', '/200-garbage']) {
      const name = `${kind}${path.replace(/\//g, '-')}`;
      test(`${kind} credential echoed by ${path.slice(1)}`, async () => {
        const hits = src.hits(path).length;
        const logsBefore = logs.length;
        const created = (await custom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: NS,
          plural: 'mcpregistries',
          body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', metadata: { name }, spec: { source: { type: 'url', url: { url: `${src.url}${path}`, allowHttp: true, authSecret: auths[kind] } } } },
        })) as { metadata: { name: string; namespace: string } };
        const result = await controller.handle({ type: 'resource', action: 'add', kind: 'MCPRegistry', object: { apiVersion: `${GROUP}/${VERSION}`, kind: 'MCPRegistry', ...created } as never, id: name, source: 'test' });
        assert.equal(result.registries[0]?.outcome, 'failed');
        assert.ok(src.hits(path).length > hits, 'the source was asked');
        const echoed = src.hits(path).at(-1)!;
        assert.ok(credentialsOf({ headers: echoed.headers } as http.IncomingMessage).length > 0, 'the request carried the credential');

        const got = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'mcpregistries', name })) as { status?: { conditions?: Array<{ type: string; status: string; message: string }> } };
        const synced = got.status?.conditions?.find((c) => c.type === 'Synced');
        assert.equal(synced?.status, 'False');
        const status = path === '/200-garbage' ? null : path.slice(1, 4);
        if (status) assert.match(synced!.message, new RegExp(`HTTP ${status}`), 'status says what failed and the HTTP status');
        const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${name}` });
        assert.ok(events.items.length > 0, 'a SyncFailed Event was written');
        const newLogs = logs.slice(logsBefore).join('\n');
        assert.ok(newLogs.length > 0, 'the sync logged');
        if (path !== '/200-garbage') assert.match(newLogs, /source error response/, 'a debug excerpt of the error body is logged');

        const secrets = secretsOf[kind];
        assert.deepEqual(leaks(JSON.stringify(got.status), secrets), [], `status: ${JSON.stringify(got.status)}`);
        const eventText = JSON.stringify(events.items.map((e) => [e.reason, e.message]));
        assert.deepEqual(leaks(eventText, secrets), [], `Events: ${eventText}`);
        assert.deepEqual(leaks(newLogs, secrets), [], `logs: ${newLogs}`);
      });
    }
  }
});
