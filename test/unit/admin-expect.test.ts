// `Expect: 100-continue` on the admin listener: the client is asked for its body only once the
// Host, the token, the route and its Content-Length were checked, so a refused upload is refused
// before its body crosses the wire (and its connection closes: the body may never come); an Expect
// berth cannot meet gets 417.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { adminHostNames } from '../../src/api/admin-host.js';
import { AdminServer } from '../../src/api/admin-server.js';
import { MAX_BODY_BYTES } from '../../src/api/body.js';
import type { RouteDef } from '../../src/api/route-def.js';
import { TokenService } from '../../src/api/token-service.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { TokenStore } from '../../src/store/store.js';
import { hasWholeResponse, RawClient } from '../support/raw-client.js';

const TOKEN = 'berth_test_admin_token';

const noTokens: TokenStore = {
  createToken: () => Promise.reject(new Error('not in this test')),
  listTokens: () => Promise.resolve([]),
  findTokenByHash: () => Promise.resolve(undefined),
  revokeToken: () => Promise.resolve(false),
  touchToken: () => Promise.resolve(),
  countTokens: () => Promise.resolve(1),
};

const routes: RouteDef[] = [
  { method: 'POST', path: '/v1/body', operationId: 'body', summary: '', tag: 'test', responses: { 200: 'ok' }, requestBody: { description: 'any JSON', contentTypes: ['application/json'] }, handle: async (ctx) => ({ body: { bytes: (await ctx.body()).length } }) },
];

let server: AdminServer;
let port = 0;
const clients: RawClient[] = [];

before(async () => {
  const logger = pino({ level: 'silent' });
  server = new AdminServer({
    gateway: {} as Gateway,
    tokens: new TokenService(noTokens, TOKEN, logger),
    routes,
    logger,
    bindHost: '127.0.0.1',
    allowedHosts: () => adminHostNames('127.0.0.1', []),
  });
  port = (await server.listen('127.0.0.1', 0)).port;
});

after(async () => {
  for (const c of clients) c.destroy();
  await server.close();
});

async function open(): Promise<RawClient> {
  const c = await RawClient.open(port);
  clients.push(c);
  return c;
}

function upload(length: number, extra: string, expect = '100-continue'): string {
  return `POST /v1/body HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nExpect: ${expect}\r\n${extra}\r\n`;
}

const auth = `Authorization: Bearer ${TOKEN}\r\n`;

for (const [what, head, status] of [
  ['without a token', upload(4, ''), 401],
  ['over the body bound', upload(MAX_BODY_BYTES + 1, auth), 413],
] as const) {
  test(`an upload ${what} gets its ${status} with no 100 before it, and the connection closes`, async () => {
    const c = await open();
    c.write(head);
    const text = await c.untilClosed();
    assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} `), text);
    assert.doesNotMatch(text, /100 Continue/);
    assert.match(text, /\r\nconnection: close\r\n/i);
  });
}

test('an upload with its token is asked for its body, answered, and its connection kept', async () => {
  const c = await open();
  c.write(upload(4, auth));
  await c.until((t) => t.includes('\r\n\r\n'));
  assert.equal(c.text, 'HTTP/1.1 100 Continue\r\n\r\n');
  c.write('{  }');
  await c.until((t) => hasWholeResponse(t.slice(t.indexOf('HTTP/1.1 200'))));
  assert.match(c.text, /HTTP\/1\.1 200 OK\r\n[^]*\{\s*"bytes": 4\s*\}\s*$/, c.text);
  c.clear();
  c.write(upload(2, auth) + '{}');
  await c.until((t) => /"bytes": 2\s*}\s*$/.test(t));
  assert.ok(!c.closed, 'the connection is kept');
});

test('an Expect other than 100-continue gets 417 problem+json, and the connection closes', async () => {
  const c = await open();
  c.write(upload(4, auth, 'something-else'));
  const text = await c.untilClosed();
  assert.match(text, /^HTTP\/1\.1 417 Expectation Failed\r\n/, text);
  assert.match(text, /\r\nconnection: close\r\n/i);
  assert.match(text, /"code":"expectation_failed"/);
});
