import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import type { TlsConfig } from '../../src/config/config.js';
import { certificatePair, type CertificatePair } from '../../src/tls/certificate-pair.js';
import { MAX_PEM_FILE_BYTES, readCertificateFiles, replacementRefusal } from '../../src/tls/file-certificates.js';
import { TlsEdge } from '../../src/tls/tls-edge.js';
import { crashingStore } from '../support/crashing-store.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { makeCa, makeDatedLeaf, makeLeaf, type TestCa } from '../support/openssl-certs.js';

/**
 * Certificate files as a careless operator or a hostile neighbour leaves
 * them: a FIFO, a device or a directory where a PEM file should be, a file of
 * gigabytes, a chain pasted in the wrong order, and an expired or not yet
 * valid certificate copied over a good one. Each is refused at once, naming
 * the file, and a refused change leaves the certificate served before serving
 * and says why in the certificates' state. Real files and openssl certificates.
 */
const WITHIN_MS = 15_000;
const logger = pino({ level: 'silent' });

let dir = '';
let ca: TestCa;
let good: { cert: string; key: string };
let expired: { cert: string; key: string };
let future: { cert: string; key: string };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-tls-files-'));
  ca = await makeCa(dir);
  good = await makeLeaf(dir, ca, 'good', ['a.test']);
  expired = await makeDatedLeaf(dir, ca, 'expired', ['a.test'], { start: '20200101000000Z', end: '20200201000000Z' });
  future = await makeDatedLeaf(dir, ca, 'future', ['a.test'], { start: '20990101000000Z', end: '20990201000000Z' });
});

after(() => rm(dir, { recursive: true, force: true }));

/** What `work` settles to, or a failure once WITHIN_MS have passed (a read that blocks for good). */
async function settled<T>(work: Promise<T>): Promise<{ value?: T; error?: Error; late?: true }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ late: true }>((resolve) => (timer = setTimeout(() => resolve({ late: true }), WITHIN_MS)));
  try {
    return await Promise.race([work.then((value) => ({ value }), (error: Error) => ({ error })), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WITHIN_MS;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${WITHIN_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('certificate files that are not what they seem', () => {
  it('a FIFO in place of the certificate is refused at once (readFile blocked until a writer came)', async () => {
    const fifo = join(dir, 'fifo.crt');
    await promisify(execFile)('mkfifo', [fifo]);
    const reading = readCertificateFiles({ cert: fifo, key: good.key });
    const outcome = await settled(reading);
    if (outcome.late) {
      // The failing code's read is still blocked in open(): a writer lets it (and this file) end.
      await writeFile(fifo, '');
      await reading.catch(() => undefined);
    }
    assert.equal(outcome.late, undefined, 'the read ended');
    assert.match(outcome.error?.message ?? '', new RegExp(`^${fifo}: not a regular file`));
  });

  it('/dev/zero behind a symlink, and a directory, are refused by their type, not read', async () => {
    const zero = join(dir, 'zero.key');
    await symlink('/dev/zero', zero);
    const device = await settled(readCertificateFiles({ cert: good.cert, key: zero }));
    assert.match(device.error?.message ?? '', new RegExp(`^${zero}: not a regular file \\(a device, pipe or socket\\)`));
    const folder = join(dir, 'folder.crt');
    await mkdir(folder);
    const directory = await settled(readCertificateFiles({ cert: folder, key: good.key }));
    assert.match(directory.error?.message ?? '', new RegExp(`^${folder}: not a regular file \\(a directory\\)`));
  });

  it('a file past the size bound is refused by its size, not read whole', async () => {
    const huge = join(dir, 'huge.crt');
    const handle = await open(huge, 'w');
    await handle.truncate(MAX_PEM_FILE_BYTES + 1); // sparse: no disk taken
    await handle.close();
    const outcome = await settled(readCertificateFiles({ cert: huge, key: good.key }));
    assert.match(outcome.error?.message ?? '', new RegExp(`^${huge}: ${MAX_PEM_FILE_BYTES + 1} bytes, more than a certificate chain or key holds`));
  });

  it('a chain in the wrong order (the CA first) is said to be, not blamed on the key', async () => {
    const chain = join(dir, 'wrong-order.crt');
    await writeFile(chain, ca.pem + (await readFile(good.cert, 'utf8')));
    const outcome = await settled(readCertificateFiles({ cert: chain, key: good.key }));
    assert.match(outcome.error?.message ?? '', new RegExp(`^${chain}: the chain is in the wrong order: the certificate of ${good.key} is number 2 in the file`));
    // The right order is taken.
    await writeFile(chain, (await readFile(good.cert, 'utf8')) + ca.pem);
    assert.deepEqual((await readCertificateFiles({ cert: chain, key: good.key })).names, ['a.test']);
  });
});

describe('a certificate clients would refuse', () => {
  const pair = (files: { cert: string; key: string }): Promise<CertificatePair> => readCertificateFiles(files);

  it('never replaces a valid one; replaces one as unusable as itself; a valid one replaces anything', async () => {
    const [valid, old, early] = [await pair(good), await pair(expired), await pair(future)];
    const now = Date.now();
    assert.match(replacementRefusal(valid, old, now) ?? '', /^the certificate is expired on 2020-02-01T00:00:00\.000Z, and the one it would replace is valid until /);
    assert.match(replacementRefusal(valid, early, now) ?? '', /^the certificate is not valid before 2099-01-01T00:00:00\.000Z/);
    assert.equal(replacementRefusal(old, early, now), undefined);
    assert.equal(replacementRefusal(undefined, old, now), undefined);
    assert.equal(replacementRefusal(old, valid, now), undefined);
    assert.equal(replacementRefusal(valid, certificatePair(valid.certPem, valid.keyPem, good), now), undefined);
  });

  it('copied over a served one: refused by the watcher and by a reload, the old one serving and the state saying why; a valid one is then taken', async () => {
    const live = join(dir, 'live');
    await mkdir(live);
    const files = { cert: join(live, 'cert.pem'), key: join(live, 'key.pem') };
    await copyFile(good.cert, files.cert);
    await copyFile(good.key, files.key);
    const config: TlsConfig = { listen: { host: '127.0.0.1', port: 0 }, certificates: [files], redirect: false };
    const edge = new TlsEdge(config, { logger, specs: () => new Map(), tlsPort: () => 443 });
    try {
      await edge.loadFiles(config);
      const served = edge.contextFor('a.test');
      assert.ok(served);
      const before = edge.fileViews()[0]!;
      assert.equal(before.status, 'valid');

      await copyFile(expired.key, files.key);
      await copyFile(expired.cert, files.cert);
      await until(() => /expired on 2020-02-01/.test(edge.fileViews()[0]!.lastError ?? ''), 'the state says why the expired certificate was refused');
      assert.equal(edge.contextFor('a.test'), served, 'the valid certificate serves on');
      assert.equal(edge.fileViews()[0]!.notAfter, before.notAfter);
      assert.equal(edge.fileViews()[0]!.status, 'valid');
      await assert.rejects(edge.loadFiles(config), (err: Error) => err.name === 'ConfigError' && err.message.includes(`tls.certificates[0]: ${files.cert}: the certificate is expired on 2020-02-01`));
      assert.equal(edge.contextFor('a.test'), served, 'the refused reload changed nothing');

      const renewed = await makeLeaf(dir, ca, 'renewed', ['a.test']);
      await copyFile(renewed.key, files.key);
      await copyFile(renewed.cert, files.cert);
      await until(() => edge.contextFor('a.test') !== served && edge.fileViews()[0]!.lastError === undefined, 'the renewed certificate is served and the error cleared');
    } finally {
      edge.close();
    }
  });

  it('one valid a moment from now (a CA clock a little ahead): refused until then, then taken without another change of the files', async () => {
    const live = join(dir, 'soon');
    await mkdir(live);
    const files = { cert: join(live, 'cert.pem'), key: join(live, 'key.pem') };
    await copyFile(good.cert, files.cert);
    await copyFile(good.key, files.key);
    const config: TlsConfig = { listen: { host: '127.0.0.1', port: 0 }, certificates: [files], redirect: false };
    const edge = new TlsEdge(config, { logger, specs: () => new Map(), tlsPort: () => 443 });
    try {
      await edge.loadFiles(config);
      const served = edge.contextFor('a.test');
      const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
      // Far enough ahead that the watcher (a poll a second) reads it before it is valid.
      const soon = await makeDatedLeaf(dir, ca, 'soon', ['a.test'], { start: stamp(Date.now() + 2_500), end: stamp(Date.now() + 86_400_000) });
      await copyFile(soon.key, files.key);
      await copyFile(soon.cert, files.cert);
      await until(() => /not valid before/.test(edge.fileViews()[0]!.lastError ?? '') || edge.contextFor('a.test') !== served, 'the early certificate read');
      await until(() => edge.contextFor('a.test') !== served && edge.fileViews()[0]!.lastError === undefined, 'the certificate taken once valid');
      assert.equal(edge.fileViews()[0]!.status, 'valid');
    } finally {
      edge.close();
    }
  });

  it('at start one not valid yet is served, and its state says so rather than valid', async () => {
    const config: TlsConfig = { listen: { host: '127.0.0.1', port: 0 }, certificates: [future], redirect: false };
    const edge = new TlsEdge(config, { logger, specs: () => new Map(), tlsPort: () => 443 });
    try {
      await edge.loadFiles(config);
      assert.ok(edge.contextFor('a.test'));
      assert.equal(edge.fileViews()[0]!.status, 'not-yet-valid');
    } finally {
      edge.close();
    }
  });
});

describe('a config reload that fails after its certificate files checked out', () => {
  it('a store failing as the reload commits: the certificates served before serve on, the next reload takes the new ones', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const other = await makeLeaf(dir, ca, 'other', ['b.test']);
    const config = (files: { cert: string; key: string }) =>
      `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\npolicy:\n  images: ["fake/*"]\napps: []\ntls:\n  listen: 127.0.0.1:0\n  certificates:\n    - {cert: ${files.cert}, key: ${files.key}}\n`;
    await writeFile(join(bed.dir, 'berth.yaml'), config(good));
    let crash!: ReturnType<typeof crashingStore>;
    let failing = true;
    bed.wrapStore = (store) => {
      crash = crashingStore(store, { method: 'applyApps', when: 'before' });
      // Once the test says so, the store answers again (the crashed one stays dead).
      return new Proxy(crash.store, { get: (target, key, receiver) => (failing ? Reflect.get(target, key, receiver) : Reflect.get(store, key)) });
    };
    const gateway = await bed.start();
    const names = () => gateway.certificates().flatMap((c) => ('names' in c ? c.names : []));
    assert.deepEqual(names(), ['a.test']);
    crash.arm();
    await writeFile(join(bed.dir, 'berth.yaml'), config(other));
    const refused = await gateway.reload();
    assert.equal(refused.applied, false);
    assert.match(refused.error ?? '', /killed/);
    assert.deepEqual(names(), ['a.test'], 'the refused reload left the certificates as they were');
    failing = false;
    assert.equal((await gateway.reload()).applied, true);
    assert.deepEqual(names(), ['b.test']);
  });
});

describe('tls.acme.caRoot at start', () => {
  const configWith = (caRoot: string) =>
    `tls:\n  listen: 127.0.0.1:0\n  acme:\n    email: ops@example.com\n    directory: http://127.0.0.1:9/directory\n    caRoot: ${caRoot}\n`;
  for (const [what, caRoot, error] of [
    ['missing', './missing-ca.pem', /^tls\.acme\.caRoot: \/.*\/missing-ca\.pem: cannot be read \(ENOENT/],
    ['a key, not a certificate', 'KEY', /^tls\.acme\.caRoot: .*good\.key: not a PEM certificate/],
  ] as const) {
    it(`${what}: the start fails naming it (it surfaced only as each order's error)`, async (t) => {
      const bed = await FakeGatewayBed.create(configWith(caRoot === 'KEY' ? good.key : caRoot));
      t.after(() => bed.dispose());
      await assert.rejects(bed.start(), (err: Error) => err.name === 'ConfigError' && error.test(err.message));
    });
  }
});
