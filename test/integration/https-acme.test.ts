import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore } from '../../src/store/open-store.js';
import { APP_IMAGE } from '../support/images.js';
import { cleanupByLabel, testRun } from '../support/docker-cleanup.js';
import { waitFor } from '../support/wait-for.js';
import { DnsResponder } from '../support/dns-responder.js';
import { GatewayHarness, httpGet } from '../support/gateway-harness.js';
import { freePort } from '../support/free-port.js';
import { Pebble } from '../support/pebble.js';
import type { CertificateItem } from '../support/certificate-item.js';
import { h2Request, servedCertificate } from '../support/tls-client.js';

/**
 * ACME against Let's Encrypt's test CA (pebble) on 127.0.0.1, with real HTTP-01
 * validation: pebble resolves the route hosts through a DNS responder of the
 * test's own (127.0.0.1 for all, NXDOMAIN for the host meant to fail) and fetches
 * the challenge from berth's plain listener. Only the test's clients trust
 * pebble's root. The renewal path runs within the test: the stored certificate's
 * notAfter is brought within its renewal window, as time would bring it (pebble's
 * certificates live for years, and one is renewed at a third of its lifetime left
 * at most, whatever renewBefore says: a renewBefore longer than they live no longer
 * renews at every check).
 */
const run = testRun();
const app = `acme${run.id}`;
const goodHost = `${app}.example.test`;
const badHost = `nxdomain-${app}.example.test`;


describe('HTTPS with certificates from ACME (pebble)', () => {
  let h: GatewayHarness | undefined;
  let dns: DnsResponder | undefined;
  let pebble: Pebble | undefined;
  let root = '';
  let tlsPort = 0;

  const certificates = async (): Promise<CertificateItem[]> => (await h!.api('GET', '/v1/certificates')).json.items as CertificateItem[];
  const item = async (host: string) => (await certificates()).find((c) => c.host === host);

  before(async () => {
    dns = await DnsResponder.start((name) => name.startsWith('nxdomain-'));
    const plainPort = await freePort();
    pebble = await Pebble.start({ httpPort: plainPort, dnsPort: dns.port });
    root = await pebble.issuerRoot();
    h = await GatewayHarness.create(run.labels);
    await h.writeConfig(
      `tls:\n  listen: 127.0.0.1:0\n  redirect: true\n  acme:\n    email: ops@example.test\n    directory: ${pebble.directory}\n    caRoot: ${pebble.caFile}\n    renewBefore: 36500d\n    checkEvery: 3s\n`,
    );
    // The config's listen is replaced: pebble validates HTTP-01 on this port.
    await writeFile(h.configFile, (await readFile(h.configFile, 'utf8')).replace('listen: 127.0.0.1:0\nadmin', `listen: 127.0.0.1:${plainPort}\nadmin`));
    await h.writeApp('app.yaml', `apiVersion: berth/v1\nname: ${app}\nimage: ${APP_IMAGE}\nport: 8080\nreadiness: {path: /healthz}\nroutes:\n  - host: ${goodHost}\n  - host: ${badHost}\n  - host: "*.wild.example.test"\n`);
    await h.start();
    tlsPort = h.gateway!.httpsAddress!.port;
  });

  after(async () => {
    await h?.dispose();
    await pebble?.stop();
    await dns?.close();
    await cleanupByLabel(run.label);
  });

  test('a certificate is obtained for an exact route host by HTTP-01 and served by SNI', async () => {
    const got = await waitFor('a certificate for the good host', async () => {
      const c = await item(goodHost);
      return c?.notAfter ? c : undefined;
    }, { timeoutMs: 45_000, intervalMs: 250 });
    assert.equal(got.source, 'acme');
    assert.equal(got.lastError, undefined);
    const served = await waitFor('the ACME certificate served', () => servedCertificate(tlsPort, goodHost, root), { timeoutMs: 45_000, intervalMs: 250 });
    assert.match(served.cert.subjectaltname ?? '', new RegExp(`DNS:${goodHost}`));
    assert.match(JSON.stringify(served.cert.issuer), /Pebble/i, 'issued by pebble');
    assert.equal((await certificates()).some((c) => c.host === '*.wild.example.test'), false, 'wildcards are left to files (DNS-01)');
  });

  test('an HTTP/2 request over the ACME certificate reaches the app, and plain HTTP is redirected', async () => {
    const reply = await h2Request(tlsPort, goodHost, '/ping', root);
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'pong');
    const plain = await httpGet(h!.port, '/x?y=1', { host: goodHost });
    assert.equal(plain.status, 308);
    assert.equal(plain.headers.location, `https://${goodHost}:${tlsPort}/x?y=1`);
  });

  test('the certificate is renewed when within renewBefore of its expiry, and the new one is served', async () => {
    const first = await servedCertificate(tlsPort, goodHost, root);
    // As time would: the stored certificate ends in a minute (the gateway reads the store at every check).
    const store = await openStore(join(h!.dir, 'berth.db'));
    try {
      const row = (await store.listCertificates()).find((c) => c.host === goodHost);
      assert.ok(row?.certPem);
      await store.putCertificate({ ...row, notAfter: new Date(Date.now() + 60_000), updatedAt: new Date() });
    } finally {
      await store.close();
    }
    const renewed = await waitFor('a renewed certificate served', async () => {
      const served = await servedCertificate(tlsPort, goodHost, root);
      return served.cert.serialNumber !== first.cert.serialNumber ? served : undefined;
    }, { timeoutMs: 45_000, intervalMs: 250 });
    assert.match(renewed.cert.subjectaltname ?? '', new RegExp(`DNS:${goodHost}`));
    // Kept in the store: another gateway on it would serve the same one.
    const other = await openStore(join(h!.dir, 'berth.db'));
    try {
      const stored = (await other.listCertificates()).find((c) => c.host === goodHost);
      assert.ok(stored?.certPem?.includes('BEGIN CERTIFICATE'));
      assert.ok(stored?.notAfter && stored.notAfter.getTime() > Date.now());
    } finally {
      await other.close();
    }
  });

  test("a failed order is shown in the API with the CA's reason, and retried later", async () => {
    const failed = await waitFor('the failed order in the API', async () => {
      const c = await item(badHost);
      return c?.status === 'failed' ? c : undefined;
    }, { timeoutMs: 45_000, intervalMs: 250 });
    assert.match(failed.lastError ?? '', /NXDOMAIN|DNS problem/i, failed.lastError);
    assert.ok(failed.failures >= 1);
    assert.ok(failed.retryAt && Date.parse(failed.retryAt) > Date.now(), 'a retry is scheduled after a backoff');
    assert.equal(failed.notAfter, undefined);
    await assert.rejects(servedCertificate(tlsPort, badHost, root), 'no certificate is served for it');
    const metrics = (await h!.api('GET', '/v1/metrics')).text;
    assert.match(metrics, new RegExp(`berth_certificate_order_failures\\{name="${badHost}"\\} [1-9]`));
    assert.match(metrics, new RegExp(`berth_certificate_expiry_timestamp_seconds\\{name="${goodHost}",source="acme"\\} \\d`));
  });
});
