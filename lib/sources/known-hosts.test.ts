import assert from 'node:assert/strict';
import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { fingerprintOf, hostKeyAlgorithms, keyTypeOf, lineMatchesHost, normaliseFingerprint, parseKnownHosts, verifyHostKey } from './known-hosts.ts';

/** an ssh-ed25519 public key blob: string "ssh-ed25519", string key (RFC 8709) */
function ed25519Blob(): Buffer {
  const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const name = Buffer.from('ssh-ed25519');
  const len = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  return Buffer.concat([len(name.length), name, len(raw.length), raw]);
}

const a = ed25519Blob();
const b = ed25519Blob();
const line = (hosts: string, key: Buffer, marker = '') => `${marker ? `${marker} ` : ''}${hosts} ssh-ed25519 ${key.toString('base64')} comment`;

test('fingerprints are ssh-keygen -l spelling: SHA256: and unpadded base64 of the blob digest', () => {
  assert.equal(fingerprintOf(a), `SHA256:${createHash('sha256').update(a).digest('base64').replace(/=+$/, '')}`);
  assert.equal(fingerprintOf(a).length, 7 + 43);
  assert.equal(keyTypeOf(a), 'ssh-ed25519');
  assert.equal(normaliseFingerprint(`sha256:${fingerprintOf(a).slice(7)}=`), fingerprintOf(a));
  assert.equal(normaliseFingerprint('MD5:16:27:ac:a5'), undefined);
});

test('known_hosts: plain names, [host]:port, wildcards, negation, hashed names; bad lines skipped with their number', () => {
  const salt = Buffer.from('0123456789abcdef0123');
  const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[10.0.0.7]:2222').digest('base64')}`;
  const { entries, skipped } = parseKnownHosts(
    [
      '# comment',
      line('github.com,gitlab.com', a),
      line('[git.example.com]:2222', a),
      line('*.corp.example,!secret.corp.example', a),
      line(hashed, b),
      'broken-line-without-key',
      `bad ssh-ed25519 ${Buffer.from('junk').toString('base64')}`,
      '',
    ].join('\n'),
  );
  assert.equal(entries.length, 4);
  assert.deepEqual(skipped.map((s) => s.line), [6, 7]);
  const [plain, ported, wild, hash] = entries as [typeof entries[0], typeof entries[0], typeof entries[0], typeof entries[0]];
  assert.ok(lineMatchesHost(plain, 'GitHub.com', 22));
  assert.ok(!lineMatchesHost(plain, 'github.com', 2222), 'another port is another name');
  assert.ok(lineMatchesHost(ported, 'git.example.com', 2222));
  assert.ok(!lineMatchesHost(ported, 'git.example.com', 22));
  assert.ok(lineMatchesHost(wild, 'a.corp.example', 22));
  assert.ok(!lineMatchesHost(wild, 'secret.corp.example', 22));
  assert.ok(lineMatchesHost(hash, '10.0.0.7', 2222));
  assert.ok(!lineMatchesHost(hash, '10.0.0.8', 2222));
});

test('verifyHostKey: known, unknown, changed, revoked, fingerprint, both, neither', () => {
  const kh = parseKnownHosts([line('h.example', a), line('r.example', a), line('r.example', a, '@revoked')].join('\n')).entries;
  assert.deepEqual(verifyHostKey(a, 'h.example', 22, { knownHosts: kh }), { ok: true });
  const unknown = verifyHostKey(a, 'other.example', 22, { knownHosts: kh });
  assert.equal(!unknown.ok && unknown.reason, 'unknown');
  const changed = verifyHostKey(b, 'h.example', 22, { knownHosts: kh });
  assert.equal(!changed.ok && changed.reason, 'changed');
  assert.ok(!changed.ok && changed.message.includes(fingerprintOf(b)) && changed.message.includes(`${fingerprintOf(a)} (line 1)`));
  const revoked = verifyHostKey(a, 'r.example', 22, { knownHosts: kh });
  assert.equal(!revoked.ok && revoked.reason, 'revoked');
  assert.deepEqual(verifyHostKey(a, 'any', 22, { fingerprint: fingerprintOf(a) }), { ok: true });
  assert.equal(verifyHostKey(b, 'any', 22, { fingerprint: fingerprintOf(a) }).ok, false);
  assert.equal(verifyHostKey(a, 'h.example', 22, { knownHosts: kh, fingerprint: fingerprintOf(b) }).ok, false, 'both given: both must hold');
  assert.equal(verifyHostKey(a, 'h.example', 22, {}).ok, false, 'nothing to check against: refused');
});

test('host key algorithms offered follow the known key types (RSA as its SHA-2 signatures too)', () => {
  assert.deepEqual(hostKeyAlgorithms(['ssh-ed25519', 'ssh-rsa', 'ssh-ed25519']), ['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
});
