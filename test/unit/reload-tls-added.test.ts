// A `tls` block added by a reload is served only from the next start (its listener opens
// at start), and was not looked at until then: a missing or mismatched certificate file
// was accepted at the reload and failed the restart, long after the edit. It is checked at
// the reload now, as the start will check it; a good one is applied and named as taking
// effect at the restart. Real files and openssl certificates; a fake engine.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { makeCa, makeLeaf, type TestCa } from '../support/openssl-certs.js';

const HEAD = 'listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\npolicy:\n  images: ["fake/*"]\napps: []\n';
const tlsBlock = (cert: string, key: string, extra = '') => `tls:\n  listen: 127.0.0.1:0\n  certificates:\n    - {cert: ${cert}, key: ${key}}\n${extra}`;

let dir = '';
let ca: TestCa;
let good: { cert: string; key: string };
let other: { cert: string; key: string };
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-reload-tls-'));
  ca = await makeCa(dir);
  good = await makeLeaf(dir, ca, 'good', ['a.test']);
  other = await makeLeaf(dir, ca, 'other', ['b.test']);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a tls block added by a reload', () => {
  it('naming a certificate file that does not exist: refused, naming the file; the restart would have failed on it', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    await writeFile(join(bed.dir, 'berth.yaml'), HEAD + tlsBlock(join(dir, 'missing.crt'), good.key));
    const outcome = await gateway.reload();
    assert.equal(outcome.applied, false);
    assert.match(outcome.error ?? '', /tls\.certificates\[0\]: .*missing\.crt: cannot be read/);
    assert.equal(gateway.currentConfig?.tls, undefined, 'the configuration in force is unchanged');
  });

  it('with a key that is not the certificate’s: refused, naming the pair', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    await writeFile(join(bed.dir, 'berth.yaml'), HEAD + tlsBlock(good.cert, other.key));
    const outcome = await gateway.reload();
    assert.equal(outcome.applied, false);
    assert.match(outcome.error ?? '', /tls\.certificates\[0\]/);
  });

  it('with an ACME caRoot that cannot be read: refused, naming it', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const acme = `  acme:\n    email: ops@example.com\n    directory: http://127.0.0.1:9/directory\n    caRoot: ${join(dir, 'no-ca.pem')}\n`;
    await writeFile(join(bed.dir, 'berth.yaml'), HEAD + tlsBlock(good.cert, good.key, acme));
    const outcome = await gateway.reload();
    assert.equal(outcome.applied, false);
    assert.match(outcome.error ?? '', /tls\.acme\.caRoot/);
  });

  it('that checks out: applied, named as taking effect at the restart, nothing served over HTTPS before it', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const lines: Array<{ msg: string }> = [];
    const gateway = await bed.start({ logger: pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) }) });
    await writeFile(join(bed.dir, 'berth.yaml'), HEAD + tlsBlock(good.cert, good.key));
    const outcome = await gateway.reload();
    assert.equal(outcome.applied, true, outcome.error);
    assert.deepEqual(outcome.restartNeeded, ['tls']);
    assert.equal(gateway.httpsAddress, undefined);
    assert.ok(lines.some((l) => /tls block was checked .*HTTPS is served from the next start/.test(l.msg)), JSON.stringify(lines));
  });
});

describe('an acme block changed by a reload under a running tls block', () => {
  it('is named as needing a restart (the ACME client is made at start), and the configuration shown keeps the one in force', async (t) => {
    const bed = await FakeGatewayBed.create(tlsBlock(good.cert, good.key));
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const acme = `  acme:\n    email: ops@example.com\n    directory: http://127.0.0.1:9/directory\n`;
    await writeFile(join(bed.dir, 'berth.yaml'), HEAD + tlsBlock(good.cert, good.key, acme));
    const outcome = await gateway.reload();
    assert.equal(outcome.applied, true, outcome.error);
    assert.deepEqual(outcome.restartNeeded, ['tls']);
    assert.equal(gateway.currentConfig?.tls?.acme, undefined, 'no ACME runs until the restart, and none is shown');
  });

  it('with a caRoot that cannot be read: refused, naming it, as the restart that applies it would fail', async (t) => {
    const bed = await FakeGatewayBed.create(tlsBlock(good.cert, good.key));
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const acme = `  acme:\n    email: ops@example.com\n    directory: http://127.0.0.1:9/directory\n    caRoot: ${join(dir, 'no-ca.pem')}\n`;
    await writeFile(join(bed.dir, 'berth.yaml'), HEAD + tlsBlock(good.cert, good.key, acme));
    const outcome = await gateway.reload();
    assert.equal(outcome.applied, false);
    assert.match(outcome.error ?? '', /tls\.acme\.caRoot/);
  });
});

