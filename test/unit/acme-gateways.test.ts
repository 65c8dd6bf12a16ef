import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { AcmeManager } from '../../src/tls/acme/acme-manager.js';
import { eventually } from '../support/fake-activator.js';
import { makeCa, makeLeaf } from '../support/openssl-certs.js';

/**
 * Several gateways on one PostgreSQL store each ran an ACME manager that
 * ordered every host it found missing: started together, two gateways ordered
 * the same host twice at once (spending the CA's rate limit per gateway, Let's
 * Encrypt's 5 duplicates a week), and a gateway the CA's HTTP-01 request did not
 * reach failed its order. Only the leader orders now; the others serve what the
 * store holds. Here two managers share one store, as two gateways share one.
 */
let dir = '';
let leaf: { cert: string; key: string };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-acme-gateways-'));
  const ca = await makeCa(dir);
  const files = await makeLeaf(dir, ca, 'a', ['a.example.com']);
  leaf = { cert: await readFile(files.cert, 'utf8'), key: await readFile(files.key, 'utf8') };
});

after(() => rm(dir, { recursive: true, force: true }));

it('of two gateways on one store only the leader orders a certificate; the other serves it from the store', async () => {
  const store = new SqliteStore({ path: ':memory:' });
  await store.open();
  const ordered: string[] = [];
  const leading = { a: true, b: false };
  const gateway = (id: 'a' | 'b') =>
    new AcmeManager({
      config: { email: 'ops@example.com', directory: 'https://ca.invalid/directory', renewBeforeMs: 30 * 86_400_000, checkEveryMs: 3_600_000 },
      store,
      logger: pino({ level: 'silent' }),
      challenges: new Map(),
      hosts: () => ['a.example.com'],
      coveredByFile: () => false,
      changed: () => undefined,
      obtain: async () => {
        ordered.push(id);
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { certPem: leaf.cert, keyPem: leaf.key };
      },
      orders: () => leading[id],
    });
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
