import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { eventually } from '../support/fake-activator.js';
import { issuedCertificate, testAcmeManager } from '../support/acme-fixture.js';

/**
 * Several gateways on one PostgreSQL store each ran an ACME manager that
 * ordered every host it found missing: started together, two gateways ordered
 * the same host twice at once (spending the CA's rate limit per gateway, Let's
 * Encrypt's 5 duplicates a week), and a gateway the CA's HTTP-01 request did not
 * reach failed its order. Only the leader orders now; the others serve what the
 * store holds. Here two managers share one store, as two gateways share one.
 */
let leaf: Awaited<ReturnType<typeof issuedCertificate>>;

before(async () => {
  leaf = await issuedCertificate();
});

after(() => leaf.dispose());

it('of two gateways on one store only the leader orders a certificate; the other serves it from the store', async () => {
  const store = new SqliteStore({ path: ':memory:' });
  await store.open();
  const ordered: string[] = [];
  const leading = { a: true, b: false };
  const gateway = (id: 'a' | 'b') =>
    testAcmeManager(
      store,
      async () => {
        ordered.push(id);
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { certPem: leaf.certPem, keyPem: leaf.keyPem };
      },
      { orders: () => leading[id] },
    );
  const [a, b] = [gateway('a'), gateway('b')];
  try {
    await Promise.all([a.start(), b.start()]);
    await eventually('the leader serves the certificate', () => [...a.certificates()].length === 1, 10_000);
    // The follower's next check (an app's hosts changed) reads what the leader stored.
    b.hostsChanged();
    await eventually('the follower serves it too', () => [...b.certificates()].length === 1, 10_000);
    assert.deepEqual(ordered, ['a'], 'ordered once, by the leader');
    assert.equal(b.views()[0]?.status, 'valid');
  } finally {
    await a.close();
    await b.close();
    await store.close();
  }
});
