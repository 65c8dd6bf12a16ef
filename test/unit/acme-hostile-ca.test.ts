import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { AcmeManager, type AcmeCertificateView } from '../../src/tls/acme/acme-manager.js';
import { hostCertificatePair } from '../../src/tls/acme/host-certificate.js';
import { MAX_ANSWER_BYTES } from '../../src/tls/acme/acme-http.js';
import { makeCa, makeDatedLeaf, makeLeaf } from '../support/openssl-certs.js';

/**
 * ACME servers that misbehave, as berth's ACME client meets them: one that
 * accepts connections and never answers, one that rate-limits with a
 * Retry-After of a day, one that answers garbage. Every order must fail in
 * bounded time with a reason (and its backoff), none may hold up the orders
 * of other hosts, and a certificate that cannot serve its host (from the
 * store, or as issued) is never taken as valid. The CAs are real HTTP
 * servers on 127.0.0.1; the store is berth's SQLite store.
 */
const ORDER_TIMEOUT_MS = 400;
/** Far above the order bound, far below an unbounded wait: a loaded machine still passes. */
const WITHIN_MS = 15_000;

let dir = '';
let leaves: { other: { cert: string; key: string }; own: { cert: string; key: string } };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-acme-hostile-'));
  const ca = await makeCa(dir);
  const other = await makeLeaf(dir, ca, 'other', ['other.example.com']);
  const own = await makeLeaf(dir, ca, 'own', ['a.example.com']);
  leaves = {
    other: { cert: await readFile(other.cert, 'utf8'), key: await readFile(other.key, 'utf8') },
    own: { cert: await readFile(own.cert, 'utf8'), key: await readFile(own.key, 'utf8') },
  };
});

after(() => rm(dir, { recursive: true, force: true }));

/** A CA on 127.0.0.1 answering every request with `answer` (undefined: never answers). */
async function fakeCa(answer?: (res: import('node:http').ServerResponse) => void): Promise<{ directory: string; requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    requests++;
    req.resume();
    answer?.(res);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    directory: `http://127.0.0.1:${port}/directory`,
    requests: () => requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function manager(directory: string, hosts: string[], seed: (store: SqliteStore) => Promise<void> = async () => undefined) {
  const store = new SqliteStore({ path: ':memory:' });
  await store.open();
  await seed(store);
  const acme = new AcmeManager({
    config: { email: 'ops@example.com', directory, renewBeforeMs: 30 * 86_400_000, checkEveryMs: 3_600_000 },
    store,
    logger: pino({ level: 'silent' }),
    challenges: new Map(),
    hosts: () => hosts,
    coveredByFile: () => false,
    changed: () => undefined,
    orderTimeoutMs: ORDER_TIMEOUT_MS,
  });
  await acme.start();
  return {
    acme,
    store,
    close: async () => {
      acme.close();
      await store.close();
    },
  };
}

/** Until every host's view satisfies `done`, or fails after WITHIN_MS with what was seen. */
async function until(acme: AcmeManager, done: (view: AcmeCertificateView) => boolean): Promise<AcmeCertificateView[]> {
  const deadline = Date.now() + WITHIN_MS;
  let views = acme.views();
  while (!views.every(done) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    views = acme.views();
  }
  assert.ok(views.every(done), `not settled: ${JSON.stringify(views)}`);
  return views;
}

const failedOnce = (view: AcmeCertificateView) => view.status === 'failed' && view.failures === 1;

describe('an ACME server that misbehaves', () => {
  it('one that never answers: each order fails at its bound, saying so, and the next host is still ordered', async () => {
    const ca = await fakeCa();
    const { acme, close } = await manager(ca.directory, ['a.example.com', 'b.example.com']);
    try {
      const views = await until(acme, failedOnce);
      for (const view of views) {
        assert.match(view.lastError!, new RegExp(`the ACME server at ${ca.directory} did not finish the order for ${view.host.replace(/\./g, '\\.')} within 0\\.4 s`));
        assert.ok(view.retryAt && new Date(view.retryAt).getTime() > Date.now(), 'retried later, after a backoff');
      }
    } finally {
      await close();
      await ca.close();
    }
  });

  it('one that rate-limits with Retry-After of a day: the order fails at once with the CA’s reason, and is not retried before the day is over', async () => {
    const ca = await fakeCa((res) => {
      res.writeHead(429, { 'retry-after': '86400', 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many new orders' }));
    });
    const { acme, close } = await manager(ca.directory, ['a.example.com']);
    try {
      const [view] = await until(acme, failedOnce);
      assert.match(view!.lastError!, /^the ACME server answered 429 to http:\/\/127\.0\.0\.1:\d+\/directory and asks to wait 86400 s: too many new orders$/);
      // Not asked again before the CA said, whatever berth's own backoff (1 min after a first failure).
      assert.ok(new Date(view!.retryAt!).getTime() >= Date.now() + 86_000_000, `retried at ${view!.retryAt}`);
      assert.equal(ca.requests(), 1, 'asked once');
    } finally {
      await close();
      await ca.close();
    }
  });

  it('one whose Retry-After is absurd (10^17 s): retried after a day at most; the state can still be read and the CA is not asked in a loop', async () => {
    const ca = await fakeCa((res) => {
      res.writeHead(429, { 'retry-after': '99999999999999999', 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'come back never' }));
    });
    const { acme, close } = await manager(ca.directory, ['a.example.com']);
    try {
      const [view] = await until(acme, failedOnce);
      const retryAt = new Date(view!.retryAt!).getTime();
      assert.ok(retryAt > Date.now() + 86_000_000 && retryAt <= Date.now() + 86_400_000, `retried at ${view!.retryAt}`);
      // An invalid retryAt made the next check due at once, and every check ordered again.
      const asked = ca.requests();
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(ca.requests(), asked, 'not asked again');
      assert.equal(asked, 1);
    } finally {
      await close();
      await ca.close();
    }
  });

  it('one that answers garbage: the order fails with a reason', async () => {
    const ca = await fakeCa((res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>maintenance</html>');
    });
    const { acme, close } = await manager(ca.directory, ['a.example.com']);
    try {
      const [view] = await until(acme, failedOnce);
      assert.ok(view!.lastError && view!.lastError.length > 10, `a reason: ${view!.lastError}`);
    } finally {
      await close();
      await ca.close();
    }
  });

  it('one that answers without end: the order fails at the answer size bound, not after reading all it sends', async () => {
    const CHUNK = Buffer.alloc(64 * 1024, 'x');
    const LIMIT = 64 * 1024 * 1024;
    let sent = 0;
    const ca = await fakeCa((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // Far more than any ACME answer, bounded so a failing run still ends; stops when the client goes.
      const pump = () => {
        while (!res.destroyed && sent < LIMIT) {
          sent += CHUNK.length;
          if (!res.write(CHUNK)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const { acme, close } = await manager(ca.directory, ['a.example.com']);
    try {
      const [view] = await until(acme, failedOnce);
      assert.match(view!.lastError!, new RegExp(`^the ACME server's answer to http://127\\.0\\.0\\.1:\\d+/directory is larger than ${MAX_ANSWER_BYTES} bytes$`));
      assert.ok(sent < LIMIT, `read ${sent} bytes of an endless answer`);
    } finally {
      await close();
      await ca.close();
    }
  });

  it('a stored certificate that cannot serve its host is not shown valid, and is ordered again at once', async () => {
    const ca = await fakeCa((res) => res.destroy());
    const notAfter = new Date(Date.now() + 60 * 86_400_000);
    const { acme, close } = await manager(ca.directory, ['a.example.com', 'b.example.com'], async (store) => {
      // For another name than its host; and the host's own certificate with another certificate's key.
      await store.putCertificate({ host: 'a.example.com', certPem: leaves.other.cert, keyPem: leaves.other.key, notAfter, failures: 0, updatedAt: new Date() });
      await store.putCertificate({ host: 'b.example.com', certPem: leaves.own.cert, keyPem: leaves.other.key, notAfter, failures: 0, updatedAt: new Date() });
    });
    try {
      await until(acme, failedOnce);
      assert.ok(ca.requests() > 0, 'the CA was asked');
      assert.deepEqual([...acme.certificates()], [], 'nothing served');
    } finally {
      await close();
      await ca.close();
    }
  });
});

describe('what the state says of an ACME certificate', () => {
  it('a stored certificate past its expiry reads expired, not valid, until its renewal is under way', async () => {
    const ca = await fakeCa((res) => res.destroy());
    const authority = await makeCa(dir, 'expired test CA');
    const old = await makeDatedLeaf(dir, authority, 'old', ['a.example.com'], { start: '20200101000000Z', end: '20200201000000Z' });
    const { acme, close } = await manager(ca.directory, ['a.example.com'], async (store) => {
      await store.putCertificate({ host: 'a.example.com', certPem: await readFile(old.cert, 'utf8'), keyPem: await readFile(old.key, 'utf8'), notAfter: new Date('2020-02-01T00:00:00Z'), failures: 0, updatedAt: new Date() });
    });
    try {
      // Read before the first check (a timer) runs: what a host waiting behind other hosts' orders shows.
      const [view] = acme.views();
      assert.equal(view!.status, 'expired');
      assert.equal(view!.notAfter, '2020-02-01T00:00:00.000Z');
    } finally {
      await close();
      await ca.close();
    }
  });
});

describe('a caRoot that is not a file', () => {
  it('a FIFO as caRoot fails the order saying so, instead of a read that never ends holding a libuv thread at each retry', async () => {
    const ca = await fakeCa((res) => res.destroy());
    const fifo = join(dir, 'ca-root.fifo');
    await promisify(execFile)('mkfifo', [fifo]);
    const store = new SqliteStore({ path: ':memory:' });
    await store.open();
    const acme = new AcmeManager({
      config: { email: 'ops@example.com', directory: ca.directory, caRoot: fifo, renewBeforeMs: 30 * 86_400_000, checkEveryMs: 3_600_000 },
      store,
      logger: pino({ level: 'silent' }),
      challenges: new Map(),
      hosts: () => ['a.example.com'],
      coveredByFile: () => false,
      changed: () => undefined,
      orderTimeoutMs: ORDER_TIMEOUT_MS,
    });
    try {
      await acme.start();
      const [view] = await until(acme, failedOnce);
      assert.equal(view!.lastError, `${fifo}: not a regular file (a device, pipe or socket)`);
    } finally {
      acme.close();
      await store.close();
      await ca.close();
      // The failing code's read is still blocked in open(): a writer lets it (and this file) end.
      const release = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined);
      await release?.close();
    }
  });
});

describe('hosts ACME no longer looks after', () => {
  it('a failed order of a host since removed (or given a file) does not make the checks run back to back once its backoff is over', async () => {
    const ca = await fakeCa((res) => res.destroy());
    const store = new SqliteStore({ path: ':memory:' });
    await store.open();
    const past = new Date(Date.now() - 60_000);
    await store.putCertificate({ host: 'gone.example.com', lastError: 'NXDOMAIN', failures: 3, retryAt: past, updatedAt: past });
    await store.putCertificate({ host: 'filed.example.com', lastError: 'NXDOMAIN', failures: 1, retryAt: past, updatedAt: past });
    let reads = 0;
    const counted = new Proxy(store, {
      get: (target, key, receiver) => {
        const value = Reflect.get(target, key, receiver);
        if (key !== 'listCertificates') return typeof value === 'function' ? value.bind(target) : value;
        return () => {
          reads++;
          return target.listCertificates();
        };
      },
    });
    const acme = new AcmeManager({
      config: { email: 'ops@example.com', directory: ca.directory, renewBeforeMs: 30 * 86_400_000, checkEveryMs: 3_600_000 },
      store: counted,
      logger: pino({ level: 'silent' }),
      challenges: new Map(),
      hosts: () => ['filed.example.com'],
      coveredByFile: (host) => host === 'filed.example.com',
      changed: () => undefined,
      orderTimeoutMs: ORDER_TIMEOUT_MS,
    });
    try {
      await acme.start();
      // The start's read and its first check's: then the next is an interval (an hour) away. Checks run back
      // to back (setTimeout 0, each reading the store) made thousands in this second.
      await new Promise((r) => setTimeout(r, 1_000));
      assert.ok(reads <= 3, `the store was read ${reads} times in a second`);
      assert.equal(ca.requests(), 0, 'nothing ordered');
    } finally {
      acme.close();
      await store.close();
      await ca.close();
    }
  });
});

describe('a certificate for a host', () => {
  it('is taken when it names the host, with its own key', () => {
    assert.deepEqual(hostCertificatePair('a.example.com', leaves.own.cert, leaves.own.key, 'issued').names, ['a.example.com']);
  });

  it('is refused when it names other hosts only, saying which', () => {
    assert.throws(() => hostCertificatePair('a.example.com', leaves.other.cert, leaves.other.key, 'issued'), {
      message: 'the certificate issued for a.example.com names other.example.com, not a.example.com',
    });
  });

  it('is refused when its key is not its own', () => {
    assert.throws(() => hostCertificatePair('a.example.com', leaves.own.cert, leaves.other.key, 'stored'), /the key does not belong to the certificate/);
  });
});
