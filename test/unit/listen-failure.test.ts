// A listener that cannot open was told in Node's words ("listen EADDRINUSE: address
// already in use 127.0.0.1:8081"): no config key, and read as the `listen` key even when
// the admin listener failed. The refusal names the key and why, and nothing stays open.
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { listenFailure } from '../../src/net/listen-failure.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';

const errno = (code: string) => Object.assign(new Error(`listen ${code}: something 127.0.0.1:80`), { code });

test('each kernel refusal names the key, the address and why; other errors pass unchanged', () => {
  const cases: Array<[string, string, number, string, RegExp]> = [
    ['admin', '127.0.0.1', 8081, 'EADDRINUSE', /^admin: cannot listen on 127\.0\.0\.1:8081: the port is in use .*\(EADDRINUSE\)$/],
    ['listen', '203.0.113.9', 8080, 'EADDRNOTAVAIL', /^listen: cannot listen on 203\.0\.113\.9:8080: that address is not one of this host's \(EADDRNOTAVAIL\)$/],
    ['tls.listen', '::1', 443, 'EACCES', /^tls\.listen: cannot listen on \[::1\]:443: a port below 1024 needs root or the CAP_NET_BIND_SERVICE capability \(EACCES\)$/],
    ['listen', '0.0.0.0', 8080, 'EACCES', /^listen: cannot listen on 0\.0\.0\.0:8080: permission denied \(EACCES\)$/],
  ];
  for (const [key, host, port, code, expected] of cases) {
    const err = listenFailure(key, host, port, errno(code));
    assert.ok(err instanceof ConfigError, code);
    assert.match(err.message, expected);
  }
  const plain = new Error('something else');
  assert.equal(listenFailure('listen', '127.0.0.1', 1, plain), plain);
  assert.equal((listenFailure('listen', '127.0.0.1', 1, errno('EWHATEVER')) as Error).constructor, Error);
});

describe('a gateway whose admin port is taken', () => {
  it('refuses to start naming `admin`, and leaves no listener open', async (t) => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => blocker.close(resolve)));
    const taken = (blocker.address() as { port: number }).port;
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    await writeFile(join(bed.dir, 'berth.yaml'), `listen: 127.0.0.1:0\nadmin: 127.0.0.1:${taken}\nstore: ./berth.db\napps: []\n`);
    await assert.rejects(bed.start(), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, new RegExp(`^admin: cannot listen on 127\\.0\\.0\\.1:${taken}: the port is in use`));
      return true;
    });
    // The start was undone: the same config with the port free starts, on the same store.
    await new Promise((resolve) => blocker.close(resolve));
    const gateway = await bed.start();
    assert.equal(gateway.adminAddress?.port, taken);
    await bed.stop(gateway);
  });
});
