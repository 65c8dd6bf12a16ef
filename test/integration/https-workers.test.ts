// HTTPS with `workers: 2` (`berth serve` as a child process): the control
// loads and orders the certificates, every proxy worker serves them. A file
// certificate and an ACME one (pebble, HTTP-01 answered by whichever worker
// the CA reaches), HTTP/1.1 and HTTP/2 over TLS, HSTS, redirects with the
// workers' TLS port, a changed certificate file, and a replaced worker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupByLabel, testRun } from '../support/docker-cleanup.js';
import { DnsResponder } from '../support/dns-responder.js';
import { freePort } from '../support/free-port.js';
import { GatewayProcess, workerPids } from '../support/gateway-process.js';
import { httpGet } from '../support/gateway-harness.js';
import { makeCa, makeLeaf, type TestCa } from '../support/openssl-certs.js';
import { Pebble } from '../support/pebble.js';
import { h2Request, servedCertificate } from '../support/tls-client.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const app = `tw${run.id}`;
const fileHost = `${app}-file.example.test`;
const acmeHost = `${app}-acme.example.test`;
const T = { timeout: 90_000 };

/** One HTTP/1.1 request over TLS (no h2 offered), on a connection of its own. */
function https1(port: number, host: string, path: string, ca: string): Promise<{ status: number; body: string; alpn: string | false | undefined }> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, servername: host, headers: { host }, ca, agent: false, ALPNProtocols: ['http/1.1'], timeout: 20_000 };
    const req = httpsRequest(options as RequestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), alpn: (res.socket as { alpnProtocol?: string | false }).alpnProtocol }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('no answer in 20 s')));
    req.end();
  });
}

/** Runs `check` once with each worker alone accepting (the others frozen: the listening sockets are shared). */
async function onEachWorker<T>(gateway: number, check: (worker: number) => Promise<T>): Promise<T[]> {
  const workers = workerPids(gateway);
  assert.equal(workers.length, 2, 'two workers');
  const out: T[] = [];
  for (const alone of workers) {
    const frozen = workers.filter((w) => w !== alone);
    for (const w of frozen) process.kill(w, 'SIGSTOP');
    try {
      out.push(await check(alone));
    } finally {
      for (const w of frozen) process.kill(w, 'SIGCONT');
    }
  }
  return out;
}

describe('HTTPS with workers: 2', () => {
  let gw: GatewayProcess | undefined;
  let dns: DnsResponder | undefined;
  let pebble: Pebble | undefined;
  let dir = '';
  let ca: TestCa;
  let pair: { cert: string; key: string };
  let root = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-tlsw-'));
    ca = await makeCa(dir);
    pair = await makeLeaf(dir, ca, 'file', [fileHost]);
    dns = await DnsResponder.start(() => false);
    const plainPort = await freePort();
    pebble = await Pebble.start({ httpPort: plainPort, dnsPort: dns.port });
    root = await pebble.issuerRoot();
    gw = await GatewayProcess.start({
      listen: `127.0.0.1:${plainPort}`,
      extraConfig:
        `workers: 2\ntls:\n  listen: 127.0.0.1:0\n  redirect: true\n  certificates:\n    - {cert: ${pair.cert}, key: ${pair.key}}\n` +
        `  acme:\n    email: ops@example.test\n    directory: ${pebble.directory}\n    caRoot: ${pebble.caFile}\n    checkEvery: 2s\n`,
      apps: {
        [app]:
          `apiVersion: berth/v1\nname: ${app}\nimage: berth-test/app:latest\nport: 8080\nreadiness: {path: /healthz}\n` +
          `labels: {berth-test: "true", berth-test-run: "${run.id}"}\nroutes:\n  - host: ${fileHost}\n  - host: ${acmeHost}\nhsts: {maxAge: 1d}\n`,
      },
    });
    assert.ok(gw.httpsPort > 0, 'the TLS port is printed');
    await waitFor('two workers', () => workerPids(gw!.pid!).length === 2, { timeoutMs: 10_000 });
  });

  after(async () => {
    for (const w of gw?.pid ? workerPids(gw.pid) : []) {
      try {
        process.kill(w, 'SIGCONT');
      } catch {
        // gone already
      }
    }
    await gw?.dispose();
    await pebble?.stop();
    await dns?.close();
    await cleanupByLabel(run.label);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('an ACME certificate ordered by the control (HTTP-01 answered by a worker) and a file one: each worker serves both, HTTP/1.1 and HTTP/2, with HSTS', T, async () => {
    const port = gw!.httpsPort;
    await waitFor('the ACME certificate served', () => servedCertificate(port, acmeHost, root).catch(() => undefined), { timeoutMs: 60_000, intervalMs: 300 });
    const seen = await onEachWorker(gw!.pid!, async () => {
      const file = await servedCertificate(port, fileHost, ca.pem);
      const acme = await servedCertificate(port, acmeHost, root);
      const h1 = await https1(port, acmeHost, '/ping', root);
      const h2 = await h2Request(port, fileHost, '/ping', ca.pem);
      return { file: file.cert.subjectaltname, acme: JSON.stringify(acme.cert.issuer), h1, h2: { status: h2.status, body: h2.body, hsts: h2.headers['strict-transport-security'] } };
    });
    for (const s of seen) {
      assert.equal(s.file, `DNS:${fileHost}`);
      assert.match(s.acme, /Pebble/i);
      assert.deepEqual(s.h1, { status: 200, body: 'pong', alpn: 'http/1.1' });
      assert.deepEqual(s.h2, { status: 200, body: 'pong', hsts: 'max-age=86400' });
    }
    // Plain HTTP is sent to the TLS port the workers bound (the config said 0).
    const plain = await httpGet(gw!.proxyPort, '/a?b=1', { host: fileHost });
    assert.equal(plain.status, 308);
    assert.equal(plain.headers.location, `https://${fileHost}:${port}/a?b=1`);
  });

  test('a changed certificate file reaches every worker, and a worker forked after a kill serves what is current', T, async () => {
    const port = gw!.httpsPort;
    const before = await servedCertificate(port, fileHost, ca.pem);
    const fresh = await makeLeaf(dir, ca, 'file2', [fileHost]);
    await copyFile(fresh.key, pair.key);
    await copyFile(fresh.cert, pair.cert);
    const serials = await onEachWorker(gw!.pid!, () =>
      waitFor('the new certificate served', async () => {
        const served = await servedCertificate(port, fileHost, ca.pem);
        return served.cert.serialNumber !== before.cert.serialNumber ? served.cert.serialNumber : undefined;
      }, { timeoutMs: 20_000, intervalMs: 200 }),
    );
    assert.equal(serials[0], serials[1], 'both workers serve the same new certificate');

    const [victim, survivor] = workerPids(gw!.pid!) as [number, number];
    process.kill(victim, 'SIGKILL');
    const replacement = await waitFor('a replacement worker', () => workerPids(gw!.pid!).find((p) => p !== victim && p !== survivor), { timeoutMs: 15_000 });
    // The replacement alone accepts: it got the edge in its hello.
    process.kill(survivor, 'SIGSTOP');
    try {
      const served = await waitFor('the replacement serves TLS', () => servedCertificate(port, fileHost, ca.pem).catch(() => undefined), { timeoutMs: 15_000, intervalMs: 200 });
      assert.equal(served.cert.serialNumber, serials[0]);
      assert.match(JSON.stringify((await servedCertificate(port, acmeHost, root)).cert.issuer), /Pebble/i);
      assert.equal((await https1(port, fileHost, '/ping', ca.pem)).status, 200);
    } finally {
      process.kill(survivor, 'SIGCONT');
    }
    assert.ok(workerPids(gw!.pid!).includes(replacement));
    assert.ok(gw!.alive, 'the gateway lives on');
  });
});
