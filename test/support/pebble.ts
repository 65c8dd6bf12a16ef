import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { freePort } from './free-port.js';
import { makeCa, makeLeaf } from './openssl-certs.js';

export interface PebbleOptions {
  /** The port pebble's HTTP-01 validation dials on every host (berth's plain listener). */
  httpPort: number;
  /** The DNS server pebble resolves hosts with (127.0.0.1:port). */
  dnsPort: number;
}

/**
 * Let's Encrypt's test CA (Debian's `pebble`) on 127.0.0.1 with a config of its
 * own in a temp dir: its ACME server's certificate is made here by openssl
 * (`caFile` is what berth's tls.acme.caRoot names); the root it issues under
 * (`issuerRoot()`) is trusted by the test's clients only.
 */
export class Pebble {
  private output = '';

  private constructor(
    readonly dir: string,
    private readonly child: ChildProcess,
    readonly port: number,
    readonly managementPort: number,
    readonly caFile: string,
    readonly caPem: string,
  ) {}

  get directory(): string {
    return `https://127.0.0.1:${this.port}/dir`;
  }

  static async start(options: PebbleOptions): Promise<Pebble> {
    const dir = await mkdtemp(join(tmpdir(), 'berth-pebble-'));
    try {
      const ca = await makeCa(dir, 'pebble listener CA');
      // Dialled as 127.0.0.1 by berth, as localhost by the test.
      const leaf = await makeLeaf(dir, ca, 'pebble', ['localhost', '127.0.0.1']);
      const [port, managementPort, tlsPort] = [await freePort(), await freePort(), await freePort()];
      const config = {
        pebble: {
          listenAddress: `127.0.0.1:${port}`,
          managementListenAddress: `127.0.0.1:${managementPort}`,
          certificate: leaf.cert,
          privateKey: leaf.key,
          httpPort: options.httpPort,
          tlsPort,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
        },
      };
      await writeFile(join(dir, 'pebble.json'), JSON.stringify(config));
      const child = spawn('pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${options.dnsPort}`], {
        cwd: dir,
        // No sleeps before validation, no nonces refused at random: fast and deterministic.
        env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const pebble = new Pebble(dir, child, port, managementPort, ca.cert, ca.pem);
      await pebble.ready();
      return pebble;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pebble did not start within 15 s:\n${this.output}`)), 15_000);
      const onData = (chunk: Buffer) => {
        this.output += chunk.toString();
        if (this.output.includes('ACME directory available')) {
          clearTimeout(timer);
          resolve();
        }
      };
      this.child.stdout!.on('data', onData);
      this.child.stderr!.on('data', onData);
      this.child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`pebble exited (${code}):\n${this.output}`));
      });
    });
  }

  /** The root pebble issues under (made afresh at each start). */
  issuerRoot(): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.managementPort, path: '/roots/0', ca: this.caPem, servername: 'localhost', agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`pebble /roots/0 answered ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
  }

  get log(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
