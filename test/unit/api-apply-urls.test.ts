/**
 * Seed 004 (django_docker_engine): `client.run(spec)` answered the container's URL. An
 * apply answers, per app, where each of its routes is served, so a client needs no
 * second call to find it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { routeUrl } from '../../src/api/app-view.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { makeCa, makeLeaf } from '../support/openssl-certs.js';

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

// With `tls.redirect`, plain HTTP answers every route with 308: a URL shown as `http://…` only
// redirects. The API (routes[].url, an apply's urls, cntSpawner's url) shows the HTTPS URL the
// redirect names, as the serve banner does; a route that opts out keeps its plain URL.
describe('URLs shown with tls.redirect', () => {
  it('routeUrl: https on redirectPort (443 left out) or the listener port; http where nothing redirects', () => {
    const proxy = { address: '127.0.0.1', port: 8080 };
    const https = { address: '127.0.0.1', port: 8443 };
    assert.equal(routeUrl({ stripPrefix: false, path: '/a/' }, 'a', { proxy, https, redirect: true }), 'https://127.0.0.1:8443/a/');
    assert.equal(routeUrl({ stripPrefix: false, host: '*.apps.test' }, 'a', { proxy, https, redirect: true, redirectPort: 443 }), 'https://a.apps.test/');
    assert.equal(routeUrl({ stripPrefix: false, host: 'x.test', redirectHttps: false }, 'a', { proxy, https, redirect: true }), 'http://x.test:8080/');
    assert.equal(routeUrl({ stripPrefix: false, path: '/a/', redirectHttps: true }, 'a', { proxy, https, redirect: false }), 'https://127.0.0.1:8443/a/');
    assert.equal(routeUrl({ stripPrefix: false, path: '/a/' }, 'a', { proxy, https, redirect: false }), 'http://127.0.0.1:8080/a/');
    assert.equal(routeUrl({ stripPrefix: false, path: '/a/', redirectHttps: true }, 'a', { proxy }), 'http://127.0.0.1:8080/a/', 'no TLS listener: nothing redirects');
  });

  it('GET /v1/apps/NAME, POST /v1/apps and POST /v1/ answer the HTTPS URL', async (t) => {
    const certs = await mkdtemp(join(tmpdir(), 'berth-urls-'));
    t.after(() => rm(certs, { recursive: true, force: true }));
    const ca = await makeCa(certs);
    const leaf = await makeLeaf(certs, ca, 'leaf', ['web.apps.test']);
    const bed = await FakeGatewayBed.create(`tls:\n  listen: 127.0.0.1:0\n  redirect: true\n  redirectPort: 443\n  certificates: [{cert: ${JSON.stringify(leaf.cert)}, key: ${JSON.stringify(leaf.key)}}]\n`);
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const spec = { apiVersion: 'berth/v1', name: 'web', image: 'fake/web:1', port: 8080, routes: [{ host: '*.apps.test' }, { path: '/plain/', redirectHttps: false }] };
    const applied = await bed.api(gateway, 'POST', '/v1/apps', spec);
    assert.equal(applied.status, 200, JSON.stringify(applied.json));
    const proxyPort = gateway.proxyAddress!.port;
    assert.deepEqual(applied.json.results[0].urls, ['https://web.apps.test/', `http://127.0.0.1:${proxyPort}/plain/`]);
    const got = await bed.api(gateway, 'GET', '/v1/apps/web');
    assert.deepEqual(got.json.routes.map((r: { url: string }) => r.url), ['https://web.apps.test/', `http://127.0.0.1:${proxyPort}/plain/`]);
    const spawned = await bed.api(gateway, 'POST', '/v1/', { name: 'sess', image: 'fake/x:1', port: 8080, labels: { 'traefik.http.routers.sess.rule': 'PathPrefix(`/session/sess/`)' } });
    assert.equal(spawned.status, 201, JSON.stringify(spawned.json));
    assert.equal(spawned.json.url, 'https://127.0.0.1/session/sess/');
  });
});
