// ACME with two gateways on one PostgreSQL store, against pebble with real HTTP-01
// validation. Only the leader orders; the CA's request for the challenge is sent to
// the other gateway (pebble validates on one port: the follower's plain listener),
// as a load balancer or a DNS name in front of several gateways may do. That
// gateway kept no token: it answered 404 and the order failed, until every gateway
// of a shared store answered any token with the store's one account thumbprint.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testRun } from '../support/docker-cleanup.js';
import { DnsResponder } from '../support/dns-responder.js';
import { freePort } from '../support/free-port.js';
import { disposeGateways, GatewayProcess } from '../support/gateway-process.js';
import { testAppJson } from '../support/app-spec.js';
import { Pebble } from '../support/pebble.js';
import type { CertificateItem } from '../support/certificate-item.js';
import { createTestDatabase, databaseExists, pgSkip, type TestDatabase } from '../support/pg-test-db.js';
import { waitFor } from '../support/wait-for.js';

const skip = pgSkip();
const run = testRun();
const app = `acmegw${run.id}`;
const host = `${app}.example.test`;

describe('ACME with several gateways on one store (pebble)', { skip, timeout: 180_000 }, () => {
  let db: TestDatabase | undefined;
  let dns: DnsResponder | undefined;
  let pebble: Pebble | undefined;
  const gws: GatewayProcess[] = [];

  const certificate = async (gw: GatewayProcess): Promise<CertificateItem | undefined> =>
    ((await gw.api('GET', '/v1/certificates')).json.items as CertificateItem[]).find((c) => c.host === host);

  before(async () => {
    db = await createTestDatabase();
    dns = await DnsResponder.start(() => false);
    const followerPort = await freePort();
    pebble = await Pebble.start({ httpPort: followerPort, dnsPort: dns.port });
    const tls = `tls:\n  listen: 127.0.0.1:0\n  acme:\n    email: ops@example.test\n    directory: ${pebble.directory}\n    caRoot: ${pebble.caFile}\n    checkEvery: 3s\n`;
    const start = (id: string, listen?: string) =>
      GatewayProcess.start({ apps: {}, store: db!.url, appsNetwork: 'none', extraConfig: tls, env: { BERTH_GATEWAY_ID: `gw-${id}-${run.id}` }, ...(listen ? { listen } : {}) });
    gws.push(await start('a'));
    await waitFor('gateway A leads', async () => (await gws[0]!.api('GET', '/v1/gateways')).json.leader === `gw-a-${run.id}`, { timeoutMs: 10_000 });
    gws.push(await start('b', `127.0.0.1:${followerPort}`));
  });

  after(async () => {
    await disposeGateways(gws, [app], `berth-test-run=${run.id}`);
    await pebble?.stop();
    await dns?.close();
    if (db) {
      await db.drop();
      assert.equal(await databaseExists(db.name), false);
    }
  });

  test('the leader orders; the CA validates through the follower, which answers a token it never saw; both serve the certificate', async () => {
    const [a, b] = [gws[0]!, gws[1]!];
    const applied = await a.api('POST', '/v1/apps', testAppJson(app, { 'berth-test': 'true', 'berth-test-run': run.id }, { routes: [{ host }] }));
    assert.equal(applied.status, 200, JSON.stringify(applied.json));
    const issued = await waitFor('a certificate ordered by the leader', async () => {
      const c = await certificate(a);
      if (c?.lastError) throw new Error(`the order failed: ${c.lastError}`);
      return c?.notAfter && c.status === 'valid' ? c : undefined;
    }, { timeoutMs: 90_000, intervalMs: 500 });
    assert.equal(issued.source, 'acme');
    // The follower ordered nothing itself; it serves what the leader stored.
    const served = await waitFor('the follower serves it', async () => {
      const c = await certificate(b);
      return c?.status === 'valid' ? c : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    assert.equal(served.notAfter, issued.notAfter);
    // A token nobody ordered is answered too, with the store's account thumbprint; junk is not.
    const token = 'A'.repeat(43);
    const [atA, atB] = await Promise.all([a, b].map(async (gw) => (await fetch(`http://127.0.0.1:${gw.proxyPort}/.well-known/acme-challenge/${token}`)).text()));
    assert.match(atB!, new RegExp(`^${token}\\.[A-Za-z0-9_-]{43}$`));
    assert.equal(atA, atB, 'one account: the same answer at every gateway');
    const junk = await fetch(`http://127.0.0.1:${b.proxyPort}/.well-known/acme-challenge/short`);
    assert.equal(junk.status, 404);
  });
});
