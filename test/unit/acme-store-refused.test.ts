import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { StoreUnavailableError } from '../../src/errors.js';
import type { Store } from '../../src/store/store.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { AcmeManager } from '../../src/tls/acme/acme-manager.js';
import { eventually } from '../support/fake-activator.js';
import { issuedCertificate, testAcmeManager } from '../support/acme-fixture.js';

/**
 * A certificate the CA issued while the store refused writes (a PostgreSQL
 * failover, a full disk) was taken for a failed order: thrown away, the host
 * shown failed, and ordered again after the backoff, spending the CA's rate
 * limit (Let's Encrypt: 5 duplicates a week) on a store outage. It now serves
 * from memory, its write is tried again with backoff, GET /v1/certificates
 * says so in lastError, and it is not ordered again.
 */
let leaf: Awaited<ReturnType<typeof issuedCertificate>>;

before(async () => {
  leaf = await issuedCertificate();
});

after(() => leaf.dispose());

/** A store whose certificate writes are refused while `state.refuse`; `state.puts` counts the tries. */
function refusingStore(sqlite: SqliteStore, state: { refuse: boolean; puts: number }): Store {
  return new Proxy(sqlite, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key !== 'putCertificate') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: Parameters<Store['putCertificate']>) => {
        state.puts++;
        if (state.refuse) throw new StoreUnavailableError('the store cannot be reached');
        return target.putCertificate(...args);
      };
    },
  });
}

/** An ACME manager for a.example.com whose orders `obtain` answers at once (no CA). */
function manager(store: Store, obtain: () => Promise<{ certPem: string; keyPem: string }>, storeRetry: { firstMs: number; maxMs: number }): AcmeManager {
  return testAcmeManager(store, obtain, { storeRetry });
}

it('an issued certificate the store refuses is served from memory, written again with backoff, and never ordered twice', async () => {
  const sqlite = new SqliteStore({ path: ':memory:' });
  await sqlite.open();
  const state = { refuse: true, puts: 0 };
  let orders = 0;
  const acme = manager(
    refusingStore(sqlite, state),
    async () => {
      orders++;
      return { certPem: leaf.certPem, keyPem: leaf.keyPem };
    },
    { firstMs: 20, maxMs: 80 },
  );
  try {
    await acme.start();
    await eventually('the certificate is issued and served', () => [...acme.certificates()].length === 1, 10_000);
    const view = acme.views()[0]!;
    assert.equal(view.status, 'valid', JSON.stringify(view));
    assert.match(view.lastError ?? '', /not stored yet.*the store cannot be reached/);
    // A check meanwhile (an app's hosts changed) finds the certificate held: no second order.
    acme.hostsChanged();
    await eventually('the write is tried again, backing off', () => state.puts >= 4, 10_000);
    assert.equal(orders, 1, 'not ordered again while the store refuses it');

    state.refuse = false;
    await eventually('the certificate reaches the store', () => state.puts >= 5 && acme.views()[0]?.lastError === undefined, 10_000);
    const stored = await sqlite.listCertificates();
    assert.equal(stored[0]?.certPem, leaf.certPem);
    assert.equal(acme.views()[0]?.status, 'valid');
    assert.equal(orders, 1);
  } finally {
    await acme.close();
    await sqlite.close();
  }
});

it('a certificate the store has not taken yet is written once more when the gateway stops', async () => {
  const sqlite = new SqliteStore({ path: ':memory:' });
  await sqlite.open();
  const state = { refuse: true, puts: 0 };
  // No retry comes before the stop: only close() can store it.
  const acme = manager(refusingStore(sqlite, state), async () => ({ certPem: leaf.certPem, keyPem: leaf.keyPem }), { firstMs: 600_000, maxMs: 600_000 });
  try {
    await acme.start();
    await eventually('the certificate is issued and served, not stored', () => [...acme.certificates()].length === 1 && acme.views()[0]?.lastError !== undefined, 10_000);
    state.refuse = false;
    await acme.close();
    const stored = await sqlite.listCertificates();
    assert.equal(stored[0]?.certPem, leaf.certPem, 'stored at the stop');
  } finally {
    await acme.close();
    await sqlite.close();
  }
});
