import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteTable, remainderAfterPrefix, trailingSlashRedirect } from '../../src/proxy/route-table.js';

const table = new RouteTable([
  { app: 'hello', routes: [{ path: '/session/hello/', stripPrefix: false }] },
  { app: 'strip', routes: [{ path: '/s/strip/', stripPrefix: true }] },
  { app: 'deep', routes: [{ path: '/session/hello/deep/', stripPrefix: false }] },
  { app: 'byhost', routes: [{ host: 'alice.example.com', stripPrefix: false }] },
  { app: 'hostpath', routes: [{ host: 'alice.example.com', path: '/api/', stripPrefix: true }] },
  { app: 'wild', routes: [{ host: '*.apps.example.com', stripPrefix: false }] },
  { app: 'other', routes: [{ host: '*.apps.example.com', stripPrefix: false }] },
  { app: 'root', routes: [{ path: '/', stripPrefix: false }] },
]);

const cases: Array<[host: string | undefined, path: string, app: string | undefined, upstreamPath?: string]> = [
  ['localhost:8080', '/session/hello/', 'hello', '/session/hello/'],
  ['localhost', '/session/hello', 'hello', '/session/hello'],
  ['localhost', '/session/hello?x=1', 'hello', '/session/hello?x=1'],
  ['localhost', '/session/hello/a/b?q', 'hello', '/session/hello/a/b?q'],
  ['localhost', '/session/helloworld', 'root', '/session/helloworld'],
  ['localhost', '/session/hello/deep/x', 'deep', '/session/hello/deep/x'],
  ['localhost', '/session/hello/deeper', 'hello', '/session/hello/deeper'],
  ['localhost', '/s/strip/a?b=c', 'strip', '/a?b=c'],
  ['localhost', '/s/strip', 'strip', '/'],
  ['localhost', '/s/strip?x', 'strip', '/?x'],
  ['ALICE.example.com:80', '/anything', 'byhost', '/anything'],
  ['alice.example.com', '/api/v1', 'hostpath', '/v1'],
  ['alice.example.com', '/apix', 'byhost', '/apix'],
  ['wild.apps.example.com', '/x', 'wild', '/x'],
  ['other.apps.example.com', '/', 'other', '/'],
  ['nobody.apps.example.com', '/z', 'root', '/z'],
  ['a.b.apps.example.com', '/z', 'root', '/z'],
  [undefined, '/session/hello/', 'hello', '/session/hello/'],
];

for (const [host, path, app, upstreamPath] of cases) {
  test(`route ${host ?? '(no host)'} ${path} → ${app ?? 'none'}`, () => {
    const match = table.match(host, path);
    assert.equal(match?.app, app);
    if (upstreamPath !== undefined) assert.equal(match?.upstreamPath, upstreamPath);
  });
}

test('no route without a catch-all', () => {
  const t = new RouteTable([{ app: 'a', routes: [{ path: '/a/', stripPrefix: false }] }]);
  assert.equal(t.match('x', '/b'), undefined);
  assert.equal(t.match('x', '/'), undefined);
  assert.equal(t.match('x', '/ab'), undefined);
});

test('an exact host without a matching path falls back to host-less routes', () => {
  const t = new RouteTable([
    { app: 'h', routes: [{ host: 'h.example.com', path: '/only/', stripPrefix: false }] },
    { app: 'p', routes: [{ path: '/other/', stripPrefix: false }] },
  ]);
  assert.equal(t.match('h.example.com', '/other/x')?.app, 'p');
  assert.equal(t.match('h.example.com', '/only/x')?.app, 'h');
});

test('remainderAfterPrefix matches whole segments only', () => {
  assert.equal(remainderAfterPrefix('/a/b', '/a/'), '/b');
  assert.equal(remainderAfterPrefix('/a', '/a/'), '/');
  assert.equal(remainderAfterPrefix('/ab', '/a/'), undefined);
  assert.equal(remainderAfterPrefix('/', '/'), '/');
});

test('a trailing dot (the DNS root) is ignored on both sides; the match carries the authority', () => {
  const t = new RouteTable([
    { app: 'dotted', routes: [{ host: 'dotted.example.', stripPrefix: false }] },
    { app: 'wild', routes: [{ host: '*.w.example', stripPrefix: false }] },
  ]);
  assert.equal(t.match('dotted.example', '/')?.app, 'dotted');
  assert.equal(t.match('Dotted.Example.:80', '/')?.app, 'dotted');
  assert.equal(t.match('wild.w.example.', '/x')?.app, 'wild');
  assert.equal(t.match('dotted.example', '/x', 'dotted.example:8080')?.authority, 'dotted.example:8080');
  assert.equal(t.match('dotted.example', '/x')?.authority, 'dotted.example');
});

test('a stripping route names the prefix it stripped (X-Forwarded-Prefix); others none', () => {
  assert.equal(table.match('localhost', '/s/strip/a')?.strippedPrefix, '/s/strip');
  assert.equal(table.match('alice.example.com', '/api/v1')?.strippedPrefix, '/api');
  assert.equal(table.match('localhost', '/session/hello/x')?.strippedPrefix, undefined);
  const root = new RouteTable([{ app: 'r', routes: [{ path: '/', stripPrefix: true }] }]);
  assert.equal(root.match('x', '/a')?.strippedPrefix, undefined);
  assert.equal(root.match('x', '/a')?.upstreamPath, '/a');
});

/** [method, url, expected Location of the redirect to the prefix with its slash, relative to the request]. */
const slashCases: Array<[method: string, url: string, location: string | undefined]> = [
  ['GET', '/s/strip', './strip/'],
  ['HEAD', '/s/strip?x=1&y', './strip/?x=1&y'],
  ['GET', '/s/strip/', undefined],
  ['GET', '/s/strip/a?b', undefined],
  ['POST', '/s/strip', undefined],
  ['GET', '/session/hello', undefined], // not stripped: the app sees /session/hello and decides
];

for (const [method, url, location] of slashCases) {
  test(`${method} ${url} on a stripping route → ${location ?? 'forwarded'}`, () => {
    const match = table.match('localhost', url);
    assert.ok(match);
    assert.equal(trailingSlashRedirect(match, method, url), location);
  });
}

// A proxy in front that mounts berth under /berth/ strips it: the browser is at /berth/s/strip,
// berth sees /s/strip. The Location `/s/strip/` (berth's view) took the browser out of the mount,
// to whatever the proxy in front serves at /s/strip/ (another service, another tenant's app).
const mountCases: Array<[prefix: string, browserUrl: string, berthUrl: string, landing: string]> = [
  ['/s/strip/', 'https://front.example/berth/s/strip?x=1', '/s/strip?x=1', 'https://front.example/berth/s/strip/?x=1'],
  ['/s/strip/', 'https://front.example/s/strip', '/s/strip', 'https://front.example/s/strip/'],
  // A segment with a colon must not read as a scheme (`a:b/` would be the URL a:b/).
  ['/s/a:b/', 'https://front.example/berth/s/a:b', '/s/a:b', 'https://front.example/berth/s/a:b/'],
  // A proxy that rewrites the prefix (/apps/x → /s/x) and keeps the last segment lands right too.
  ['/s/x/', 'https://front.example/apps/x?q', '/s/x?q', 'https://front.example/apps/x/?q'],
];

for (const [prefix, browserUrl, berthUrl, landing] of mountCases) {
  test(`the bare-prefix redirect of ${browserUrl} (berth sees ${berthUrl}) lands at ${landing}`, () => {
    const t = new RouteTable([{ app: 'a', routes: [{ path: prefix, stripPrefix: true }] }]);
    const match = t.match('front.example', berthUrl);
    assert.ok(match);
    const location = trailingSlashRedirect(match, 'GET', berthUrl);
    assert.ok(location !== undefined);
    assert.equal(new URL(location, browserUrl).href, landing);
  });
}

test('reaches agrees with match: a route without a host is not reached on a host whose own routes take all its paths', () => {
  const t = new RouteTable([
    { app: 'admin', routes: [{ host: 'internal.example', stripPrefix: false }] },
    { app: 'pub', routes: [{ path: '/session/pub/', stripPrefix: false }] },
    { app: 'api', routes: [{ host: 'shop.example', path: '/session/', stripPrefix: false }] },
  ]);
  assert.equal(t.reaches('internal.example', 'pub'), false);
  assert.equal(t.reaches('shop.example', 'pub'), false, '/session/ on shop.example takes /session/pub/…');
  assert.equal(t.reaches('other.example', 'pub'), true);
  assert.equal(t.reaches('internal.example', 'admin'), true);
  assert.equal(t.reaches('INTERNAL.example.:80', 'admin'), true);
  assert.equal(t.reaches('other.example', 'admin'), false);
  assert.equal(t.reaches(undefined, 'pub'), true);
  assert.equal(t.reaches('other.example', 'nope'), false);
});

test('property: reaches(host, app) holds exactly when some path on that host matches app', () => {
  // Small universes, so a finite set of paths is every case: each prefix with and without its
  // slash, below it, with a query, and a path no route names.
  const hosts = ['a.example', 'x.apps.example', 'y.apps.example', 'other.example'];
  const routeHosts = [undefined, 'a.example', '*.apps.example'];
  const prefixes = ['/', '/p/', '/p/q/', '/r/', '/p?/'];
  const apps = ['x', 'y', 'z'];
  const paths = ['', '/', '/zz', '/p', '/p/', '/p/zz', '/p?k', '/p/q', '/p/q/zz', '/p/q?k', '/r', '/r/zz', '/p?/zz', '/p?'];
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let run = 0; run < 300; run++) {
    const table = apps.map((app) => ({
      app,
      routes: Array.from({ length: 1 + next(3) }, () => {
        const host = routeHosts[next(routeHosts.length)];
        const route: { host?: string; path: string; stripPrefix: boolean } = { path: prefixes[next(prefixes.length)]!, stripPrefix: false };
        if (host !== undefined) route.host = host;
        return route;
      }),
    }));
    const t = new RouteTable(table);
    for (const host of hosts) {
      for (const app of apps) {
        const reached = paths.some((path) => t.match(host, path)?.app === app);
        assert.equal(t.reaches(host, app), reached, `${app} on ${host} in ${JSON.stringify(table)}`);
      }
    }
  }
});
