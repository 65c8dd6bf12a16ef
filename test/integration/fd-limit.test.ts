// `berth serve` under a low open-file limit (prlimit --nofile=256:256 on the child):
// it says so at start, and a flood of idle connections on the admin listener (no
// token needed to open one) is capped below the limit, so the proxy goes on
// accepting and the admin API answers again once the flood ends.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { GatewayProcess } from '../support/gateway-process.js';
import { timedGet } from '../support/http-requests.js';
import { waitFor } from '../support/wait-for.js';

const NOFILE = 256;
/** More than the whole limit: before, the admin listener took up to 512 and the process ran out. */
const FLOOD = 300;
const T = { timeout: 60_000 };

describe('berth serve under a low open-file limit', () => {
  let gw: GatewayProcess;
  const flood: Socket[] = [];

  before(async () => {
    gw = await GatewayProcess.start({ apps: {}, appsNetwork: 'none', nofile: NOFILE });
  });

  after(async () => {
    for (const s of flood) s.destroy();
    await gw?.dispose();
  });

  test('warns at start that the limit is low', T, () => {
    assert.match(gw.allOutput, new RegExp(`open-file limit is ${NOFILE} \\(hard ${NOFILE}\\)`));
  });

  test('an admin flood is refused past its cap and does not starve the proxy', T, async () => {
    let closedByGateway = 0;
    for (let i = 0; i < FLOOD; i++) {
      const s = connect(gw.adminPort, '127.0.0.1');
      s.on('error', () => undefined);
      s.once('close', () => closedByGateway++);
      s.resume();
      flood.push(s);
    }
    // Past the admin cap (16 at 256) the gateway answers 503 and closes; the rest stay open.
    await waitFor('the admin listener to refuse the flood past its cap', () => closedByGateway >= FLOOD - 64, { timeoutMs: 20_000 });
    // The proxy still has descriptors to accept with: an unknown route is answered, not left hanging.
    const reply = await timedGet(gw.proxyPort, '/no-such-app/', { timeoutMs: 10_000 });
    assert.equal(reply.status, 404);
    gw.assertAlive('the admin flood');
    for (const s of flood) s.destroy();
    const health = await waitFor('the admin API to answer after the flood', async () => {
      const res = await gw.api('GET', '/v1/health').catch(() => undefined);
      return res?.status === 200 ? res : undefined;
    }, { timeoutMs: 20_000 });
    assert.equal(health.json.status, 'ok');
  });
});
