// A gateway stopping (SIGTERM) closed its admin listener first, so a readiness probe
// (Kubernetes, a load balancer, Traefik in front) met refused connections, as for a
// crashed gateway, and could not be told the gateway was draining. The admin listener
// now closes last: through the drain GET /v1/health answers 503 `draining` while the
// proxy keeps serving the request in flight; the API only reads meanwhile.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { QUIET_STREAM_PATH, quietStreamGateway } from '../support/fake-gateway.js';
import { waitFor } from '../support/wait-for.js';

describe('GET /v1/health while the gateway drains', () => {
  it('answers 503 draining while a request is in flight, and the admin listener goes once the drain ends', async (t) => {
    // A drain bound well past the test: the drain ends because the client leaves, not because of it.
    const { bed, gateway } = await quietStreamGateway(t, 'drainTimeout: 20s\n');
    assert.equal((await bed.api(gateway, 'GET', '/v1/health')).json.status, 'ok');
    const adminPort = gateway.adminAddress!.port;
    const stream = connect(gateway.proxyAddress!.port, '127.0.0.1');
    stream.on('error', () => undefined);
    t.after(() => stream.destroy());
    let head = '';
    stream.on('data', (chunk: Buffer) => (head += chunk.toString('latin1')));
    stream.write(`GET ${QUIET_STREAM_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await waitFor('the stream\'s head', () => head.includes('\r\n\r\n'), { timeoutMs: 10_000 });

    const closing = bed.stop(gateway);
    const health = await waitFor(
      'health to say draining',
      async () => {
        const res = await bed.api(gateway, 'GET', '/v1/health');
        return res.status === 503 && res.json.status === 'draining' ? res : undefined;
      },
      { timeoutMs: 10_000 },
    );
    assert.equal(health.json.status, 'draining');
    assert.ok(!stream.destroyed && stream.readable, 'the request in flight is still served');
    // Reads only: a change accepted now would race the store and the activator closing after the drain.
    const stop = await bed.api(gateway, 'POST', '/v1/apps/s/stop');
    assert.equal(stop.status, 503);
    assert.match(stop.json.detail, /shutting down/);
    assert.equal((await bed.api(gateway, 'GET', '/v1/apps/s')).json.state, 'running');

    stream.destroy();
    await closing;
    await assert.rejects(fetch(`http://127.0.0.1:${adminPort}/v1/health`, { signal: AbortSignal.timeout(5_000) }), 'the admin listener is closed once the drain is over');
  });
});
