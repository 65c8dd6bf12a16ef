/**
 * Seed 004 (django_docker_engine): `client.run(spec)` answered the container's URL. An
 * apply answers, per app, where each of its routes is served, so a client needs no
 * second call to find it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeGatewayBed } from '../support/fake-gateway.js';

describe('POST /v1/apps answers the app URLs', () => {
  it('names each route of each applied app, for a created and an unchanged app alike', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const base = `http://127.0.0.1:${gateway.adminAddress!.port}`;
    const proxyPort = gateway.proxyAddress!.port;
    const yaml =
      'apiVersion: berth/v1\nname: basic\nimage: fake/web:1\nport: 8080\nroutes: [{path: /docker/basic/}, {host: "*.apps.example.com"}]\n' +
      '---\napiVersion: berth/v1\nname: plain\nimage: fake/web:1\nport: 8080\n';
    for (const action of ['created', 'unchanged']) {
      const res = await fetch(`${base}/v1/apps`, { method: 'POST', headers: { authorization: `Bearer ${bed.adminToken}`, 'content-type': 'application/yaml' }, body: yaml });
      assert.equal(res.status, 200);
      const answer = (await res.json()) as { results: Array<{ name: string; action: string; urls: string[] }> };
      assert.deepEqual(
        answer.results.map((r) => [r.name, r.action, r.urls]),
        [
          ['basic', action, [`http://127.0.0.1:${proxyPort}/docker/basic/`, `http://basic.apps.example.com:${proxyPort}/`]],
          ['plain', action, [`http://127.0.0.1:${proxyPort}/session/plain/`]],
        ],
      );
    }
  });
});
