import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { dashboardHandler, findStaticDir, staticPath } from '../../src/ui/serve-ui.js';

test('the static files are found from the compiled module', () => {
  const dir = findStaticDir();
  assert.ok(dir, 'src/ui/static/ is found');
  assert.match(dir, /src[/\\]ui[/\\]static[/\\]?$/);
});

test('staticPath keeps every request inside the static directory', () => {
  const dir = '/srv/static';
  assert.equal(staticPath(dir, 'index.html'), join(dir, 'index.html'));
  assert.equal(staticPath(dir, 'js/main.js'), join(dir, 'js/main.js'));
  for (const bad of ['../x.js', '..%2fx.js', '%2e%2e/x.js', 'js/../../x.js', '.env.js', 'js/.x.js', 'a\\..\\x.js', 'x.js%00.css', '%E0%A4%A.js', 'js//main.js', 'js/', 'serve-ui.ts', 'x.map']) {
    assert.equal(staticPath(dir, bad), undefined, bad);
  }
});

async function serve(): Promise<{ server: Server; url: string }> {
  const handler = dashboardHandler();
  const server = createServer((req, res) => {
    if (!handler(req, res)) {
      res.writeHead(418);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('serves the page and assets with their types and policy, and leaves every other path alone', async () => {
  const { server, url } = await serve();
  try {
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const css = await fetch(`${url}/ui/app.css`);
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    const etag = css.headers.get('etag');
    assert.ok(etag);
    assert.equal((await fetch(`${url}/ui/app.css`, { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await fetch(`${url}/ui/favicon.svg`)).headers.get('content-type'), 'image/svg+xml');
    assert.equal((await fetch(`${url}/ui/missing.js`)).status, 404);
    assert.equal((await fetch(`${url}/elsewhere`)).status, 418, 'not the dashboard: left to the API');
    assert.equal((await fetch(`${url}/`, { method: 'POST' })).status, 418, 'only GET and HEAD');
  } finally {
    server.close();
  }
});
