import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';
import { timedGet } from '../support/http-requests.js';

// No request reaches an app here: the upstreams only answer the status question.
const nowhere = { host: '127.0.0.1', port: 9 };
let proxy: ProxyServer;
let port = 0;

before(async () => {
  const routes = new RouteTable([
    { app: 'shop', routes: [{ host: 'shop.example', path: '/store/', stripPrefix: false }] },
    { app: 'admin', routes: [{ host: 'internal.example', stripPrefix: false }] },
    { app: 'pub', routes: [{ path: '/session/pub/', stripPrefix: false }] },
    { app: 'wild', routes: [{ host: '*.apps.example', stripPrefix: false }] },
  ]);
  const upstreams = new StaticUpstreams({ shop: nowhere, admin: nowhere, pub: nowhere, wild: nowhere });
  proxy = new ProxyServer({ routes, upstreams, logger: pino({ level: 'silent' }) });
  port = (await proxy.listen('127.0.0.1', 0)).port;
});

after(async () => {
  await proxy.close(1000);
});

const status = (host: string, app: string) => timedGet(port, `/_berth/status/${app}`, { headers: { host }, timeoutMs: 10_000 });

test('the status endpoint answers for an app its Host reaches, whatever the path of its route', async () => {
  for (const [host, app] of [
    ['shop.example', 'shop'],
    ['SHOP.example.:8080', 'shop'],
    ['internal.example', 'admin'],
    ['wild.apps.example', 'wild'],
    // A route without a host is reached through any host.
    ['shop.example', 'pub'],
    ['anything.example', 'pub'],
  ] as const) {
    const reply = await status(host, app);
    assert.equal(reply.status, 200, `${app} on ${host}`);
    assert.equal((JSON.parse(reply.body) as { app: string }).app, app);
  }
});

test('on a Host that does not reach it, an app that exists is answered exactly as one that does not', async () => {
  const unknown = await status('shop.example', 'nope');
  assert.equal(unknown.status, 404);
  for (const [host, app] of [
    ['shop.example', 'admin'],
    ['anything.example', 'admin'],
    ['anything.example', 'shop'],
    ['other.apps.example', 'wild'],
    ['internal.example', 'wild'],
    // A route without a host is not reached on a host whose own route takes every path.
    ['internal.example', 'pub'],
  ] as const) {
    const reply = await status(host, app);
    assert.equal(reply.status, 404, `${app} on ${host}`);
    // The same answer, but for the name the client sent itself.
    assert.equal(reply.body.replaceAll(app, 'nope'), unknown.body, `${app} on ${host}`);
    assert.equal(reply.headers['content-type'], unknown.headers['content-type']);
  }
});
