import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Authenticator, parseTokenFile, splitCsvLine } from './auth.ts';

test('static token files: quoted group lists, comments, errors with the line', () => {
  const entries = parseTokenFile('# admin\nt1,alice,u1,"devs,ops"\n\nt2,system:serviceaccount:ns:sa,u2\n', 'tokens.csv');
  assert.deepEqual(entries, [
    { token: 't1', user: 'alice', uid: 'u1', groups: ['devs', 'ops'], origin: 'file' },
    { token: 't2', user: 'system:serviceaccount:ns:sa', uid: 'u2', groups: [], origin: 'file' },
  ]);
  assert.deepEqual(splitCsvLine('a,"b ""c"",d",e'), ['a', 'b "c",d', 'e']);
  assert.throws(() => parseTokenFile('ok,u,1\nonly,two\n', 'tokens.csv'), (e: { describe(): string }) => e.describe() === 'tokens.csv line 2: token file lines need at least 3 columns: token,user,uid[,"group1,group2"]');
  assert.throws(() => parseTokenFile('t,"u,1\n', 'f'), /unterminated/);
});

test('bearer tokens authenticate with system:authenticated added; expired and unknown tokens do not', () => {
  const a = new Authenticator({ anonymous: false });
  a.add({ token: 'good', user: 'alice', groups: ['devs'] });
  a.add({ token: 'old', user: 'bob', expires: Date.now() - 1 });
  assert.deepEqual(a.authenticate('Bearer good'), { username: 'alice', groups: ['devs', 'system:authenticated'] });
  assert.equal(a.authenticate('Bearer old'), undefined);
  assert.equal(a.authenticate('Bearer nope'), undefined);
  assert.equal(a.authenticate('Basic Zm9vOmJhcg=='), undefined);
  assert.equal(a.authenticate(undefined), undefined);
  assert.deepEqual(new Authenticator({ anonymous: true }).authenticate(undefined), { username: 'system:anonymous', groups: ['system:unauthenticated'] });
});
