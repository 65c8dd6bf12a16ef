// The admin listener under hostile requests, over raw sockets so nothing is
// cleaned up by a client library first: every malformed target gets 400, a
// foreign Host 421, repeated bad tokens 429 while a valid token still works,
// a handler that throws gets 500, and after each case the listener still serves.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { adminHostNames } from '../../src/api/admin-host.js';
import { AdminServer } from '../../src/api/admin-server.js';
import { FailureThrottle } from '../../src/api/failure-throttle.js';
import type { RouteDef } from '../../src/api/route-def.js';
import { TokenService } from '../../src/api/token-service.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { TokenStore } from '../../src/store/store.js';

const TOKEN = 'berth_test_admin_token';

const noTokens: TokenStore = {
  createToken: () => Promise.reject(new Error('not in this test')),
  listTokens: () => Promise.resolve([]),
  findTokenByHash: () => Promise.resolve(undefined),
  revokeToken: () => Promise.resolve(false),
  touchToken: () => Promise.resolve(),
  countTokens: () => Promise.resolve(1),
};

function route(method: RouteDef['method'], path: string, handle: RouteDef['handle'], query?: RouteDef['query']): RouteDef {
  return { method, path, operationId: path, summary: '', tag: 'test', responses: { 200: 'ok' }, handle, query };
}

const routes: RouteDef[] = [
  route('GET', '/v1/echo/{name}', async (ctx) => ({ body: { name: ctx.params.name, q: ctx.query.get('q') } }), { q: { type: 'string', description: 'echoed' } }),
  route('POST', '/v1/body', async (ctx) => ({ body: { bytes: (await ctx.body()).length } })),
  route('GET', '/v1/boom', async () => {
    throw new TypeError('a bug in a handler');
  }),
  route('GET', '/v1/half', async (ctx) => {
    ctx.res.writeHead(200, { 'content-type': 'text/plain' });
    ctx.res.write('partial');
    throw new Error('failed half way');
  }),
];

interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

/** Sends `head` as is and reads until the server closes or the answer is complete; bounded by a timer. */
function raw(port: number, head: string, hangUp = false): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer to ${JSON.stringify(head.slice(0, 80))}; got ${JSON.stringify(data.slice(0, 200))}`));
    }, 5_000);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const [top = '', body = ''] = data.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = top.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1] ?? 0), headers, body, raw: data });
    };
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const end = data.indexOf('\r\n\r\n');
      const length = /content-length: *(\d+)/i.exec(data);
      if (end >= 0 && length && data.length >= end + 4 + Number(length[1])) finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', () => finish());
    if (hangUp) socket.end(head);
    else socket.write(head);
  });
}

const get = (target: string, host = 'localhost', extra = '') => `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`;
const auth = `Authorization: Bearer ${TOKEN}\r\n`;

describe('AdminServer at the edge', () => {
  let server: AdminServer;
  let port: number;
  let nowMs = 0;
  const logged: Array<Record<string, unknown>> = [];

  before(async () => {
    const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
    server = new AdminServer({
      gateway: {} as Gateway,
      tokens: new TokenService(noTokens, TOKEN, logger),
      routes,
      logger,
      bindHost: '127.0.0.1',
      allowedHosts: () => adminHostNames('127.0.0.1', ['admin.example.com']),
      throttle: new FailureThrottle({ freeFailures: 3, baseBlockMs: 2_000, now: () => nowMs }),
    });
    port = (await server.listen('127.0.0.1', 0)).port;
  });

  after(() => server.close());

  async function assertServing(what: string): Promise<void> {
    const ok = await raw(port, get('/v1/echo/x?q=1', 'localhost', auth));
    assert.equal(ok.status, 200, `still serving after ${what}: ${ok.raw.slice(0, 200)}`);
    assert.deepEqual(JSON.parse(ok.body), { name: 'x', q: '1' });
  }

  it('answers 400 problem+json to targets that do not parse, without a token, and keeps serving', async () => {
    const cases: Array<[string, string]> = [
      ['//%zz', get('//%zz')],
      ['absolute form with a broken host', get('http://[bad')],
      ['absolute form without a path', get('http://')],
      ['scheme-relative host', get('//evil.example.com/v1/echo/x')],
      ['bad escape in the path', get('/v1/echo/%zz')],
      ['bad escape in the query', get('/v1/echo/x?q=%')],
      ['invalid UTF-8 in a parameter', get('/v1/echo/%ff%fe', 'localhost', auth)],
      ['an overlong UTF-8 form', get('/v1/echo/%c0%af', 'localhost', auth)],
      ['asterisk form', get('*')],
      ['a fragment', get('/v1/echo/x#frag')],
    ];
    for (const [what, head] of cases) {
      const reply = await raw(port, head);
      assert.equal(reply.status, 400, `${what}: ${reply.raw.slice(0, 300)}`);
      assert.match(reply.headers['content-type'] ?? '', /application\/problem\+json/, what);
      assert.equal(JSON.parse(reply.body).status, 400, what);
      await assertServing(what);
    }
    // Node's own parser refuses these before berth sees them, with a plain 400.
    for (const [what, head] of [
      ['a relative target', get('v1/echo/x')],
      ['a control character in the target', get('/v1/\x01')],
      ['a space in the method', 'G T / HTTP/1.1\r\nHost: localhost\r\n\r\n'],
    ] as const) {
      const reply = await raw(port, head);
      assert.ok(reply.status === 400 || reply.raw === '', `${what}: ${reply.raw.slice(0, 200)}`);
      await assertServing(what);
    }
    for (const [what, head] of [
      ['a truncated request line, then a hang-up', 'GET /v1/echo/x HTTP/1.1\r\n\r'],
      ['half a header, then a hang-up', 'GET /v1/echo/x HTTP/1.1\r\nHost: loc'],
      ['a body shorter than its length, then a hang-up', `POST /v1/body HTTP/1.1\r\nHost: localhost\r\n${auth}Content-Length: 100\r\n\r\nshort`],
    ] as const) {
      const reply = await raw(port, head, true);
      assert.ok(reply.status >= 400 || reply.raw === '', `${what}: ${reply.raw.slice(0, 200)}`);
      await assertServing(what);
    }
  });

  it('answers the absolute form when its host is the listener\'s', async () => {
    const reply = await raw(port, get(`http://127.0.0.1:${port}/v1/echo/abs`, `127.0.0.1:${port}`, auth));
    assert.equal(reply.status, 200, reply.raw);
    assert.equal(JSON.parse(reply.body).name, 'abs');
  });

  it('answers 421 to Host names it does not serve, before authentication', async () => {
    const cases: Array<[string, string]> = [
      ['a rebinding name', get('/v1/echo/x', 'evil.example.com', auth)],
      ['a rebinding name with port', get('/v1/echo/x', `evil.example.com:${port}`, auth)],
      ['an absolute form naming another host', get('http://evil.example.com/v1/echo/x', 'localhost', auth)],
      ['the dashboard under a foreign name', get('/', 'evil.example.com')],
      ['no Host at all', `GET /v1/echo/x HTTP/1.0\r\n${auth}\r\n`],
    ];
    for (const [what, head] of cases) {
      const reply = await raw(port, head);
      assert.equal(reply.status, 421, `${what}: ${reply.raw.slice(0, 300)}`);
      const body = JSON.parse(reply.body);
      assert.equal(body.code, 'misdirected_request', what);
      assert.match(body.detail, /adminHosts/, what);
      await assertServing(what);
    }
    for (const host of ['localhost', `127.0.0.1:${port}`, `[::1]:${port}`, 'admin.example.com', 'ADMIN.example.com.:8081']) {
      assert.equal((await raw(port, get('/v1/echo/x', host, auth))).status, 200, host);
    }
  });

  it('answers 400 to a Host that is malformed, missing on HTTP/1.1, or repeated', async () => {
    const cases: Array<[string, string]> = [
      ['a malformed Host', get('/v1/echo/x', 'local host', auth)],
      ['an empty Host', get('/v1/echo/x', '', auth)],
      ['no Host on HTTP/1.1', `GET /v1/echo/x HTTP/1.1\r\n${auth}Connection: close\r\n\r\n`],
      ['two Hosts', `GET /v1/echo/x HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n${auth}Connection: close\r\n\r\n`],
    ];
    for (const [what, head] of cases) {
      const reply = await raw(port, head);
      assert.equal(reply.status, 400, `${what}: ${reply.raw.slice(0, 300)}`);
      await assertServing(what);
    }
  });

  it('refuses a very long target without falling over', async () => {
    const reply = await raw(port, get(`/v1/echo/${'a'.repeat(20_000)}`, 'localhost', auth));
    assert.ok(reply.status === 431 || reply.status === 414 || reply.status === 400 || reply.raw === '', `got ${reply.raw.slice(0, 100)}`);
    await assertServing('a very long target');
  });

  it('answers 429 with Retry-After to repeated bad tokens, never to a valid one from the same address', async () => {
    nowMs = 0;
    const bad = (i: number) => raw(port, get('/v1/echo/x', 'localhost', `Authorization: Bearer wrong-${i}\r\n`));
    for (let i = 0; i < 3; i++) assert.equal((await bad(i)).status, 401, `failure ${i} is a plain 401`);
    const limited = await bad(3);
    assert.equal(limited.status, 429, limited.raw);
    assert.equal(limited.headers['retry-after'], '2');
    assert.equal(JSON.parse(limited.body).code, 'too_many_requests');
    const started = Date.now();
    await assertServing('the address being blocked');
    assert.ok(Date.now() - started < 1_000, 'the valid token was not delayed');
    // The valid token cleared the address; three more failures are free again.
    for (let i = 4; i < 7; i++) assert.equal((await bad(i)).status, 401, `failure ${i} after the valid token`);
    assert.equal((await raw(port, get('/v1/echo/x', 'localhost'))).status, 429, 'no token at all is a failure too');
    assert.equal((await bad(7)).status, 429, 'still blocked');
    nowMs = 11 * 60_000;
    assert.equal((await bad(8)).status, 401, 'forgotten after a quiet spell');
  });

  it('turns a handler\'s bug into a 500 problem, logged once, and a bug after the answer started into a reset', async () => {
    logged.length = 0;
    const boom = await raw(port, get('/v1/boom', 'localhost', auth));
    assert.equal(boom.status, 500);
    assert.doesNotMatch(boom.body, /a bug in a handler/, 'the detail stays in the log');
    assert.equal(logged.filter((l) => l.msg === 'API call failed').length, 1);
    // The answer had started: the connection is cut (perhaps after the head), never ended as if complete.
    const half = await raw(port, get('/v1/half', 'localhost', auth));
    assert.ok(half.status === 200 || half.raw === '', half.raw);
    assert.ok(!/0\r\n\r\n$/.test(half.raw), 'the chunked body was not ended as if complete');
    await assertServing('handler bugs');
  });
});

describe('AdminServer connection cap', () => {
  it('refuses connections past its cap with 503 and serves again once they close', async () => {
    const logger = pino({ level: 'silent' });
    const server = new AdminServer({
      gateway: {} as Gateway,
      tokens: new TokenService(noTokens, TOKEN, logger),
      routes,
      logger,
      bindHost: '127.0.0.1',
      allowedHosts: () => adminHostNames('127.0.0.1', []),
      maxConnections: 3,
    });
    const port = (await server.listen('127.0.0.1', 0)).port;
    const idle = Array.from({ length: 3 }, () => connect(port, '127.0.0.1'));
    try {
      await Promise.all(idle.map((s) => new Promise((resolve) => s.once('connect', resolve))));
      for (const s of idle) s.on('error', () => undefined);
      await new Promise((r) => setTimeout(r, 50));
      const refused = await raw(port, get('/v1/echo/x', 'localhost', auth));
      assert.equal(refused.status, 503, refused.raw.slice(0, 200));
      assert.equal(refused.headers['retry-after'], '1');
      for (const s of idle) s.destroy();
      let ok: RawReply | undefined;
      for (let i = 0; i < 50 && ok?.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 20));
        ok = await raw(port, get('/v1/echo/x', 'localhost', auth));
      }
      assert.equal(ok?.status, 200);
    } finally {
      for (const s of idle) s.destroy();
      await server.close();
    }
  });
});
