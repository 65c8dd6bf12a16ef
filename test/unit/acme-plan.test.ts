import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, createPrivateKey, sign, verify } from 'node:crypto';
import { acmeHosts, dueOrders, nextCheckInMs, renewalWindowMs, retryDelayMs, RETRY_MAX_MS } from '../../src/tls/acme/renewal-plan.js';
import { acmeAccountKey } from '../../src/tls/acme/acme-account.js';
import { orderError } from '../../src/tls/acme/acme-manager.js';
import { ownRequestFailure, retryAfterSeconds } from '../../src/tls/acme/acme-http.js';
import { answerQuery } from '../support/dns-responder.js';
import type { StoredCertificate, Store } from '../../src/store/store.js';
import type { AppSpec } from '../../src/spec/types.js';

const DAY = 86_400_000;
const NOW = 1_800_000_000_000;
const RENEW = 30 * DAY;

function row(host: string, extra: Partial<StoredCertificate>): StoredCertificate {
  return { host, failures: 0, updatedAt: new Date(NOW - DAY), ...extra };
}

const stored = new Map<string, StoredCertificate>([
  ['fresh.example.com', row('fresh.example.com', { certPem: 'C', keyPem: 'K', notAfter: new Date(NOW + 60 * DAY) })],
  ['edge.example.com', row('edge.example.com', { certPem: 'C', keyPem: 'K', notAfter: new Date(NOW + 30 * DAY) })],
  ['old.example.com', row('old.example.com', { certPem: 'C', keyPem: 'K', notAfter: new Date(NOW + 29 * DAY) })],
  ['expired.example.com', row('expired.example.com', { certPem: 'C', keyPem: 'K', notAfter: new Date(NOW - DAY) })],
  ['backoff.example.com', row('backoff.example.com', { lastError: 'NXDOMAIN', failures: 2, retryAt: new Date(NOW + 60_000) })],
  ['retry.example.com', row('retry.example.com', { lastError: 'NXDOMAIN', failures: 2, retryAt: new Date(NOW - 1) })],
  ['renewfail.example.com', row('renewfail.example.com', { certPem: 'C', keyPem: 'K', notAfter: new Date(NOW + 10 * DAY), lastError: 'rate limited', failures: 1, retryAt: new Date(NOW + 60_000) })],
]);

const dueCases: Array<[host: string, expected: 'missing' | 'expiring' | undefined]> = [
  ['new.example.com', 'missing'],
  ['fresh.example.com', undefined],
  ['edge.example.com', 'expiring'], // exactly 30 days left: renewed
  ['old.example.com', 'expiring'],
  ['expired.example.com', 'expiring'],
  ['backoff.example.com', undefined], // waiting out its backoff
  ['retry.example.com', 'missing'], // the backoff is over
  ['renewfail.example.com', undefined], // a failed renewal waits too; its certificate keeps serving
  ['files.example.com', undefined], // a file certificate covers it
];
for (const [host, expected] of dueCases) {
  test(`due: ${host} → ${expected ?? 'not now'}`, () => {
    const due = dueOrders([host], stored, NOW, RENEW, (h) => h === 'files.example.com');
    assert.deepEqual(due, expected ? [{ host, reason: expected }] : []);
  });
}

test('a short-lived certificate (lifetime under renewBefore) is renewed at a third of its lifetime left, not at every check', () => {
  const short = new Map<string, StoredCertificate>([
    ['six-days.example.com', row('six-days.example.com', { certPem: 'C', keyPem: 'K', notAfter: new Date(NOW + 3 * DAY) })],
    ['six-days-late.example.com', row('six-days-late.example.com', { certPem: 'C', keyPem: 'K', notAfter: new Date(NOW + DAY) })],
    ['one-day.example.com', row('one-day.example.com', { certPem: 'C', keyPem: 'K', notAfter: new Date(NOW + 10 * 3_600_000) })],
    ['one-day-late.example.com', row('one-day-late.example.com', { certPem: 'C', keyPem: 'K', notAfter: new Date(NOW + 7 * 3_600_000) })],
    ['ninety-days.example.com', row('ninety-days.example.com', { certPem: 'C', keyPem: 'K', notAfter: new Date(NOW + 29 * DAY) })],
  ]);
  const lifetimes: Record<string, number> = { 'six-days': 6 * DAY, 'six-days-late': 6 * DAY, 'one-day': DAY, 'one-day-late': DAY, 'ninety-days': 90 * DAY };
  const lifetimeMs = (host: string) => lifetimes[host.split('.')[0]!];
  const due = dueOrders([...short.keys()], short, NOW, RENEW, () => false, () => true, lifetimeMs);
  assert.deepEqual(due, [
    { host: 'six-days-late.example.com', reason: 'expiring' },
    { host: 'one-day-late.example.com', reason: 'expiring' },
    { host: 'ninety-days.example.com', reason: 'expiring' },
  ]);
  assert.equal(renewalWindowMs(RENEW, undefined), RENEW, 'an unknown lifetime: renewBefore');
  assert.equal(renewalWindowMs(RENEW, 90 * DAY), RENEW);
  assert.equal(renewalWindowMs(RENEW, 6 * DAY), 2 * DAY);
});

const retryCases: Array<[failures: number, ms: number]> = [
  [0, 0],
  [1, 60_000],
  [2, 120_000],
  [5, 16 * 60_000],
  [12, RETRY_MAX_MS],
  [1000, RETRY_MAX_MS],
];
for (const [failures, ms] of retryCases) {
  test(`retry after ${failures} failure(s): ${ms} ms`, () => assert.equal(retryDelayMs(failures), ms));
}

test('the next check comes sooner when a backoff ends first', () => {
  assert.equal(nextCheckInMs(stored.values(), NOW, 3_600_000), 0, 'retry.example.com is already due');
  assert.equal(nextCheckInMs([stored.get('backoff.example.com')!], NOW, 3_600_000), 60_000);
  assert.equal(nextCheckInMs([stored.get('fresh.example.com')!], NOW, 3_600_000), 3_600_000);
  // A host no longer ordered (app removed, file given) keeps its past retryAt: it makes no check due.
  assert.equal(nextCheckInMs(stored.values(), NOW, 3_600_000, (host) => host !== 'retry.example.com'), 60_000);
});

test('ACME hosts: exact route hosts once each; wildcards, IPs and single labels left out', () => {
  const specs = [
    { routes: [{ host: 'a.example.com', stripPrefix: false }, { host: '*.apps.example.com', stripPrefix: false }, { path: '/x/', stripPrefix: false }] },
    { routes: [{ host: 'A.example.com', stripPrefix: false }, { host: '10.0.0.1', stripPrefix: false }, { host: 'localhost', stripPrefix: false }, { host: 'b.example.com', stripPrefix: false }] },
  ] as unknown as AppSpec[];
  assert.deepEqual(acmeHosts(specs), ['a.example.com', 'b.example.com']);
});

test('the account key is the store secret as a P-256 key: the same for every gateway on the store', async () => {
  const secret = Buffer.alloc(32, 7);
  const store = { getOrCreateSecret: async (key: string) => (key === 'acme-account' ? secret : Buffer.alloc(32)) } as unknown as Store;
  const pem = await acmeAccountKey(store);
  assert.equal(pem, await acmeAccountKey(store));
  const key = createPrivateKey(pem);
  assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const signature = sign('sha256', Buffer.from('x'), key);
  assert.ok(verify('sha256', Buffer.from('x'), createPublicKey(key), signature));
});

function query(name: string, qtype: number): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, qtype, 0, 1])]);
}

test("the test DNS responder answers A with 127.0.0.1, NXDOMAIN for the names it is told, nothing for AAAA", () => {
  const a = answerQuery(query('x.example.test', 1), () => false)!;
  assert.equal(a.readUInt16BE(0), 0x1234);
  assert.equal(a.readUInt16BE(2) & 0x000f, 0);
  assert.equal(a.readUInt16BE(6), 1);
  assert.deepEqual([...a.subarray(-4)], [127, 0, 0, 1]);
  const nx = answerQuery(query('nxdomain-x.example.test', 1), (n) => n.startsWith('nxdomain-'))!;
  assert.equal(nx.readUInt16BE(2) & 0x000f, 3);
  assert.equal(nx.readUInt16BE(6), 0);
  assert.equal(answerQuery(query('x.example.test', 28), () => false)!.readUInt16BE(6), 0);
  assert.equal(answerQuery(Buffer.from([1, 2, 3]), () => false), undefined);
});

test("an order's error: the CA's words as they are, acme-client's own TypeError for no answer told plainly", () => {
  assert.equal(orderError(new Error('DNS problem: NXDOMAIN looking up A for x.example.test'), 'https://ca/dir'), 'DNS problem: NXDOMAIN looking up A for x.example.test');
  assert.equal(orderError(new TypeError("Cannot read properties of undefined (reading 'config')"), 'https://ca/dir'), 'the ACME server at https://ca/dir did not answer (no connection, after retries)');
});

test('a stored certificate that cannot serve its host is due as missing, whatever its expiry', () => {
  const due = dueOrders(['fresh.example.com', 'old.example.com'], stored, NOW, RENEW, () => false, (h) => h !== 'fresh.example.com');
  assert.deepEqual(due, [
    { host: 'fresh.example.com', reason: 'missing' },
    { host: 'old.example.com', reason: 'expiring' },
  ]);
});

const requestFailures: Array<[name: string, failure: Parameters<typeof ownRequestFailure>[0], expected: string | undefined]> = [
  ['an order given up', { code: 'ERR_CANCELED', url: 'U', timeoutMs: 30_000 }, 'the order was given up before U answered'],
  ['no answer in time', { code: 'ECONNABORTED', url: 'U', timeoutMs: 30_000 }, 'the ACME server did not answer U within 30 s'],
  ['a rate limit of an hour', { status: 429, retryAfter: '3600', detail: 'too many', url: 'U', timeoutMs: 1 }, 'the ACME server answered 429 to U and asks to wait 3600 s: too many'],
  ['503 until a date', { status: 503, retryAfter: new Date(NOW + 120_000).toUTCString(), url: 'U', timeoutMs: 1 }, 'the ACME server answered 503 to U and asks to wait 120 s'],
  ['a short Retry-After: acme-client waits it out', { status: 429, retryAfter: '5', url: 'U', timeoutMs: 1 }, undefined],
  ['429 without Retry-After: acme-client retries', { status: 429, url: 'U', timeoutMs: 1 }, undefined],
  ['a 400 problem: acme-client reports it', { status: 400, retryAfter: '3600', url: 'U', timeoutMs: 1 }, undefined],
  ['a refused connection: acme-client retries', { code: 'ECONNREFUSED', url: 'U', timeoutMs: 1 }, undefined],
  ['an answer past the size bound', { code: 'ERR_BAD_RESPONSE', message: 'maxContentLength size of 1048576 exceeded', url: 'U', timeoutMs: 1 }, "the ACME server's answer to U is larger than 1048576 bytes"],
  ['another bad response: acme-client decides', { code: 'ERR_BAD_RESPONSE', message: 'Request failed with status code 500', status: 500, url: 'U', timeoutMs: 1 }, undefined],
];
for (const [name, failure, expected] of requestFailures) {
  test(`an ACME request failure, ${name}: ${expected ?? "left to acme-client"}`, () => assert.equal(ownRequestFailure(failure, NOW)?.message, expected));
}

test('Retry-After: seconds, an HTTP date, or nothing usable', () => {
  assert.equal(retryAfterSeconds('120', NOW), 120);
  assert.equal(retryAfterSeconds(new Date(NOW + 61_500).toUTCString(), NOW), 61);
  assert.equal(retryAfterSeconds(new Date(NOW - 5_000).toUTCString(), NOW), 0);
  assert.equal(retryAfterSeconds('soon', NOW), 0);
  assert.equal(retryAfterSeconds(undefined, NOW), 0);
});
