// A client that leaves while it sends a request body (a CLI's Ctrl-C during an apply, a
// dropped connection) is an everyday event, not a bug of the gateway. Node ends the body
// with an 'aborted' error; it reached the admin server's catch-all as an unknown error,
// which logged 'API call failed' at error level with a stack (an operator's alert) and
// tried to answer a 500 on the gone connection. It is now the catalogue's client_closed,
// logged at debug.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { it } from 'node:test';
import { pino } from 'pino';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { waitFor } from '../support/wait-for.js';

for (const [what, method, path] of [
  ['an apply (a body the operation takes)', 'POST', '/v1/apps'],
  ['a start (an operation that takes no body)', 'POST', '/v1/apps/gone/start'],
] as const) {
  it(`${what}: the client leaving mid-body is logged at debug, nothing at error`, async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const lines: Array<{ level: number; msg: string; code?: string }> = [];
    const gateway = await bed.start({ logger: pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) }) });
    const socket = connect(gateway.adminAddress!.port, '127.0.0.1');
    t.after(() => socket.destroy());
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${bed.adminToken}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"apiVersion":',
    );
    // The body's first bytes are read before the client leaves.
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.destroy();
    const left = (l: { level: number; msg: string }) => l.msg === 'API client left before its answer' || l.level >= 50;
    await waitFor('the request to be seen ending', () => lines.some(left), { timeoutMs: 10_000 });
    assert.deepEqual(lines.filter((l) => l.level >= 50).map((l) => l.msg), []);
    assert.equal(lines.find(left)?.code, 'client_closed');
    const health = await fetch(`http://127.0.0.1:${gateway.adminAddress!.port}/v1/health`, { headers: { authorization: `Bearer ${bed.adminToken}` } });
    assert.equal(health.status, 200);
  });
}
