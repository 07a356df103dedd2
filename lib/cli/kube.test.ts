import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { connectKube, kubeFailure } from './kube.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpreg-kube-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(file: string, contexts: { name: string; server: string; namespace?: string }[], current: string): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: contexts.map((c) => ({ name: c.name, cluster: { server: c.server } })),
      users: contexts.map((c) => ({ name: c.name, user: { token: `token-${c.name}` } })),
      contexts: contexts.map((c) => ({ name: c.name, context: { cluster: c.name, user: c.name, ...(c.namespace ? { namespace: c.namespace } : {}) } })),
      'current-context': current,
    }),
  );
  return path;
}

const a = kubeconfig('a.yaml', [{ name: 'alpha', server: 'https://alpha.example:6443', namespace: 'team-a' }], 'alpha');
const b = kubeconfig('b.yaml', [{ name: 'beta', server: 'https://beta.example:6443' }], 'beta');
const emptyHome = { HOME: join(dir, 'no-home') };

describe('kubeconfig, context and namespace, as kubectl chooses them', () => {
  it('--kubeconfig, the context\'s namespace, -n over it', async () => {
    const t = await connectKube({ kubeconfig: a }, emptyHome);
    assert.deepEqual([t.context, t.server, t.namespace], ['alpha', 'https://alpha.example:6443', 'team-a']);
    assert.equal((await connectKube({ kubeconfig: a, namespace: 'other' }, emptyHome)).namespace, 'other');
  });

  it('$KUBECONFIG with several files: merged, the first current-context wins; --context switches, default namespace', async () => {
    const env = { ...emptyHome, KUBECONFIG: [a, b].join(delimiter) };
    const t = await connectKube({}, env);
    assert.equal(t.context, 'alpha');
    const beta = await connectKube({ context: 'beta' }, env);
    assert.deepEqual([beta.server, beta.namespace], ['https://beta.example:6443', 'default']);
  });

  it('--kubeconfig wins over $KUBECONFIG; ~/.kube/config is the fallback', async () => {
    assert.equal((await connectKube({ kubeconfig: b }, { ...emptyHome, KUBECONFIG: a })).context, 'beta');
    const home = join(dir, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    copyFileSync(b, join(home, '.kube', 'config'));
    assert.equal((await connectKube({}, { HOME: home })).context, 'beta');
  });

  it('mistakes are one line each', async () => {
    await assert.rejects(connectKube({ kubeconfig: join(dir, 'missing') }, emptyHome), { message: `kubeconfig ${join(dir, 'missing')}: no such file` });
    await assert.rejects(connectKube({ kubeconfig: a, context: 'gamma' }, emptyHome), { message: 'kubeconfig has no context "gamma" (it has: alpha)' });
    await assert.rejects(connectKube({}, emptyHome), { message: /^no kubeconfig: pass --kubeconfig FILE or set KUBECONFIG/ });
  });

  it('API failures: the Status message, or why the server could not be reached', () => {
    const forbidden = Object.assign(new Error('HTTP-Code: 403\nMessage: ...'), { code: 403, body: JSON.stringify({ kind: 'Status', message: 'mcpregistries is forbidden: User "bob" cannot list resource "mcpregistries"' }) });
    assert.equal(kubeFailure(forbidden, 'list MCPRegistries', { server: 'https://x' }).message, 'list MCPRegistries: mcpregistries is forbidden: User "bob" cannot list resource "mcpregistries"');
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) });
    assert.equal(kubeFailure(refused, 'list MCPRegistries', { server: 'http://127.0.0.1:1' }).message, 'list MCPRegistries: cannot reach the Kubernetes API at http://127.0.0.1:1 (ECONNREFUSED)');
  });
});
