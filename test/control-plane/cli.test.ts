/**
 * `mcpreg control-plane` as a user runs it: it prints the URL and kubeconfig path, serves until
 * SIGTERM, saves its state on the way out, and reports usage and input mistakes precisely.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const MAIN = join(import.meta.dirname, '..', '..', 'lib', 'cli', 'main.ts');

test('serves until SIGTERM, prints the kubeconfig path and saves state', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cp-cli-'));
  const child = spawn(process.execPath, [MAIN, 'control-plane', '--port', '0', '--data', dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MCPREG_LOG_LEVEL: 'warn' } });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const end = Date.now() + 15_000;
    while (!/kubeconfig: .+\n/.test(out)) {
      if (Date.now() > end) throw new Error(`no kubeconfig line in ${JSON.stringify(out)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const url = /control plane: (http:\/\/\S+)/.exec(out)![1]!;
    const kubeconfigPath = /kubeconfig: (.+)\n/.exec(out)![1]!;
    assert.equal(kubeconfigPath, join(dir, 'kubeconfig'));
    assert.match(await readFile(kubeconfigPath, 'utf8'), new RegExp(`server: ${url}`));
    const created = await fetch(`${url}/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { name: 'from-cli' }, data: { k: 'v' } }),
    });
    assert.equal(created.status, 201);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));
    assert.ok(state.collections['/configmaps'].some((o: { metadata: { name: string } }) => o.metadata.name === 'from-cli'));
  } finally {
    child.kill('SIGKILL');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
});

test('usage mistakes exit 2; an unreadable token file exits 1 naming the file and line', async () => {
  const bad = spawnSync(process.execPath, [MAIN, 'control-plane', '--port', 'abc'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--port must be a number from 0 to 65535, not "abc"/);
  const dir = await mkdtemp(join(tmpdir(), 'cp-cli-'));
  try {
    const tokens = join(dir, 'tokens.csv');
    await writeFile(tokens, 'good,alice,1\nbroken-line\n');
    const r = spawnSync(process.execPath, [MAIN, 'control-plane', '--port', '0', '--tokens', tokens], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), `mcpreg: ${tokens} line 2: token file lines need at least 3 columns: token,user,uid[,"group1,group2"]`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
