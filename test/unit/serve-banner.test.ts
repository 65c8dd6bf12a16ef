// What `berth serve` prints once it listens: the proxy, the admin API and the dashboard
// (the README sends users to both), and each app's URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serveBanner } from '../../src/cli/serve-banner.js';

test('the banner names the proxy, HTTPS, the API and dashboard, and every route', () => {
  const lines = serveBanner({
    proxy: { address: '127.0.0.1', port: 8080 },
    https: { address: '::1', port: 8443 },
    admin: { address: '127.0.0.1', port: 8081 },
    stateDir: '/srv/berth/data',
    tokenFromEnv: false,
    apps: [
      { name: 'hello', routes: [{ path: '/session/hello/', stripPrefix: false }, { host: 'hello.localhost', stripPrefix: false }] },
      { name: 'web', routes: [{ host: '*.apps.test', stripPrefix: false }] },
    ],
  });
  assert.deepEqual(lines, [
    'berth is serving on http://127.0.0.1:8080',
    'HTTPS (HTTP/2) on [::1]:8443',
    'admin API on http://127.0.0.1:8081/v1/, dashboard on http://127.0.0.1:8081/ (use the token in /srv/berth/data/admin-token)',
    '  hello: http://127.0.0.1:8080/session/hello/',
    "  hello: curl -H 'Host: hello.localhost' http://127.0.0.1:8080/",
    "  web: curl -H 'Host: web.apps.test' http://127.0.0.1:8080/",
  ]);
});

test('routes redirected to HTTPS are shown at their HTTPS URL, a route that opts out at its plain one', () => {
  const lines = serveBanner({
    proxy: { address: '127.0.0.1', port: 8080 },
    https: { address: '127.0.0.1', port: 8443 },
    stateDir: '/d',
    tokenFromEnv: false,
    redirect: true,
    apps: [
      { name: 'hello', routes: [{ path: '/session/hello/', stripPrefix: false }, { host: 'hello.localhost', stripPrefix: false }] },
      { name: 'plain', routes: [{ host: '*.apps.test', stripPrefix: false, redirectHttps: false }] },
    ],
  });
  assert.deepEqual(lines.slice(2), [
    '  hello: https://127.0.0.1:8443/session/hello/',
    "  hello: curl --resolve 'hello.localhost:8443:127.0.0.1' https://hello.localhost:8443/",
    "  plain: curl -H 'Host: plain.apps.test' http://127.0.0.1:8080/",
  ]);
});

test('an IPv6 admin address is bracketed, and BERTH_ADMIN_TOKEN is named when it holds the token', () => {
  const lines = serveBanner({ proxy: { address: '::1', port: 1 }, admin: { address: '::1', port: 2 }, stateDir: '/d', tokenFromEnv: true, apps: [] });
  assert.deepEqual(lines, ['berth is serving on http://[::1]:1', 'admin API on http://[::1]:2/v1/, dashboard on http://[::1]:2/ (use the token in BERTH_ADMIN_TOKEN)']);
});

test("the API's apps are counted after the config's, with where to list them (a restart showed only the config's apps)", () => {
  const facts = { proxy: { address: '127.0.0.1', port: 8080 }, stateDir: '/d', tokenFromEnv: false, apps: [{ name: 'web', routes: [{ path: '/web/', stripPrefix: true }] }] };
  assert.deepEqual(serveBanner({ ...facts, servedApps: 3 }).slice(1), ['  web: http://127.0.0.1:8080/web/', '  and 2 more apps added through the API: berth ls']);
  assert.deepEqual(serveBanner({ ...facts, servedApps: 2 }).at(-1), '  and 1 more app added through the API: berth ls');
  assert.deepEqual(serveBanner({ ...facts, servedApps: 1 }).at(-1), '  web: http://127.0.0.1:8080/web/');
  assert.deepEqual(serveBanner(facts).at(-1), '  web: http://127.0.0.1:8080/web/');
});
