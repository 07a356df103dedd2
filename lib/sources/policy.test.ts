import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryError } from '../errors.ts';
import { AllowList, checkUrl, DEFAULT_POLICY, embeddedIPv4, forbiddenReason, parseDuration, parseSize, policyFromEnv } from './policy.ts';

describe('forbiddenReason', () => {
  const forbidden: Array<[string, RegExp]> = [
    ['127.0.0.1', /loopback/],
    ['127.255.0.9', /loopback/],
    ['10.0.0.1', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /link-local/],
    ['100.64.0.1', /carrier-grade/],
    ['100.127.255.255', /carrier-grade/],
    ['0.0.0.0', /unspecified/],
    ['224.0.0.251', /multicast/],
    ['255.255.255.255', /reserved/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['fc00::1', /unique local/],
    ['fd12:3456::1', /unique local/],
    ['fe80::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /loopback, embedded/],
    ['::ffff:169.254.169.254', /link-local/],
    ['::ffff:a9fe:a9fe', /link-local/],
    ['::ffff:10.1.1.1', /private/],
    ['64:ff9b::a9fe:a9fe', /link-local/],
    ['64:ff9b:1::a9fe:a9fe', /NAT64 local use/],
    ['64:ff9b:1:ffff::1', /NAT64 local use/],
    ['::ffff:0:a9fe:a9fe', /link-local.*embedded/],
    ['::ffff:0:127.0.0.1', /loopback, embedded/],
    ['::ffff:0:10.0.0.1', /private.*embedded/],
    ['2002:7f00:1::', /loopback/],
  ];
  for (const [addr, reason] of forbidden) {
    it(`refuses ${addr}`, () => assert.match(forbiddenReason(addr) ?? 'public', reason));
  }
  for (const addr of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '192.169.0.1']) {
    it(`allows public ${addr}`, () => assert.equal(forbiddenReason(addr), undefined));
  }
  it('extracts embedded IPv4', () => {
    assert.equal(embeddedIPv4('::ffff:7f00:1'), '127.0.0.1');
    assert.equal(embeddedIPv4('2001:db8::1'), undefined);
  });
});

describe('AllowList', () => {
  const allow = new AllowList(['127.0.0.0/8', '10.1.0.0/16', 'fd00::/8', '192.168.5.5', 'minio.internal', '*.svc.cluster.local']);
  it('matches CIDRs, single addresses, mapped forms', () => {
    assert.ok(allow.allowsAddress('127.0.0.1'));
    assert.ok(allow.allowsAddress('10.1.200.3'));
    assert.ok(!allow.allowsAddress('10.2.0.1'));
    assert.ok(allow.allowsAddress('fd00::5'));
    assert.ok(allow.allowsAddress('192.168.5.5'));
    assert.ok(!allow.allowsAddress('192.168.5.6'));
    assert.ok(allow.allowsAddress('::ffff:127.0.0.1'));
  });
  it('matches host names exactly or by *. suffix, case-insensitively', () => {
    assert.ok(allow.allowsHost('MINIO.internal'));
    assert.ok(allow.allowsHost('s3.minio-system.svc.cluster.local'));
    assert.ok(!allow.allowsHost('svc.cluster.local.evil.com'));
    assert.ok(!allow.allowsHost('other.internal'));
  });
});

describe('checkUrl', () => {
  const none = { allowPrivate: [] as string[] };
  const code = async (p: Promise<void>) => {
    try {
      await p;
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof RegistryError);
      return e.code;
    }
  };
  it('refuses IP literals in forbidden ranges, including bracketed IPv6', async () => {
    assert.equal(await code(checkUrl(new URL('https://169.254.169.254/latest'), none, { allowHttp: false })), 'url_forbidden');
    assert.equal(await code(checkUrl(new URL('https://[::1]:8443/'), none, { allowHttp: false })), 'url_forbidden');
    assert.equal(await code(checkUrl(new URL('https://[::ffff:10.0.0.1]/'), none, { allowHttp: false })), 'url_forbidden');
    assert.equal(await code(checkUrl(new URL('https://0x7f.1/'), none, { allowHttp: false })), 'url_forbidden'); // WHATWG parses it as 127.0.0.1
    assert.equal(await code(checkUrl(new URL('https://[::1]:8443/'), { allowPrivate: ['::1/128'] }, { allowHttp: false })), 'ok');
  });
  it('checks every address of a name', async () => {
    const lookup = ((_h: string, _o: unknown, cb: (e: null, a: unknown) => void) =>
      cb(null, [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }])) as never;
    assert.equal(await code(checkUrl(new URL('https://mixed.example/'), { allowPrivate: [], lookup }, { allowHttp: false })), 'url_forbidden');
  });
  it('a failing DNS lookup is a transient source_unavailable', async () => {
    const lookup = ((_h: string, _o: unknown, cb: (e: Error) => void) => cb(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }))) as never;
    await assert.rejects(checkUrl(new URL('https://nowhere.invalid/'), { allowPrivate: [], lookup }, { allowHttp: false }), (e: unknown) => {
      assert.ok(e instanceof RegistryError);
      assert.equal(e.code, 'source_unavailable');
      assert.match(e.message, /ENOTFOUND/);
      return true;
    });
  });
});

describe('policyFromEnv', () => {
  it('defaults', () => {
    const p = policyFromEnv({});
    assert.equal(p.maxBytes, 100 * 1024 * 1024);
    assert.equal(p.maxRedirects, 5);
    assert.deepEqual(p.allowPrivate, []);
    assert.deepEqual(p, { ...DEFAULT_POLICY });
  });
  it('parses every knob', () => {
    const p = policyFromEnv({
      MCPREG_FETCH_MAX_BYTES: '5MiB',
      MCPREG_FETCH_CONNECT_TIMEOUT: '2s',
      MCPREG_FETCH_TIMEOUT: '1m30s',
      MCPREG_FETCH_MAX_REDIRECTS: '0',
      MCPREG_ALLOW_PRIVATE_NETWORKS: '10.0.0.0/8, minio.internal ,fd00::/8',
      MCPREG_FETCH_RETRIES: '1',
      MCPREG_FETCH_RETRY_BASE: '250ms',
      MCPREG_FETCH_RETRY_MAX_WAIT: '10',
      MCPREG_REGISTRY_MAX_PAGES: '20',
      MCPREG_REGISTRY_MAX_ENTRIES: '1000',
    });
    assert.equal(p.maxBytes, 5 * 1024 * 1024);
    assert.equal(p.connectTimeoutMs, 2000);
    assert.equal(p.totalTimeoutMs, 90_000);
    assert.equal(p.maxRedirects, 0);
    assert.deepEqual(p.allowPrivate, ['10.0.0.0/8', 'minio.internal', 'fd00::/8']);
    assert.equal(p.retries, 1);
    assert.equal(p.retryBaseMs, 250);
    assert.equal(p.retryMaxWaitMs, 10_000);
    assert.equal(p.maxPages, 20);
    assert.equal(p.maxEntries, 1000);
  });
  it('names the variable of a bad value', () => {
    for (const [k, v] of [
      ['MCPREG_FETCH_MAX_BYTES', 'lots'],
      ['MCPREG_FETCH_TIMEOUT', '5 minutes'],
      ['MCPREG_FETCH_MAX_REDIRECTS', '-1'],
      ['MCPREG_ALLOW_PRIVATE_NETWORKS', '10.0.0.0/99'],
      ['MCPREG_ALLOW_PRIVATE_NETWORKS', 'http://x'],
      ['MCPREG_FETCH_CA_FILE', '/nonexistent/ca.pem'],
    ] as const) {
      assert.throws(() => policyFromEnv({ [k]: v }), (e: unknown) => e instanceof RegistryError && e.code === 'invalid_argument' && e.message.includes(k));
    }
  });
  it('size and duration parsers', () => {
    assert.equal(parseSize('100MB'), 100_000_000);
    assert.equal(parseSize('1k'), 1024);
    assert.equal(parseSize('0'), undefined);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('1.5'), 1500);
    assert.equal(parseDuration('soon'), undefined);
  });
});
