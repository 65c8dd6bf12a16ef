// What a long-running gateway holds per app must go with the app, whichever way the
// app leaves: apps come and go all day (sessions, previews), so anything kept per app
// after it left grows for as long as berth runs. Whole gateways on a real SQLite file
// and the fake engine (test/support/fake-gateway.ts).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { httpGet } from '../support/gateway-harness.js';

const HEAD = 'listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\npolicy:\n  images: ["fake/*"]\n';
const app = (name: string) => `  - {apiVersion: berth/v1, name: ${name}, image: "fake/${name}:1", port: 8080, readiness: {path: /healthz}}\n`;

/** The app names the admin API's /v1/metrics has series for. */
async function metricApps(bed: FakeGatewayBed, gateway: Awaited<ReturnType<FakeGatewayBed['start']>>): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${gateway.adminAddress!.port}/v1/metrics`, { headers: { authorization: `Bearer ${bed.adminToken}` } });
  assert.equal(res.status, 200);
  return [...new Set([...(await res.text()).matchAll(/app="([^"]+)"/g)].map((m) => m[1]!))].sort();
}

describe('apps that leave take what the gateway held for them', () => {
  it('apps dropped from the config file by reloads: told as deleted, their metric series and accounting gone', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const config = join(bed.dir, 'berth.yaml');
    await writeFile(config, `${HEAD}apps:\n${app('keep')}${app('p0')}`);
    const gateway = await bed.start();
    const deleted: string[] = [];
    t.after(gateway.events.subscribe((e) => void (e.type === 'deleted' && deleted.push(e.app))));
    const cycles = 6;
    for (let i = 0; i < cycles; i++) {
      assert.equal((await httpGet(gateway.proxyAddress!.port, `/session/p${i}/`)).status, 200);
      // Each reload swaps the preview for the next one, as a CI pipeline's config would.
      await writeFile(config, `${HEAD}apps:\n${app('keep')}${app(`p${i + 1}`)}`);
      const outcome = await gateway.reload();
      assert.equal(outcome.applied, true, outcome.error);
    }
    assert.deepEqual(deleted, Array.from({ length: cycles }, (_, i) => `p${i}`));
    const left = (await metricApps(bed, gateway)).filter((name) => name !== 'keep' && name !== `p${cycles}`);
    assert.deepEqual(left, [], 'no series of an app the config no longer declares');
  });
});
